/** /settings (contract: Settings). */
import type { ServerRoute } from '@hapi/hapi';
import { settingsUpdateSchema, type Settings } from '../../domain/settings.ts';
import type { SettingsRepository } from '../../store/index.ts';
import { body } from '../validation.ts';

export function settingsRoutes(settings: SettingsRepository, afterChange: () => void): ServerRoute[] {
  return [
    { method: 'GET', path: '/settings', handler: () => settings.get() },
    {
      method: 'PUT',
      path: '/settings',
      options: { validate: { payload: body(settingsUpdateSchema) } },
      async handler(request) {
        const updated = await settings.update(request.payload as Partial<Settings>);
        afterChange();
        return updated;
      },
    },
  ];
}
