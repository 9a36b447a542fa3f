/** Creating or editing a job through the form. */
import type blessed from 'blessed';
import type { TuiApi } from '../api.ts';
import { fieldOfError, FORM_FIELDS, formValuesOf, jobBodyOf, type FormValues } from '../present/job-form.ts';
import { parseScheduleText } from '../present/schedule-text.ts';
import { runForm } from './form.ts';

/** Resolves with the saved job's name, or null when the owner left the form. */
export function editJob(screen: blessed.Widgets.Screen, api: TuiApi, job: any | null, color: boolean): Promise<string | null> {
  const values = formValuesOf(job);
  return runForm(
    screen,
    {
      title: job ? `Edit ${job.name}` : 'New job',
      fields: FORM_FIELDS.map((field) => ({ key: field.key, label: field.label, value: values[field.key] })),
      async submit(entered) {
        const body = jobBodyOf(entered as FormValues);
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
      fieldOfError: (error) => fieldOfError(error.code, error.message),
    },
    color,
  );
}
