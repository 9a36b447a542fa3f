/** Schedules of a job (contract: Schedules). */
import type { ServerRoute } from '@hapi/hapi';
import { notFound } from '../../domain/errors.ts';
import { normalizeScheduleInput, scheduleInputSchema, type ScheduleInput, type StoredSchedule } from '../../domain/schedules.ts';
import type { JobService } from '../../jobs/job-service.ts';
import { checkCronExpression, scheduleViewsOf } from '../../schedules/index.ts';
import type { ScheduleRepository, SettingsRepository } from '../../store/index.ts';
import { idOf, idParam } from '../params.ts';
import { body } from '../validation.ts';

function checkedInput(payload: unknown): ScheduleInput {
  const input = normalizeScheduleInput(payload as ScheduleInput);
  if (input.cron_expression !== null) checkCronExpression(input.cron_expression);
  return input;
}

export function scheduleRoutes(jobs: JobService, schedules: ScheduleRepository, settings: SettingsRepository, afterChange: () => void): ServerRoute[] {
  const params = idParam;
  const view = (schedule: StoredSchedule) => scheduleViewsOf([schedule], settings.get().timezone)[0];
  const requireSchedule = (id: number) => {
    const schedule = schedules.byId(id);
    if (!schedule) throw notFound('SCHEDULE_NOT_FOUND', 'Schedule not found');
    return schedule;
  };
  return [
    {
      method: 'GET',
      path: '/jobs/{id}/schedules',
      options: { validate: { params } },
      handler: (request) => jobs.get(idOf(request)).schedules,
    },
    {
      method: 'POST',
      path: '/jobs/{id}/schedules',
      options: { validate: { params, payload: body(scheduleInputSchema) } },
      async handler(request, h) {
        const job = jobs.require(idOf(request));
        const schedule = await schedules.create(job.id, checkedInput(request.payload));
        afterChange();
        return h.response(view(schedule)).code(201);
      },
    },
    {
      method: 'PUT',
      path: '/schedules/{id}',
      options: { validate: { params, payload: body(scheduleInputSchema) } },
      async handler(request) {
        const id = idOf(request);
        requireSchedule(id);
        const schedule = await schedules.update(id, checkedInput(request.payload));
        afterChange();
        return view(schedule);
      },
    },
    {
      method: 'DELETE',
      path: '/schedules/{id}',
      options: { validate: { params } },
      async handler(request) {
        const id = idOf(request);
        requireSchedule(id);
        await schedules.delete(id);
        afterChange();
        return { message: 'Schedule deleted' };
      },
    },
  ];
}
