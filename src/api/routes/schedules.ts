/** Schedules of a job (contract: Schedules). */
import type { ServerRoute } from '@hapi/hapi';
import { scheduleInputSchema, type ScheduleInput } from '../../domain/schedules.ts';
import type { ScheduleService } from '../../schedules/index.ts';
import { answers, listOf, messageSchema, scheduleSchema } from '../openapi/index.ts';
import { idOf, idParam } from '../params.ts';
import { policy } from '../plugins/route-policy.ts';
import { body } from '../validation.ts';

export function scheduleRoutes(schedules: ScheduleService): ServerRoute[] {
  const params = idParam;
  return [
    {
      method: 'GET',
      path: '/jobs/{id}/schedules',
      options: { ...answers(200, listOf(scheduleSchema)), validate: { params } },
      handler: (request) => schedules.ofJob(idOf(request)),
    },
    {
      method: 'POST',
      path: '/jobs/{id}/schedules',
      options: { ...policy({ audit: 'schedule.create' }), ...answers(201, scheduleSchema), validate: { params, payload: body(scheduleInputSchema) } },
      handler: async (request, h) => h.response(await schedules.create(idOf(request), request.payload as ScheduleInput)).code(201),
    },
    {
      method: 'PUT',
      path: '/schedules/{id}',
      options: { ...policy({ audit: 'schedule.update' }), ...answers(200, scheduleSchema), validate: { params, payload: body(scheduleInputSchema) } },
      handler: (request) => schedules.update(idOf(request), request.payload as ScheduleInput),
    },
    {
      method: 'DELETE',
      path: '/schedules/{id}',
      options: { ...policy({ audit: 'schedule.delete' }), ...answers(200, messageSchema), validate: { params } },
      async handler(request) {
        await schedules.delete(idOf(request));
        return { message: 'Schedule deleted' };
      },
    },
  ];
}
