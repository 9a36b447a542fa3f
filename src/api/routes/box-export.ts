/**
 * /system/export, /system/import and /system/import/destination: the box's own state, sealed with
 * the owner's passphrase, given as a file or read from where a box's backup is.
 * Session only: an API key (a phone's, a script's) can neither take every secret away in a file
 * it chose the passphrase of, nor replace the box's jobs.
 */
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { BoxExportService, DestinationToImport } from '../../box-export/index.ts';
import { answers, importSummarySchema, textBody } from '../openapi/index.ts';
import { policy } from '../plugins/route-policy.ts';
import { body } from '../validation.ts';

/** An export of a box with hundreds of jobs is well under this; the API's usual 1 MiB could be short. */
const IMPORT_MAX_BYTES = 16 * 1024 * 1024;
const passphrase = Joi.string().min(1).max(1024);

const count = Joi.number().integer().min(0).required();
/** What an import from a destination answers: the summary of `POST /system/import`, and which export it opened. */
const remoteImportSchema = Joi.object({
  message: Joi.string().required(),
  imported: Joi.object({ jobs: count, schedules: count, credentials: count, channels: count }).unknown(true).required(),
  replaced_copy: Joi.string().allow(null).required().description('With replace: the sealed copy of the state replaced; else null'),
  automatic_export: Joi.boolean().required(),
  disabled_jobs: Joi.array().items(Joi.string()).required().description('Jobs enabled on the exported box, imported disabled'),
  source: Joi.object({
    where: Joi.string().required().description('The destination read, without secrets'),
    box: Joi.string().allow('').required().description('Host name of the box that wrote the export'),
    created_at: Joi.string().isoDate().required(),
  })
    .unknown(true)
    .required(),
})
  .unknown(true)
  .label('RemoteImport');

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
    {
      method: 'POST',
      path: '/system/import/destination',
      options: {
        ...policy({ scope: 'session', audit: 'box.import' }),
        ...answers(200, remoteImportSchema),
        validate: {
          payload: body(
            Joi.object({
              destination_type: Joi.string().max(50).required(),
              destination_config: Joi.object().unknown(true).required(),
              // Used to read the export, never stored as such: the export's own credentials are what the box keeps.
              credential_data: Joi.object().pattern(Joi.string(), Joi.string()).allow(null).default(null),
              passphrase: passphrase.required(),
              replace: Joi.boolean().default(false),
            }),
          ),
        },
      },
      handler: (request) => {
        const { passphrase: given, replace, ...from } = request.payload as DestinationToImport & { passphrase: string; replace: boolean };
        return boxExport.importFromDestination(from, given, { replace });
      },
    },
  ];
}
