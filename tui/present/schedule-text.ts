/**
 * Schedules as one line of text in the job form: "daily 02:00", "weekly sun 02:00",
 * "monthly 1 02:00", "cron 0 2 * * 1-5", or empty for none. Parsing only splits the text; the
 * API decides what is valid and its message is shown next to the field.
 */
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface ScheduleBody {
  schedule_type: string;
  hour?: number;
  minute?: number;
  day_of_week?: number;
  day_of_month?: number;
  cron_expression?: string;
}

const time = (hour: number | null, minute: number | null) => `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;

/** The text for a schedule as the API shows it. */
export function scheduleText(schedule: { schedule_type: string; hour: number | null; minute: number | null; day_of_week: number | null; day_of_month: number | null; cron_expression: string | null }): string {
  switch (schedule.schedule_type) {
    case 'daily':
      return `daily ${time(schedule.hour, schedule.minute)}`;
    case 'weekly':
      return `weekly ${DAYS[schedule.day_of_week ?? 0]} ${time(schedule.hour, schedule.minute)}`;
    case 'monthly':
      return `monthly ${schedule.day_of_month} ${time(schedule.hour, schedule.minute)}`;
    default:
      return `cron ${schedule.cron_expression}`;
  }
}

/** The API body for a line of text; null for an empty line. Unknown words pass through for the API to name. */
export function parseScheduleText(text: string): ScheduleBody | null {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  const [kind, ...rest] = words;
  const clock = (value: string | undefined) => {
    const match = value?.match(/^(\d{1,2}):(\d{2})$/);
    return match ? { hour: Number(match[1]), minute: Number(match[2]) } : {};
  };
  switch (kind.toLowerCase()) {
    case 'daily':
      return { schedule_type: 'daily', ...clock(rest[0]) };
    case 'weekly': {
      const day = DAYS.indexOf((rest[0] ?? '').slice(0, 3).toLowerCase());
      return { schedule_type: 'weekly', ...(day >= 0 ? { day_of_week: day } : {}), ...clock(rest[1]) };
    }
    case 'monthly':
      return { schedule_type: 'monthly', ...(/^\d+$/.test(rest[0] ?? '') ? { day_of_month: Number(rest[0]) } : {}), ...clock(rest[1]) };
    case 'cron':
      return { schedule_type: 'custom', cron_expression: rest.join(' ') };
    default:
      return { schedule_type: kind };
  }
}
