/**
 * A form of text fields, filled one after another (Enter moves on, Esc leaves). On submit the API
 * decides; its message is shown next to the field it is about, and editing resumes at that field.
 * Used by the job, settings and credential forms.
 */
import blessed from 'blessed';
import { ApiError } from '../api.ts';

export interface FormField {
  key: string;
  label: string;
  value: string;
  /** Typed characters are hidden (passwords, keys). */
  secret?: boolean;
  /** Shown below the fields while this one is being typed into (what it takes, how to get it). */
  help?: string;
}

export interface FormSpec<Result> {
  title: string;
  fields: FormField[];
  /** Sends the values; an ApiError sends the owner back to the field it names. */
  submit(values: Record<string, string>): Promise<Result>;
  /** The key of the field an API error is about. */
  fieldOfError(error: ApiError): string;
}

/** Resolves with what `submit` returned, or null when the owner left the form. */
export async function runForm<Result>(screen: blessed.Widgets.Screen, spec: FormSpec<Result>, color: boolean): Promise<Result | null> {
  const values = Object.fromEntries(spec.fields.map((field) => [field.key, field.value]));
  const count = spec.fields.length;
  // Room for the longest help, wrapped to the box's inner width.
  const inner = Math.max(20, Math.floor(Number(screen.width) * 0.9) - 4);
  const wanted = Math.max(0, ...spec.fields.map((field) => (field.help ?? '').split('\n').reduce((lines, line) => lines + (field.help ? Math.max(1, Math.ceil(line.length / inner)) : 0), 0)));
  // On a small terminal (80×24) the help is cut short rather than pushing the fields off the screen.
  const helpHeight = Math.max(0, Math.min(wanted, Number(screen.height) - count - 7));
  const box = blessed.box({ parent: screen, top: 'center', left: 'center', width: '90%', height: count + 7 + helpHeight, border: 'line', label: ` ${spec.title} `, tags: true });
  blessed.text({ parent: box, top: 0, left: 1, content: 'Enter: next field · Esc: leave · lists are comma-separated' });
  // Inputs start after the longest label ("› " + label + ":"), at least where they always have.
  const inputLeft = Math.max(17, ...spec.fields.map((field) => field.label.length + 5));
  const labels: blessed.Widgets.TextElement[] = [];
  const inputs = spec.fields.map((field, index) => {
    labels.push(blessed.text({ parent: box, top: 2 + index, left: 1, content: `  ${field.label}:` }));
    const input = blessed.textbox({ parent: box, top: 2 + index, left: inputLeft, width: `100%-${inputLeft + 3}`, height: 1, censor: field.secret, inputOnFocus: false, style: color ? { bg: 'blue' } : { inverse: true } });
    input.setValue(field.value);
    return input;
  });
  const problem = blessed.box({ parent: box, top: 3 + count, left: 1, width: '100%-4', height: 2, tags: true, content: '' });
  const help = blessed.box({ parent: box, top: 5 + count, left: 1, width: '100%-4', height: Math.max(1, helpHeight), content: '' });
  const read = (index: number) =>
    new Promise<string | null>((resolve) => {
      // A marker shows which field is being typed into.
      labels.forEach((label, i) => label.setContent(`${i === index ? '›' : ' '} ${spec.fields[i].label}:`));
      help.setContent(spec.fields[index].help ?? '');
      screen.render();
      inputs[index].readInput((_error, value) => resolve(value === undefined || value === null ? null : String(value)));
    });

  try {
    let start = 0;
    for (;;) {
      for (let index = start; index < spec.fields.length; index++) {
        const value = await read(index);
        if (value === null) return null;
        values[spec.fields[index].key] = value;
      }
      try {
        return await spec.submit(values);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const key = spec.fieldOfError(error);
        start = Math.max(0, spec.fields.findIndex((field) => field.key === key));
        const text = `› ${spec.fields[start].label}: ${error.message}`;
        problem.setContent(color ? `{red-fg}${blessed.escape(text)}{/red-fg}` : blessed.escape(text));
      }
    }
  } finally {
    box.destroy();
    screen.render();
  }
}
