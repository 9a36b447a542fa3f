/** /settings (contract: Settings). */
import type { ServerRoute } from '@hapi/hapi';
import { CairnError } from '../../domain/errors.ts';
import { settingsUpdateSchema, type SettingsUpdate } from '../../domain/settings.ts';
import type { SettingsService } from '../../settings/settings-service.ts';
import { answers, settingsSchema } from '../openapi/index.ts';
import { body } from '../validation.ts';
import { callerOf } from '../plugins/session-auth.ts';
import { policy } from '../plugins/route-policy.ts';

export function settingsRoutes(settings: SettingsService): ServerRoute[] {
  return [
    { method: 'GET', path: '/settings', options: answers(200, settingsSchema), handler: () => settings.get() },
    {
      method: 'PUT',
      path: '/settings',
      options: { ...policy({ audit: 'settings.update' }), ...answers(200, settingsSchema), validate: { payload: body(settingsUpdateSchema) } },
      handler: (request) => {
        const update = request.payload as SettingsUpdate;
        // The export passphrase seals every secret of the box into the file written beside each local
        // backup: like POST /system/export, only a logged-in session may choose it, never a key.
        const caller = callerOf(request);
        if (update.export_passphrase !== undefined && caller.kind === 'key') {
          throw new CairnError('forbidden', 'SCOPE_TOO_SMALL', '"export_passphrase" needs a logged-in session; API keys cannot set or remove the export passphrase', {
            details: { required_scope: 'session', key_scope: caller.key.scope },
          });
        }
        return settings.update(update);
      },
    },
  ];
}
