/** Run statistics in the database (domain/run-stats.ts): recorded as runs finish, read by the dashboard and metrics. */
import { calendarDayOf, dayBefore, recordOutcome, type DailyRunStats, type JobRunStats } from '../domain/run-stats.ts';
import { defaultSettings } from '../domain/settings.ts';
import type { RunRecord } from '../domain/runs.ts';
import type { Database } from './database.ts';

/** The database's `run_stats`; see domain/run-stats.ts for what each field means. */
export class RunStatsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Adds a finished run (backups only; others are ignored). The change is made in memory before this
   * returns, so a caller that also changes the run in the same tick gets both in one write; the
   * promise resolves once it is on disk.
   */
  record(run: RunRecord): Promise<void> {
    const changed = recordOutcome(this.db.data.run_stats, run, this.timezone());
    return changed ? this.db.write() : Promise.resolve();
  }

  /** The job's statistics, or null when none of its backups has finished yet. */
  ofJob(jobId: number): JobRunStats | null {
    return this.db.data.run_stats.jobs.find((entry) => entry.job_id === jobId) ?? null;
  }

  /** The `days` days up to and including today (in the settings' zone), oldest first, days without runs as zeros. */
  lastDays(days: number, now = new Date()): DailyRunStats[] {
    const today = calendarDayOf(now, this.timezone());
    const byDate = new Map(this.db.data.run_stats.days.map((day) => [day.date, day]));
    const series: DailyRunStats[] = [];
    for (let back = days - 1; back >= 0; back--) {
      const date = dayBefore(today, back);
      const day = byDate.get(date);
      series.push({ date, runs: day?.runs ?? 0, failures: day?.failures ?? 0, bytes: day?.bytes ?? 0 });
    }
    return series;
  }

  private timezone(): string {
    return this.db.data.settings.timezone ?? defaultSettings().timezone;
  }
}
