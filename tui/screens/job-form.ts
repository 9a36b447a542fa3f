/** Creating or editing a job through the form. */
import type blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';
import { fieldOfError, FORM_FIELDS, FormValueError, formValuesOf, jobBodyOf, type FormValues } from '../present/job-form.ts';
import { parseScheduleText } from '../present/schedule-text.ts';
import { runForm } from './form.ts';

/** Resolves with the saved job's name, or null when the owner left the form. */
export async function editJob(screen: blessed.Widgets.Screen, api: TuiApi, job: any | null, color: boolean): Promise<string | null> {
  const credentials = await api.credentials().catch(() => []);
  const values = formValuesOf(job, credentials);
  return runForm(
    screen,
    {
      title: job ? `Edit ${job.name}` : 'New job',
      fields: FORM_FIELDS.map((field) => ({ key: field.key, label: field.label, value: values[field.key] })),
      async submit(entered) {
        let body;
        try {
          body = jobBodyOf(entered as FormValues, credentials);
        } catch (error) {
          if (!(error instanceof FormValueError)) throw error;
          throw new ApiError(400, `FORM_${error.field.toUpperCase()}`, error.message);
        }
        // A job that was saved while its schedule was refused is edited, not created twice.
        const saved = job ? await api.updateJob(job.id, body) : await api.createJob(body);
        job = saved;
        const schedule = parseScheduleText(entered.schedule);
        const existing = saved.schedules?.[0];
        if (schedule && existing) await api.updateSchedule(existing.id, schedule);
        else if (schedule) await api.createSchedule(saved.id, schedule);
        else if (existing && entered.schedule.trim() === '') await api.deleteSchedule(existing.id);
        return saved.name as string;
      },
      fieldOfError: (error) => (error.code.startsWith('FORM_') ? error.code.slice(5).toLowerCase() : fieldOfError(error.code, error.message)),
    },
    color,
  );
}
