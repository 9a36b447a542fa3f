/**
 * The status socket's messages → what the dashboard knows live: progress of running jobs, what
 * plug-in is doing with each drive, the notice a drive event puts up, and which lists to ask again.
 */
import type { StatusMessage } from '../wire.ts';
import type { LiveRun } from './jobs.ts';

/** What the dashboard keeps from the status socket between messages. */
export interface LiveState {
  /** Running jobs by job id. */
  live: Map<number, LiveRun>;
  /** What plug-in last said about each drive, by filesystem UUID. */
  driveStates: Map<string, string>;
}

/** What one message asks of the screen besides the state it changed. */
export interface StatusEffect {
  /** A line for the header (drive events), or null to leave it. */
  notice: string | null;
  /** A job started or ended, or its snapshots changed: the jobs table (and the runs) changed. */
  reloadJobs: boolean;
  /** A drive event: the drive list changed. */
  reloadDrives: boolean;
}

/**
 * Applies a status message to `state`. Progress comes about four times a second, so the rate is the
 * bytes since the previous message times four; the first message of a run has no rate yet.
 */
export function applyStatusMessage(state: LiveState, message: StatusMessage): StatusEffect {
  switch (message.type) {
    case 'job_started':
    case 'job_progress': {
      const previous = state.live.get(message.job_id);
      const bytes = message.type === 'job_progress' ? message.bytes_transferred : 0;
      const files = message.type === 'job_progress' ? message.files_transferred : 0;
      const rate = previous ? Math.max(0, (bytes - previous.bytes_transferred) * 4) : 0;
      const progress = message.type === 'job_progress' ? message.progress ?? null : null;
      state.live.set(message.job_id, { run_id: message.run_id, files_transferred: files, bytes_transferred: bytes, rate, ...(progress ? { progress } : {}) });
      return { notice: null, reloadJobs: message.type === 'job_started', reloadDrives: false };
    }
    case 'job_completed':
      state.live.delete(message.job_id);
      return { notice: null, reloadJobs: true, reloadDrives: false };
    case 'snapshot_created':
    case 'snapshot_removed':
      // The job's snapshot count and newest snapshot changed: the jobs carry them.
      return { notice: null, reloadJobs: true, reloadDrives: false };
    case 'drive_connected':
      state.driveStates.set(message.uuid, message.registered ? 'connected: backup starting' : 'connected');
      break;
    case 'drive_mounted':
      state.driveStates.set(message.uuid, `backing up to ${message.mount_point}`);
      break;
    case 'drive_safe_to_remove':
      state.driveStates.set(message.uuid, message.outcome === 'completed' ? 'safe to remove' : 'safe to remove (a job failed)');
      break;
    case 'drive_removed':
      state.driveStates.delete(message.uuid);
      break;
    default:
      // A message type this version does not know (a newer daemon): nothing to do.
      return { notice: null, reloadJobs: false, reloadDrives: false };
  }
  const what = message.type.replace('drive_', 'drive ').replace(/_/g, ' ');
  return { notice: `${what}: ${message.label ?? message.uuid}`, reloadJobs: false, reloadDrives: true };
}
