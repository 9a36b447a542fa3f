/** Creating or editing a job through the form; the destination's address and fields come from GET /providers. */
import type blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';
import { backupScheduleOf, destinationHelp, fieldOfError, FormValueError, formValuesOf, historyHelp, jobBodyOf, jobFormFields, type FormJob } from '../present/job-form.ts';
import { RETENTION_HELP } from '../present/retention.ts';
import { parseScheduleText } from '../present/schedule-text.ts';
import { runForm } from './form.ts';

/** Resolves with the saved job's name, or null when the owner left the form. */
export async function editJob(screen: blessed.Widgets.Screen, api: TuiApi, job: FormJob | null, color: boolean): Promise<string | null> {
  // Asked once when the form opens; without the providers no address can be read, so that error shows.
  const [providers, credentials] = await Promise.all([api.providers(), api.credentials().catch(() => [])]);
  const values = formValuesOf(job, providers, credentials);
  const help: Record<string, string> = { destination: destinationHelp(providers), history: historyHelp(providers), retention: RETENTION_HELP };
  let saved: FormJob | null = job;
  return runForm(
    screen,
    {
      title: job ? `Edit ${job.name}` : 'New job',
      fields: jobFormFields(providers).map((field) => ({ key: field.key, label: field.label, value: values[field.key], ...(help[field.key] ? { help: help[field.key] } : {}) })),
      async submit(entered) {
        let body;
        try {
          body = jobBodyOf(entered, providers, credentials, job);
        } catch (error) {
          if (!(error instanceof FormValueError)) throw error;
          throw new ApiError(400, `FORM:${error.field}`, error.message);
        }
        // A job that was saved while its schedule was refused is edited, not created twice.
        const answer = saved ? await api.updateJob(saved.id, body) : await api.createJob(body);
        saved = answer;
        const schedule = parseScheduleText(entered.schedule);
        const existing = backupScheduleOf(answer.schedules);
        if (schedule && existing) await api.updateSchedule(existing.id, schedule);
        else if (schedule) await api.createSchedule(answer.id, schedule);
        else if (existing && entered.schedule.trim() === '') await api.deleteSchedule(existing.id);
        return answer.name;
      },
      fieldOfError: (error) => (error.code.startsWith('FORM:') ? error.code.slice(5) : fieldOfError(error.code, error.message, providers)),
    },
    color,
  );
}
