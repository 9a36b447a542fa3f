/** /settings (contract: Settings). */
import type { ServerRoute } from '@hapi/hapi';
import { settingsUpdateSchema, type SettingsUpdate } from '../../domain/settings.ts';
import type { SettingsService } from '../../settings/settings-service.ts';
import { body } from '../validation.ts';
import { policy } from '../plugins/route-policy.ts';

export function settingsRoutes(settings: SettingsService): ServerRoute[] {
  return [
    { method: 'GET', path: '/settings', handler: () => settings.get() },
    {
      method: 'PUT',
      path: '/settings',
      options: { ...policy({ audit: 'settings.update' }), validate: { payload: body(settingsUpdateSchema) } },
      handler: (request) => settings.update(request.payload as SettingsUpdate),
    },
  ];
}
