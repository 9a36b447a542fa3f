/**
 * Destination free space for the dashboard, health and metrics, cached per job: a phone that opens
 * its home screen every minute must not open an SFTP session each time. A reading is reused for
 * `maxAgeMs`, read again after each of the job's runs, and asked at most once at a time per job.
 */
import type { JobRecord } from '../domain/jobs.ts';
import type { Destination, HostKeyPins } from '../destinations/types.ts';
import { within } from './within.ts';

/** What the dashboard shows of a destination's space; nulls mean unknown. */
export interface SpaceReading {
  free_bytes: number | null;
  total_bytes: number | null;
  /** When it was read; null when it never was (or the destination cannot tell, e.g. S3). */
  checked_at: string | null;
}

/** Space never read, or a destination that cannot tell. */
export const UNKNOWN_SPACE: SpaceReading = { free_bytes: null, total_bytes: null, checked_at: null };

/** How long a reading is reused. */
export const SPACE_MAX_AGE_MS = 5 * 60 * 1000;
/** How long a dashboard call waits for a reading before answering with the last one (or unknown). */
export const SPACE_WAIT_MS = 5000;

/** How to reach a job's destination to ask it. */
export interface FreeSpaceDependencies {
  destinationOf(type: string): Destination;
  /** The decrypted credential data of the job's destination, or null. */
  secretOf(job: JobRecord): Promise<Record<string, string> | null>;
  hostKeys: HostKeyPins;
  maxAgeMs?: number;
  waitMs?: number;
}

interface Entry {
  /** What the reading is of: a job pointed elsewhere is read afresh. */
  key: string;
  reading: SpaceReading;
  readAt: number;
  reading$: Promise<SpaceReading> | null;
}

/** Per-job readings of destination space; never rejects, a failure reads as unknown. */
export class FreeSpaceCache {
  private readonly entries = new Map<number, Entry>();
  private readonly maxAgeMs: number;
  private readonly waitMs: number;

  constructor(private readonly deps: FreeSpaceDependencies) {
    this.maxAgeMs = deps.maxAgeMs ?? SPACE_MAX_AGE_MS;
    this.waitMs = deps.waitMs ?? SPACE_WAIT_MS;
  }

  /** The last reading of the job's destination, without reading (unknown when there is none). */
  cached(job: JobRecord): SpaceReading {
    const entry = this.entries.get(job.id);
    return entry && entry.key === keyOf(job) ? entry.reading : UNKNOWN_SPACE;
  }

  /**
   * A reading at most `maxAgeMs` old: the cached one, or a new one waited for up to `waitMs` (past
   * that, the last reading or unknown; the new one lands in the cache when it comes).
   */
  async get(job: JobRecord): Promise<SpaceReading> {
    const entry = this.entries.get(job.id);
    if (entry && entry.key === keyOf(job) && (entry.reading$ || Date.now() - entry.readAt < this.maxAgeMs)) {
      return entry.reading$ ? within(entry.reading$, this.waitMs, entry.reading) : entry.reading;
    }
    return within(this.read(job), this.waitMs, this.cached(job));
  }

  /** Reads the job's destination again now (after a run), not waiting for it. */
  refresh(job: JobRecord): void {
    void this.read(job);
  }

  private read(job: JobRecord): Promise<SpaceReading> {
    const key = keyOf(job);
    const previous = this.entries.get(job.id);
    if (previous?.key === key && previous.reading$) return previous.reading$;
    const entry: Entry = previous?.key === key ? previous : { key, reading: UNKNOWN_SPACE, readAt: 0, reading$: null };
    this.entries.set(job.id, entry);
    const reading$ = this.measure(job).then((reading) => {
      entry.reading = reading;
      entry.readAt = Date.now();
      entry.reading$ = null;
      return reading;
    });
    entry.reading$ = reading$;
    return reading$;
  }

  /** Never rejects: a destination that cannot be asked now has unknown space. */
  private async measure(job: JobRecord): Promise<SpaceReading> {
    try {
      const destination = this.deps.destinationOf(job.destination_type);
      if (!destination.freeSpace) return UNKNOWN_SPACE;
      const space = await destination.freeSpace(job.destination_config, await this.deps.secretOf(job), this.deps.hostKeys);
      const checked_at = new Date().toISOString();
      return space ? { free_bytes: space.free_bytes, total_bytes: space.total_bytes, checked_at } : { ...UNKNOWN_SPACE, checked_at };
    } catch {
      return { ...UNKNOWN_SPACE, checked_at: new Date().toISOString() };
    }
  }
}

function keyOf(job: JobRecord): string {
  return JSON.stringify([job.destination_type, job.destination_config, job.credential_id]);
}
