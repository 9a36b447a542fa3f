/** /settings (contract: Settings). */
import type { ServerRoute } from '@hapi/hapi';
import { settingsUpdateSchema, type Settings } from '../../domain/settings.ts';
import type { SettingsRepository } from '../../store/index.ts';
import { body } from '../validation.ts';

export function settingsRoutes(settings: SettingsRepository): ServerRoute[] {
  return [
    { method: 'GET', path: '/settings', handler: () => settings.get() },
    {
      method: 'PUT',
      path: '/settings',
      options: { validate: { payload: body(settingsUpdateSchema) } },
      handler: (request) => settings.update(request.payload as Partial<Settings>),
    },
  ];
}
