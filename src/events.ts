/**
 * The event bus shared by runs, devices and the API: typed events, synchronous delivery.
 * Listeners must not throw and must not block; the WebSocket layer only queues frames.
 */
import { EventEmitter } from 'node:events';
import type { LogEntry, RunRecord } from './domain/runs.ts';
import type { SnapshotInfo } from './history/index.ts';

export interface CairnEvents {
  /** A line was added to a run's log. */
  'run:log': LogEntry;
  /** A run went from pending to running. */
  'run:started': RunRecord;
  /** A running run's totals moved (throttled to a few per second). */
  'run:progress': RunRecord;
  /** A run reached completed, failed or cancelled. */
  'run:finished': RunRecord;
  /** A filesystem appeared (plugged in, or present at start). */
  'drive:connected': DriveEvent;
  /** Cairn mounted a registered drive for its jobs. */
  'drive:mounted': DriveEvent & { mount_point: string };
  /** The drive's jobs are done and it is unmounted: it can be pulled out. */
  'drive:safe_to_remove': DriveEvent & { mount_point: string; outcome: 'completed' | 'failed' };
  /** The drive went away. */
  'drive:removed': DriveEvent;
  /** A job's new snapshot is complete (renamed into place). */
  'snapshot:created': { job_id: number; snapshot: SnapshotInfo };
  /** A job's snapshot is gone (deleted by the owner or pruned by its retention). */
  'snapshot:removed': { job_id: number; snapshot_id: string };
}

export interface DriveEvent {
  uuid: string;
  device: string;
  label: string | null;
  /** True when an enabled job backs up to this drive on plug-in. */
  registered: boolean;
}

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per WebSocket client; a busy box may have many.
    this.emitter.setMaxListeners(0);
  }

  emit<E extends keyof CairnEvents>(event: E, payload: CairnEvents[E]): void {
    this.emitter.emit(event, payload);
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<E extends keyof CairnEvents>(event: E, listener: (payload: CairnEvents[E]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }
}
