/** /credentials and /providers (contract: Credentials, Providers). */
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { ConnectionTestInput, CredentialService } from '../../credentials/credential-service.ts';
import { capabilitiesOf, providerCatalogue } from '../../destinations/index.ts';
import { credentialCreateSchema, credentialUpdateSchema } from '../../domain/credentials.ts';
import { answers, connectionTestSchema, credentialSchema, credentialUsageSchema, listOf, messageSchema, providerCapabilitiesSchema, providerSchema } from '../openapi/index.ts';
import { idOf, idParam, queryOf } from '../params.ts';
import { policy } from '../plugins/route-policy.ts';
import { body } from '../validation.ts';

const providerTestSchema = Joi.object({
  destination_type: Joi.string().max(50).required(),
  destination_config: Joi.object().unknown(true).required(),
  credential_id: Joi.number().integer().min(1).allow(null),
  credential_data: Joi.object().unknown(true).allow(null),
}).oxor('credential_id', 'credential_data');

export function credentialRoutes(credentials: CredentialService): ServerRoute[] {
  const params = idParam;

  return [
    {
      method: 'GET',
      path: '/credentials',
      options: { ...answers(200, listOf(credentialSchema)), validate: { query: Joi.object({ provider: Joi.string().max(50) }) } },
      handler: (request) => credentials.list(queryOf<{ provider?: string }>(request).provider),
    },
    { method: 'GET', path: '/credentials/{id}', options: { ...answers(200, credentialSchema), validate: { params } }, handler: (request) => credentials.get(idOf(request)) },
    {
      method: 'POST',
      path: '/credentials',
      options: { ...policy({ audit: 'credential.create' }), ...answers(201, credentialSchema), validate: { payload: body(credentialCreateSchema) } },
      handler: async (request, h) => h.response(await credentials.create(request.payload as never)).code(201),
    },
    {
      method: 'PUT',
      path: '/credentials/{id}',
      options: { ...policy({ audit: 'credential.update' }), ...answers(200, credentialSchema), validate: { params, payload: body(credentialUpdateSchema) } },
      handler: (request) => credentials.update(idOf(request), request.payload as never),
    },
    {
      method: 'DELETE',
      path: '/credentials/{id}',
      options: { ...policy({ audit: 'credential.delete' }), ...answers(200, messageSchema), validate: { params } },
      async handler(request) {
        await credentials.delete(idOf(request));
        return { message: 'Credential deleted' };
      },
    },
    { method: 'GET', path: '/credentials/{id}/usage', options: { ...answers(200, credentialUsageSchema), validate: { params } }, handler: (request) => credentials.usage(idOf(request)) },
    { method: 'GET', path: '/providers', options: answers(200, listOf(providerSchema)), handler: () => providerCatalogue() },
    {
      method: 'GET',
      path: '/providers/{type}/capabilities',
      options: { ...answers(200, providerCapabilitiesSchema), validate: { params: Joi.object({ type: Joi.string().max(50).required() }) } },
      handler: (request) => {
        const type = (request.params as { type: string }).type;
        return { provider_type: type, capabilities: capabilitiesOf(type) };
      },
    },
    {
      method: 'POST',
      path: '/providers/test',
      // Changes nothing; admin all the same, as it reaches out with saved credentials.
      options: { ...policy({ audit: false }), ...answers(200, connectionTestSchema), validate: { payload: body(providerTestSchema) } },
      handler: (request) => credentials.testConnection(request.payload as ConnectionTestInput),
    },
  ];
}
