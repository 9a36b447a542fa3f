/**
 * A job's history: its snapshots (list, get, delete, browse) and its retention policy (get, put,
 * preview). Restoring from a snapshot is `POST /jobs/:id/restore` with `snapshot_id` (routes/jobs.ts).
 */
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import type { RetentionPolicy } from '../../domain/retention.ts';
import { retentionPolicySchema } from '../../domain/retention-schema.ts';
import type { SnapshotService, TreeQuery } from '../../history/index.ts';
import type { JobService } from '../../jobs/job-service.ts';
import { answers, messageSchema, retentionPreviewSchema, snapshotListSchema, snapshotSchema, snapshotTreePageSchema } from '../openapi/index.ts';
import { idOf, idParam, paging, queryOf } from '../params.ts';
import { body } from '../validation.ts';

/** Tree pages: 200 entries unless asked, at most 1,000 (each is one stat on the drive). */
const TREE_PAGE = { default: 200, max: 1000 };

// An id is only compared with the job's listing, never used as a path; the length bounds the URL.
const snapshotParams = idParam.keys({ snapshot_id: Joi.string().min(1).max(100).required() });

/** A request that carried no body bytes (hapi gives such a request, and a JSON `null`, the same null payload). */
const noBody = Joi.object({ 'content-length': Joi.valid('0'), 'transfer-encoding': Joi.forbidden() }).unknown(true);

/** A policy to preview, or no body at all for the stored one; a body sent must be a policy (`null` is refused). */
const optionalPolicyBody = retentionPolicySchema
  .prefs({ convert: false, abortEarly: true })
  .when('$headers', { is: noBody, then: Joi.allow(null), otherwise: Joi.required() });

/** `{snapshot_id}` of a route declared with `snapshotParams`. */
const snapshotIdOf = (request: { params: unknown }) => (request.params as { snapshot_id: string }).snapshot_id;

export function snapshotRoutes(snapshots: SnapshotService, jobs: JobService): ServerRoute[] {
  const params = idParam;
  return [
    {
      method: 'GET',
      path: '/jobs/{id}/snapshots',
      options: { ...answers(200, snapshotListSchema), validate: { params } },
      handler: (request) => snapshots.list(idOf(request)),
    },
    {
      method: 'GET',
      path: '/jobs/{id}/snapshots/{snapshot_id}',
      options: { ...answers(200, snapshotSchema), validate: { params: snapshotParams } },
      handler: (request) => snapshots.get(idOf(request), snapshotIdOf(request)),
    },
    {
      method: 'DELETE',
      path: '/jobs/{id}/snapshots/{snapshot_id}',
      options: { ...answers(200, messageSchema), validate: { params: snapshotParams } },
      async handler(request) {
        await snapshots.remove(idOf(request), snapshotIdOf(request));
        return { message: 'Snapshot deleted' };
      },
    },
    {
      method: 'GET',
      path: '/jobs/{id}/snapshots/{snapshot_id}/tree',
      options: {
        ...answers(200, snapshotTreePageSchema, [409, 503]),
        validate: {
          params: snapshotParams,
          // The path's own rules (relative, no "..", no NUL) answer INVALID_PATH from the service.
          query: Joi.object({ path: Joi.string().allow('').max(4096).default(''), ...paging(TREE_PAGE.default, TREE_PAGE.max) }),
        },
      },
      handler: (request) => snapshots.tree(idOf(request), snapshotIdOf(request), queryOf<TreeQuery>(request)),
    },
    {
      method: 'GET',
      path: '/jobs/{id}/retention',
      options: { ...answers(200, retentionPolicySchema), validate: { params } },
      handler: (request) => jobs.get(idOf(request)).retention,
    },
    {
      method: 'PUT',
      path: '/jobs/{id}/retention',
      options: { ...answers(200, retentionPolicySchema), validate: { params, payload: body(retentionPolicySchema) } },
      handler: async (request) => (await jobs.update(idOf(request), { retention: request.payload as RetentionPolicy })).retention,
    },
    {
      method: 'POST',
      path: '/jobs/{id}/retention/preview',
      options: { ...answers(200, retentionPreviewSchema, [409, 503]), validate: { params, payload: optionalPolicyBody } },
      handler: (request) => snapshots.preview(idOf(request), (request.payload as RetentionPolicy | null) ?? null),
    },
  ];
}
