/**
 * The WebSockets and the frames each sends (../ws.ts builds them), as joi schemas: the OpenAPI
 * document describes the sockets from this list, and the tests check the frames real sockets send
 * against it. A frame is a JSON object whose `type` names it; like every answer it is open, so a
 * client ignores fields it does not know (and frame types too: later versions may add some).
 */
import Joi from 'joi';
import { RUN_STATUSES, RUN_TRIGGERS } from '../../domain/runs.ts';
import { logEntrySchema, nullable, record, runProgressSchema, snapshotFieldsSchema, verifyFiguresSchema } from './response-schemas.ts';

const id = Joi.number().integer().min(1);
const count = Joi.number().integer().min(0);
const typed = (type: string) => ({ type: Joi.string().valid(type).required() });
const runFigures = { files_transferred: count.required(), bytes_transferred: count.required(), files_deleted: count.required() };
/** Only a verify run's frames carry its figures. */
const verify = { verify: verifyFiguresSchema.optional() };

/** `log`: one line of the run's log, as `GET /runs/:id/logs` lists it. */
export const logFrameSchema = logEntrySchema.keys(typed('log')).label('WsEventLog');

/** `status`: the run's state and totals, when it starts, as they move and when it ends. */
export const runStatusFrameSchema = record({ run_id: id, status: Joi.string().valid(...RUN_STATUSES), error_message: nullable(Joi.string()), progress: nullable(runProgressSchema) })
  .keys({ ...typed('status'), ...runFigures, ...verify })
  .label('WsEventStatus');

export const jobStartedFrameSchema = record({ job_id: id, run_id: id, job_name: Joi.string(), trigger: Joi.string().valid(...RUN_TRIGGERS) })
  .keys(typed('job_started'))
  .label('WsEventJobStarted');

export const jobProgressFrameSchema = record({ job_id: id, run_id: id, progress: nullable(runProgressSchema) })
  .keys({ ...typed('job_progress'), ...runFigures, ...verify })
  .label('WsEventJobProgress');

export const jobCompletedFrameSchema = record({ job_id: id, run_id: id, job_name: Joi.string(), status: Joi.string().valid('completed', 'failed', 'cancelled'), error_message: nullable(Joi.string()) })
  .keys({ ...typed('job_completed'), ...runFigures, ...verify })
  .label('WsEventJobCompleted');

export const snapshotCreatedFrameSchema = record({ job_id: id, snapshot: snapshotFieldsSchema }).keys(typed('snapshot_created')).label('WsEventSnapshotCreated');

export const snapshotRemovedFrameSchema = record({ job_id: id, snapshot_id: Joi.string() }).keys(typed('snapshot_removed')).label('WsEventSnapshotRemoved');

const drive = {
  uuid: Joi.string().required(),
  device: Joi.string().required(),
  label: nullable(Joi.string()).required(),
  registered: Joi.boolean().required().description('An enabled job backs up to this drive when it is plugged in'),
};

export const driveConnectedFrameSchema = Joi.object(drive).unknown(true).keys(typed('drive_connected')).label('WsEventDriveConnected');
export const driveMountedFrameSchema = Joi.object(drive).unknown(true).keys({ ...typed('drive_mounted'), mount_point: Joi.string().required() }).label('WsEventDriveMounted');
export const driveSafeToRemoveFrameSchema = Joi.object(drive)
  .unknown(true)
  .keys({ ...typed('drive_safe_to_remove'), mount_point: Joi.string().required(), outcome: Joi.string().valid('completed', 'failed').required() })
  .label('WsEventDriveSafeToRemove');
export const driveRemovedFrameSchema = Joi.object(drive).unknown(true).keys(typed('drive_removed')).label('WsEventDriveRemoved');

/** One WebSocket: where it is, what it says, and the frames it sends by `type`. */
export interface WebSocketDescription {
  /** The path under /api, OpenAPI style (it is served without /api too). */
  path: string;
  summary: string;
  /** The name of the schema of any of its frames (`components.schemas`). */
  framesName: string;
  /** Path parameters, by name, with their schema. */
  params?: Record<string, Joi.Schema>;
  /** Frame `type` → its schema. */
  frames: Record<string, Joi.ObjectSchema>;
}

/** Every WebSocket the daemon serves (ws.ts). */
export const WEBSOCKETS: readonly WebSocketDescription[] = [
  {
    path: '/api/ws/status',
    framesName: 'WsStatusFrame',
    summary: "Every job's run events, snapshot changes and drive events, as they happen",
    frames: {
      job_started: jobStartedFrameSchema,
      job_progress: jobProgressFrameSchema,
      job_completed: jobCompletedFrameSchema,
      snapshot_created: snapshotCreatedFrameSchema,
      snapshot_removed: snapshotRemovedFrameSchema,
      drive_connected: driveConnectedFrameSchema,
      drive_mounted: driveMountedFrameSchema,
      drive_safe_to_remove: driveSafeToRemoveFrameSchema,
      drive_removed: driveRemovedFrameSchema,
    },
  },
  {
    path: '/api/ws/logs/{run_id}',
    framesName: 'WsLogFrame',
    summary: "One run's last 200 log lines, then each new line and its status; closed (1000) after the final status",
    params: { run_id: Joi.number().integer().min(1).max(9_999_999_999) },
    frames: { log: logFrameSchema, status: runStatusFrameSchema },
  },
];
