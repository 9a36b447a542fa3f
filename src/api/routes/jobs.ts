/** /jobs: list, get, create, update, delete, run, cancel, clone (contract: Jobs); verify and prune runs of a snapshots job. */
import type { ServerRoute } from '@hapi/hapi';
import { CairnError } from '../../domain/errors.ts';
import { jobInputSchema, type JobInput } from '../../domain/jobs.ts';
import { verifyInputSchema, type VerifyInput } from '../../domain/runs.ts';
import { jobChangeSchema, type JobChange } from '../../jobs/job-change.ts';
import type { JobService } from '../../jobs/job-service.ts';
import { restoreInputSchema, type RestoreInput } from '../../jobs/restore-target.ts';
import type { RunManager } from '../../runs/index.ts';
import { answers, jobSchema, listOf, savedJobSchema, messageSchema, restoreStartedSchema, runStartedSchema, verifyStartedSchema } from '../openapi/index.ts';
import { idOf, idParam } from '../params.ts';
import { policy } from '../plugins/route-policy.ts';
import { callerOf } from '../plugins/session-auth.ts';
import { body } from '../validation.ts';

export function jobRoutes(jobs: JobService, runManager: RunManager): ServerRoute[] {
  const params = idParam;
  return [
    { method: 'GET', path: '/jobs', options: answers(200, listOf(jobSchema)), handler: () => jobs.list() },
    {
      method: 'GET',
      path: '/jobs/{id}',
      options: { ...answers(200, jobSchema), validate: { params } },
      handler: (request) => jobs.get(idOf(request)),
    },
    {
      method: 'POST',
      path: '/jobs',
      options: { ...policy({ audit: 'job.create' }), ...answers(201, savedJobSchema, [409]), validate: { payload: body(jobInputSchema) } },
      handler: async (request, h) => h.response(await jobs.create(request.payload as JobInput)).code(201),
    },
    {
      method: 'PUT',
      path: '/jobs/{id}',
      options: { ...policy({ audit: 'job.update' }), ...answers(200, savedJobSchema, [409]), validate: { params, payload: body(jobChangeSchema) } },
      handler: (request) => jobs.update(idOf(request), request.payload as JobChange),
    },
    {
      method: 'DELETE',
      path: '/jobs/{id}',
      options: { ...policy({ audit: 'job.delete' }), ...answers(200, messageSchema, [409]), validate: { params } },
      async handler(request) {
        await jobs.delete(idOf(request));
        return { message: 'Job deleted' };
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/run',
      options: { ...policy({ scope: 'operate', audit: 'run.start' }), ...answers(200, runStartedSchema, [409]), validate: { params } },
      async handler(request) {
        const run = await runManager.request(idOf(request), { trigger: 'manual' });
        return { run_id: run.id, message: 'Job started' };
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/restore',
      options: { ...policy({ scope: 'operate', audit: 'restore.start' }), ...answers(202, restoreStartedSchema, [409]), validate: { params, payload: body(restoreInputSchema) } },
      async handler(request, h) {
        const input = request.payload as RestoreInput;
        // Writing over the sources replaces the owner's live files with old ones: as destructive as
        // pruning, so it takes what pruning takes (admin), not the operate scope a restore needs.
        const caller = callerOf(request);
        if (input.overwrite_sources && caller.kind === 'key' && caller.key.scope !== 'admin') {
          throw new CairnError('forbidden', 'SCOPE_TOO_SMALL', '"overwrite_sources": true writes over the job\'s sources and needs an admin key (or a session)', {
            details: { required_scope: 'admin', key_scope: caller.key.scope },
          });
        }
        const started = await jobs.restore(idOf(request), input);
        return h.response({ ...started, message: 'Restore started' }).code(202);
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/verify',
      // `{}`: the newest snapshot, every file.
      options: { ...policy({ scope: 'operate', audit: 'verify.start' }), ...answers(202, verifyStartedSchema, [409, 503]), validate: { params, payload: body(verifyInputSchema) } },
      async handler(request, h) {
        const { run, snapshot_id } = await runManager.requestVerify(idOf(request), request.payload as VerifyInput);
        return h.response({ run_id: run.id, snapshot_id, message: `Verify of snapshot ${snapshot_id} started` }).code(202);
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/retention/apply',
      // Removes snapshots: configuring, not operating (an operate key may run and verify, not prune).
      options: { ...policy({ scope: 'admin', audit: 'retention.apply' }), ...answers(202, runStartedSchema, [409, 503]), validate: { params } },
      async handler(request, h) {
        const run = await runManager.requestPrune(idOf(request));
        return h.response({ run_id: run.id, message: 'Applying the retention policy' }).code(202);
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/cancel',
      options: { ...policy({ scope: 'operate', audit: 'run.cancel' }), ...answers(200, runStartedSchema, [409]), validate: { params } },
      async handler(request) {
        const run = await runManager.cancel(idOf(request));
        return { message: 'Job cancelled', run_id: run.id };
      },
    },
    {
      method: 'POST',
      path: '/jobs/{id}/clone',
      options: { ...policy({ audit: 'job.clone' }), ...answers(201, jobSchema), validate: { params } },
      handler: async (request, h) => h.response(await jobs.clone(idOf(request))).code(201),
    },
  ];
}
