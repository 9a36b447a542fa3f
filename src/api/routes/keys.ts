/** /keys: API keys for phone apps and scripts (issue 16). Only a logged-in session manages keys. */
import type { ServerRoute } from '@hapi/hapi';
import type { ApiKeyService } from '../../auth/index.ts';
import { apiKeyInputSchema, type ApiKeyInput } from '../../domain/api-keys.ts';
import { answers, apiKeySchema, listOf, messageSchema, newApiKeySchema } from '../openapi/index.ts';
import { idOf, idParam } from '../params.ts';
import { policy } from '../plugins/route-policy.ts';
import { sessionOf } from '../plugins/session-auth.ts';
import { body } from '../validation.ts';

export function keyRoutes(keys: ApiKeyService): ServerRoute[] {
  const params = idParam;
  return [
    { method: 'GET', path: '/keys', options: { ...policy({ scope: 'session' }), ...answers(200, listOf(apiKeySchema)) }, handler: () => keys.list() },
    {
      method: 'POST',
      path: '/keys',
      options: { ...policy({ scope: 'session', audit: 'key.create' }), ...answers(201, newApiKeySchema, [409]), validate: { payload: body(apiKeyInputSchema) } },
      handler: async (request, h) => h.response(await keys.create(sessionOf(request).user.id, request.payload as ApiKeyInput)).code(201),
    },
    {
      method: 'DELETE',
      path: '/keys/{id}',
      options: { ...policy({ scope: 'session', audit: 'key.revoke' }), ...answers(200, messageSchema), validate: { params } },
      async handler(request) {
        const key = await keys.revoke(idOf(request));
        return { message: 'API key revoked', id: key.id, name: key.name };
      },
    },
  ];
}
