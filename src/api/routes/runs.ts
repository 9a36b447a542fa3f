/** Runs and logs (contract: Runs & Logs). */
import type { ServerRoute } from '@hapi/hapi';
import Joi from 'joi';
import { LOG_LEVELS, RUN_STATUSES, RUN_TRIGGERS, type LogLevel } from '../../domain/runs.ts';
import type { RunFilter, RunHistory } from '../../runs/index.ts';
import { answers, deletedCountSchema, listOf, logEntrySchema, messageSchema, runPageSchema, runSchema } from '../openapi/index.ts';
import { idOf, idParam, paging, queryOf } from '../params.ts';
import { policy } from '../plugins/route-policy.ts';

interface Page {
  limit: number;
  offset: number;
}

/** `GET /runs` filters: each optional; `until` must come after `since`. */
const runFilter = Joi.object({
  ...paging(50, 1000),
  job_id: Joi.number().integer().min(1).max(2 ** 31 - 1),
  status: Joi.string().valid(...RUN_STATUSES),
  trigger: Joi.string().valid(...RUN_TRIGGERS),
  since: Joi.date().iso(),
  until: Joi.date().iso().when('since', { is: Joi.exist(), then: Joi.date().greater(Joi.ref('since')) }),
});

export function runRoutes(history: RunHistory): ServerRoute[] {
  const params = idParam;
  return [
    {
      method: 'GET',
      path: '/runs',
      options: { ...answers(200, runPageSchema), validate: { query: runFilter } },
      handler: (request) => {
        const { limit, offset, ...filter } = queryOf<Page & RunFilter>(request);
        return history.list(filter, { limit, offset });
      },
    },
    {
      method: 'GET',
      path: '/jobs/{id}/runs',
      options: { ...answers(200, listOf(runSchema)), validate: { params, query: Joi.object(paging(20, 1000)) } },
      handler: (request, h) => {
        const { runs, total } = history.pageOfJob(idOf(request), queryOf<Page>(request));
        // The contract's body is the bare list, so the total rides in a header, as for logs.
        return h.response(runs).header('x-total-count', String(total));
      },
    },
    {
      method: 'DELETE',
      path: '/jobs/{id}/runs',
      options: { ...policy({ audit: 'runs.delete_of_job' }), ...answers(200, deletedCountSchema), validate: { params } },
      handler: async (request) => ({ message: 'Runs deleted', count: await history.deleteOfJob(idOf(request)) }),
    },
    {
      method: 'GET',
      path: '/runs/{id}',
      options: { ...answers(200, runSchema), validate: { params } },
      handler: (request) => history.get(idOf(request)),
    },
    {
      method: 'GET',
      path: '/runs/{id}/logs',
      options: {
        ...answers(200, listOf(logEntrySchema)),
        validate: { params, query: Joi.object({ ...paging(1000, 10_000), level: Joi.string().valid(...LOG_LEVELS) }) },
      },
      async handler(request, h) {
        const { entries, total } = await history.logsOf(idOf(request), queryOf<Page & { level?: LogLevel }>(request));
        // The contract's body is the bare list; the total rides in a header so clients can page to the end.
        return h.response(entries).header('x-total-count', String(total));
      },
    },
    {
      method: 'DELETE',
      path: '/runs/{id}',
      options: { ...policy({ audit: 'run.delete' }), ...answers(200, messageSchema, [409]), validate: { params } },
      async handler(request) {
        await history.delete(idOf(request));
        return { message: 'Run deleted' };
      },
    },
    {
      method: 'DELETE',
      path: '/runs',
      options: { ...policy({ audit: 'runs.delete_all' }), ...answers(200, deletedCountSchema) },
      handler: async () => ({ message: 'All runs deleted', count: await history.deleteAll() }),
    },
  ];
}
