/** /settings (contract: Settings). */
import type { ServerRoute } from '@hapi/hapi';
import { settingsUpdateSchema, type SettingsUpdate } from '../../domain/settings.ts';
import type { SettingsService } from '../../settings/settings-service.ts';
import { answers, settingsSchema } from '../openapi/index.ts';
import { body } from '../validation.ts';
import { policy } from '../plugins/route-policy.ts';

export function settingsRoutes(settings: SettingsService): ServerRoute[] {
  return [
    { method: 'GET', path: '/settings', options: answers(200, settingsSchema), handler: () => settings.get() },
    {
      method: 'PUT',
      path: '/settings',
      options: { ...policy({ audit: 'settings.update' }), ...answers(200, settingsSchema), validate: { payload: body(settingsUpdateSchema) } },
      handler: (request) => settings.update(request.payload as SettingsUpdate),
    },
  ];
}
