/** /jobs: list, get, create, update, delete, run, cancel, clone (contract: Jobs). */
import type { ServerRoute } from '@hapi/hapi';
import { invalid } from '../../domain/errors.ts';
import { jobInputSchema, type JobInput, type JobRecord } from '../../domain/jobs.ts';
import type { AllowedPaths } from '../../files/allowed-paths.ts';
import type { JobService } from '../../jobs/job-service.ts';
import { restoreInputSchema, restoreTargetFor, type RestoreInput } from '../../jobs/restore-target.ts';
import type { RunManager } from '../../runs/index.ts';
import { idOf, idParam } from '../params.ts';
import { body } from '../validation.ts';

/** A PUT body: any subset of a job's fields, types checked, no defaults filled in. */
const jobChangeSchema = jobInputSchema.fork(['name', 'source_dirs', 'destination_type', 'destination_config'], (key) => key.optional()).prefs({ noDefaults: true });

/**
 * Applies a PUT body to a job: given fields replace the stored ones, `sync_options` merges key by
 * key, and `destination_config` is replaced whole (its shape depends on the type).
 */
function mergeJobChange(job: JobRecord, change: Partial<JobInput>): JobInput {
  const merged = {
    name: change.name ?? job.name,
    description: change.description ?? job.description,
    enabled: change.enabled ?? job.enabled,
    source_dirs: change.source_dirs ?? job.source_dirs,
    destination_type: change.destination_type ?? job.destination_type,
    destination_config: change.destination_config ?? job.destination_config,
    sync_options: { ...job.sync_options, ...change.sync_options },
    credential_id: change.credential_id === undefined ? job.credential_id : change.credential_id,
  };
  const { error, value } = jobInputSchema.validate(merged, { convert: false });
  if (error) throw invalid('VALIDATION_FAILED', error.details[0]?.message ?? error.message);
  return value as JobInput;
}

export function jobRoutes(jobs: JobService, runManager: RunManager, allowedPaths: AllowedPaths): ServerRoute[] {
  const params = idParam;
  return [
    { method: 'GET', path: '/jobs', handler: () => jobs.list() },
    {
      method: 'GET',
      path: '/jobs/{id}',
      options: { validate: { params } },
      handler: (request) => jobs.get(idOf(request)),
    },
    {
      method: 'POST',
      path: '/jobs',
      options: { validate: { payload: body(jobInputSchema) } },
      handler: async (request, h) => h.response(await jobs.create(request.payload as JobInput)).code(201),
    },
    {
      method: 'PUT',
      path: '/jobs/{id}',
      options: { validate: { params, payload: body(jobChangeSchema) } },
      async handler(request) {
        const id = idOf(request);
        return jobs.update(id, mergeJobChange(jobs.require(id), request.payload as Partial<JobInput>));
      },
    },
    {
      method: 'DELETE',
      path: '/jobs/{id}',
      options: { validate: { params } },
      async handler(request) {
        await jobs.delete(idOf(request));
        return { message: 'Job deleted' };
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/run',
      options: { validate: { params } },
      async handler(request) {
        const run = await runManager.request(idOf(request), { trigger: 'manual' });
        return { run_id: run.id, message: 'Job started' };
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/restore',
      options: { validate: { params, payload: body(restoreInputSchema) } },
      async handler(request, h) {
        const id = idOf(request);
        const restore = await restoreTargetFor(jobs.require(id), request.payload as RestoreInput, allowedPaths);
        const run = await runManager.request(id, { trigger: 'restore', restore });
        return h.response({ run_id: run.id, target_dir: restore.target, message: 'Restore started' }).code(202);
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/cancel',
      options: { validate: { params } },
      async handler(request) {
        const run = await runManager.cancel(idOf(request));
        return { message: 'Job cancelled', run_id: run.id };
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/clone',
      options: { validate: { params } },
      handler: async (request, h) => h.response(await jobs.clone(idOf(request))).code(201),
    },
  ];
}
