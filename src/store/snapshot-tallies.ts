/**
 * The last known snapshot count and newest snapshot time of each snapshots job. A USB drive is often
 * unplugged; the job views show these instead of reading the drive, and they survive a restart.
 */
import type { Database, SnapshotTally } from './database.ts';

export class SnapshotTallyRepository {
  constructor(private readonly db: Database) {}

  /** What the job's folder held when last read, or undefined when it never was. */
  of(jobId: number): SnapshotTally | undefined {
    return this.db.data.snapshot_tallies.find((tally) => tally.job_id === jobId);
  }

  /** Records what the job's folder `folder` holds now; writes only when it differs from what is stored. */
  async record(jobId: number, folder: string, count: number, latestAt: string | null): Promise<void> {
    const tally = this.of(jobId);
    if (tally?.count === count && tally.latest_at === latestAt && tally.folder === folder) return;
    if (tally) Object.assign(tally, { count, latest_at: latestAt, folder });
    else this.db.data.snapshot_tallies.push({ job_id: jobId, count, latest_at: latestAt, folder });
    await this.db.write();
  }
}
