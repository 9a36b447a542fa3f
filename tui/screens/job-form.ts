/**
 * Creating or editing a job: one field after another (Enter moves on, Esc leaves). The API checks
 * the job; its message is shown next to the field it is about, and editing resumes there.
 */
import blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';
import { fieldOfError, FORM_FIELDS, formValuesOf, jobBodyOf, type FormValues } from '../present/job-form.ts';

/** Resolves with the saved job's name, or null when the owner left the form. */
export async function editJob(screen: blessed.Widgets.Screen, api: TuiApi, job: any | null, color: boolean): Promise<string | null> {
  const values: FormValues = formValuesOf(job);
  const box = blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: '90%',
    height: FORM_FIELDS.length * 2 + 5,
    border: 'line',
    label: job ? ` Edit ${job.name} ` : ' New job ',
    tags: true,
  });
  blessed.text({ parent: box, top: 0, left: 1, content: 'Enter: next field · Esc: leave · lists are comma-separated' });
  const inputs = FORM_FIELDS.map((field, index) => {
    blessed.text({ parent: box, top: 2 + index * 2, left: 1, content: `${field.label}:` });
    const input = blessed.textbox({ parent: box, top: 2 + index * 2, left: 15, width: '100%-18', height: 1, inputOnFocus: false, style: color ? { bg: 'blue' } : { inverse: true } });
    input.setValue(values[field.key]);
    return input;
  });
  const problem = blessed.text({ parent: box, top: 2 + FORM_FIELDS.length * 2, left: 1, width: '100%-4', tags: true, content: '' });
  const read = (index: number) =>
    new Promise<string | null>((resolve) => {
      screen.render();
      inputs[index].readInput((_error, value) => resolve(value === undefined || value === null ? null : String(value)));
    });

  try {
    let start = 0;
    for (;;) {
      for (let index = start; index < FORM_FIELDS.length; index++) {
        const value = await read(index);
        if (value === null) return null;
        values[FORM_FIELDS[index].key] = value;
      }
      try {
        const body = jobBodyOf(values);
        const saved = job ? await api.updateJob(job.id, body) : await api.createJob(body);
        return saved.name as string;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const field = fieldOfError(error.code, error.message);
        start = FORM_FIELDS.findIndex((candidate) => candidate.key === field);
        const label = FORM_FIELDS[start].label;
        problem.top = 3 + start * 2;
        problem.setContent(color ? `{red-fg}↑ ${label}: ${error.message}{/red-fg}` : `↑ ${label}: ${error.message}`);
      }
    }
  } finally {
    box.destroy();
    screen.render();
  }
}
