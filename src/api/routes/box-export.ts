/**
 * /system/export and /system/import: the box's own state, sealed with the owner's passphrase.
 * Session only: an API key (a phone's, a script's) can neither take every secret away in a file
 * it chose the passphrase of, nor replace the box's jobs.
 */
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { BoxExportService } from '../../box-export/index.ts';
import { answers, importSummarySchema, textBody } from '../openapi/index.ts';
import { policy } from '../plugins/route-policy.ts';
import { body } from '../validation.ts';

/** An export of a box with hundreds of jobs is well under this; the API's usual 1 MiB could be short. */
const IMPORT_MAX_BYTES = 16 * 1024 * 1024;
const passphrase = Joi.string().min(1).max(1024);

export function boxExportRoutes(boxExport: BoxExportService, hostname: () => string): ServerRoute[] {
  return [
    {
      method: 'POST',
      path: '/system/export',
      options: { ...policy({ scope: 'session', audit: 'box.export' }), ...answers(200, textBody('application/octet-stream', 'The sealed export (docs/BOX-EXPORT.md), sent as an attachment named `cairn-<host>-<date>.cairn-box-export`')), validate: { payload: body(Joi.object({ passphrase: passphrase.required() })) } },
      async handler(request, h) {
        const file = await boxExport.export((request.payload as { passphrase: string }).passphrase);
        const name = `cairn-${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-${new Date().toISOString().slice(0, 10)}.cairn-box-export`;
        return h.response(file).type('application/octet-stream').header('content-disposition', `attachment; filename="${name}"`);
      },
    },
    {
      method: 'POST',
      path: '/system/import',
      options: {
        ...policy({ scope: 'session', audit: 'box.import' }),
        ...answers(200, importSummarySchema, [409]),
        payload: { maxBytes: IMPORT_MAX_BYTES },
        validate: { payload: body(Joi.object({ file: Joi.string().min(1).max(IMPORT_MAX_BYTES).required(), passphrase: passphrase.required(), replace: Joi.boolean().default(false) })) },
      },
      handler: (request) => {
        const { file, passphrase: given, replace } = request.payload as { file: string; passphrase: string; replace: boolean };
        return boxExport.import(file, given, { replace });
      },
    },
  ];
}
