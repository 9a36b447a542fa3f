/**
 * What happens when a drive is plugged in: if its filesystem UUID belongs to enabled jobs with
 * `auto_mount`, mount it, run those jobs one at a time (trigger `device`), unmount it when every job
 * asks for `auto_unmount`, and announce each step. A drive pulled out mid-run fails the run with
 * "drive removed", and its mount is detached so nothing lands in the bare mount point directory.
 */
import { destinationOf, isKnownProvider } from '../destinations/index.ts';
import type { RemovableDrive } from '../destinations/types.ts';
import type { JobRecord } from '../domain/jobs.ts';
import type { RunRecord } from '../domain/runs.ts';
import type { AllowedPaths } from '../files/allowed-paths.ts';
import type { DriveEvent, EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { RunManager } from '../runs/index.ts';
import type { JobRepository } from '../store/index.ts';
import type { Drive } from './block-devices.ts';
import type { OutcomeSignal } from './outcome-signal.ts';
import type { BlockEvent } from './udev-monitor.ts';

/** Events for one UUID closer together than this are one plug-in. */
export const DEBOUNCE_MS = 750;

/** The system operations the policy needs; the daemon passes the real ones. */
export interface DriveOperations {
  listDrives(): Promise<Drive[]>;
  mount(uuid: string, mountPoint: string): Promise<unknown>;
  unmount(mountPoint: string): Promise<void>;
  lazyUnmount(mountPoint: string): Promise<void>;
}

interface Session {
  uuid: string;
  device: string;
  label: string | null;
  /** Mount points this session mounted. */
  mounted: Set<string>;
  removed: boolean;
  done: Promise<void>;
}

/** The removable drive a job backs up to, as its destination type says; null for any other job. */
function driveOf(job: JobRecord): RemovableDrive | null {
  if (!isKnownProvider(job.destination_type)) return null;
  return destinationOf(job.destination_type).removableDrive?.(job.destination_config) ?? null;
}

/** `driveOf` for a job already known to have a drive (one `jobsFor` returned). */
const configOf = (job: JobRecord): RemovableDrive => driveOf(job)!;

export class PlugInPolicy {
  private readonly sessions = new Map<string, Session>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** Device node → what was on it, so a remove (which carries no UUID) can be matched. */
  private readonly known = new Map<string, { uuid: string; label: string | null }>();
  private stopped = false;

  constructor(
    private readonly deps: {
      jobs: JobRepository;
      runManager: RunManager;
      events: EventBus;
      log: Logger;
      signal: OutcomeSignal;
      drives: DriveOperations;
      /** The allowed-paths rule: a mount point outside it is never mounted on. */
      allowed: Pick<AllowedPaths, 'creatable'>;
      debounceMs?: number;
    },
  ) {}

  /** Enabled jobs that back up to this drive when it is plugged in. */
  jobsFor(uuid: string): JobRecord[] {
    return this.deps.jobs
      .all()
      .filter((job) => {
        const drive = job.enabled ? driveOf(job) : null;
        return drive !== null && drive.auto_mount && drive.uuid.toLowerCase() === uuid.toLowerCase();
      });
  }

  /** Drives already attached at start are handled as if just plugged in. */
  async handleAttachedDrives(): Promise<void> {
    for (const drive of await this.deps.drives.listDrives()) {
      this.handle({ action: 'add', device: drive.device, uuid: drive.uuid, fstype: drive.fstype, label: drive.label });
    }
  }

  /** Takes one udev block event. */
  handle(event: BlockEvent): void {
    if (this.stopped) return;
    const previous = this.known.get(event.device);
    const gone = event.action === 'remove' || (event.action === 'change' && !event.uuid && previous);
    if (gone) {
      if (previous) this.removed(event.device, previous.uuid, previous.label);
      return;
    }
    if (!event.uuid) return;
    this.known.set(event.device, { uuid: event.uuid, label: event.label });
    // udev often repeats itself (add, then change); one plug-in is one session.
    clearTimeout(this.pending.get(event.uuid));
    const uuid = event.uuid;
    const timer = setTimeout(() => {
      this.pending.delete(uuid);
      this.plugged(uuid, event.device, event.label);
    }, this.deps.debounceMs ?? DEBOUNCE_MS);
    timer.unref();
    this.pending.set(uuid, timer);
  }

  /** Waits for sessions in progress (daemon stop). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    await Promise.allSettled([...this.sessions.values()].map((session) => session.done));
  }

  private driveEvent(uuid: string, device: string, label: string | null): DriveEvent {
    return { uuid, device, label, registered: this.jobsFor(uuid).length > 0 };
  }

  private plugged(uuid: string, device: string, label: string | null): void {
    if (this.sessions.has(uuid)) {
      this.deps.log.info('drive announced again while its backup runs; ignored', { uuid });
      return;
    }
    this.deps.events.emit('drive:connected', this.driveEvent(uuid, device, label));
    const jobs = this.jobsFor(uuid);
    if (jobs.length === 0) return;
    const session: Session = { uuid, device, label, mounted: new Set(), removed: false, done: Promise.resolve() };
    this.sessions.set(uuid, session);
    session.done = this.backUp(session, jobs)
      .catch((error) => this.deps.log.error('plug-in backup failed', { uuid, error: String(error) }))
      .finally(() => this.sessions.delete(uuid));
  }

  private async backUp(session: Session, jobs: JobRecord[]): Promise<void> {
    const { uuid, device, label } = session;
    const info = { uuid, mountPoint: configOf(jobs[0]).mount_point, jobNames: jobs.map((job) => job.name) };
    await this.deps.signal.show('working', info);
    let allCompleted = true;
    for (const job of jobs) {
      if (session.removed || this.stopped) return;
      const mountPoint = configOf(job).mount_point;
      try {
        await this.deps.allowed.creatable(mountPoint, 'mount_point');
      } catch (error) {
        // Not mounted; the run is still asked for, and fails at its start naming the path and the setting.
        this.deps.log.error('a plugged-in drive was not mounted: its mount point is outside the allowed paths', { uuid, error: (error as Error).message });
        allCompleted &&= (await this.runToEnd(job))?.status === 'completed';
        continue;
      }
      try {
        await this.ensureMounted(session, mountPoint);
      } catch (error) {
        this.deps.log.error('could not mount a plugged-in drive', { uuid, mount_point: mountPoint, error: (error as Error).message });
        allCompleted = false;
        continue;
      }
      const run = await this.runToEnd(job);
      allCompleted &&= run?.status === 'completed';
    }
    if (session.removed || this.stopped) return;
    const unmountAll = jobs.every((job) => configOf(job).auto_unmount);
    if (!unmountAll) return;
    for (const mountPoint of session.mounted) {
      try {
        await this.deps.drives.unmount(mountPoint);
      } catch (error) {
        this.deps.log.error('could not unmount after the backup; the drive is not safe to remove', { uuid, error: (error as Error).message });
        return;
      }
    }
    const outcome = allCompleted ? 'completed' : 'failed';
    await this.deps.signal.show(allCompleted ? 'safe_completed' : 'safe_failed', info);
    this.deps.events.emit('drive:safe_to_remove', { ...this.driveEvent(uuid, device, label), mount_point: info.mountPoint, outcome });
  }

  private async ensureMounted(session: Session, mountPoint: string): Promise<void> {
    for (const other of session.mounted) {
      if (other !== mountPoint) {
        await this.deps.drives.unmount(other);
        session.mounted.delete(other);
      }
    }
    if (session.mounted.has(mountPoint)) return;
    await this.deps.drives.mount(session.uuid, mountPoint);
    session.mounted.add(mountPoint);
    this.deps.events.emit('drive:mounted', { ...this.driveEvent(session.uuid, session.device, session.label), mount_point: mountPoint });
  }

  /** Starts the job and resolves with its finished run (null when it could not start). */
  private runToEnd(job: JobRecord): Promise<RunRecord | null> {
    return new Promise((resolve) => {
      let runId: number | null = null;
      const off = this.deps.events.on('run:finished', (run) => {
        if (run.id !== runId) return;
        off();
        resolve(run);
      });
      this.deps.runManager.request(job.id, { trigger: 'device' }).then(
        (run) => (runId = run.id),
        (error) => {
          off();
          this.deps.log.warn('plug-in run could not start', { job_id: job.id, error: (error as Error).message });
          resolve(null);
        },
      );
    });
  }

  private removed(device: string, uuid: string, label: string | null): void {
    this.known.delete(device);
    clearTimeout(this.pending.get(uuid));
    this.pending.delete(uuid);
    const session = this.sessions.get(uuid);
    this.deps.events.emit('drive:removed', this.driveEvent(uuid, device, label));
    if (!session) return;
    session.removed = true;
    void (async () => {
      // Stop the writer first, then detach the dead mount: never the other way round, or rsync
      // would carry on into the bare mount point directory on the root filesystem.
      for (const job of this.jobsFor(uuid)) this.deps.runManager.driveRemoved(job.id);
      await session.done.catch(() => undefined);
      for (const mountPoint of session.mounted) await this.deps.drives.lazyUnmount(mountPoint);
      await this.deps.signal.show('gone', { uuid, mountPoint: null, jobNames: [] });
    })();
  }
}
