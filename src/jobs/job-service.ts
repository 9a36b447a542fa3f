/**
 * Job workflows behind the API and CLI: create, change, delete, clone and restore with every rule
 * the contract and the destination types impose. Serializes jobs with `last_run` and `schedules`.
 */
import { conflict, invalid, notFound } from '../domain/errors.ts';
import { duplicateBasenames, JOB_NAME_MAX, type JobInput, type JobRecord, withOptionDefaults } from '../domain/jobs.ts';
import type { RunSummary } from '../domain/runs.ts';
import type { ScheduleView } from '../domain/schedules.ts';
import type { JobSnapshotFields } from '../history/index.ts';
import { destinationOf, validateDestinationConfig } from '../destinations/index.ts';
import type { AllowedPaths } from '../files/allowed-paths.ts';
import { checkSnapshotFolderNow } from '../history/index.ts';
import type { RunLogs } from '../logs/index.ts';
import type { RunManager } from '../runs/index.ts';
import type { JobRepository, RunRepository, ScheduleRepository } from '../store/index.ts';
import { mergeJobChange, type JobChange } from './job-change.ts';
import { restoreTargetFor, type RestoreInput } from './restore-target.ts';

/** A job as the API shows it. */
export type JobView = JobRecord & JobSnapshotFields & { last_run: RunSummary | null; schedules: ScheduleView[] };

export interface JobServiceDependencies {
  jobs: JobRepository;
  schedules: ScheduleRepository;
  runs: RunRepository;
  runManager: RunManager;
  logs: RunLogs;
  /** Where a restore may write (its target is checked against them). */
  allowed: AllowedPaths;
  /** Schedules of a job with their next run, as the API shows them. */
  schedulesOf(jobId: number): ScheduleView[];
  /** True when a credential with this id exists (credentials arrive with the remote destinations). */
  credentialExists(id: number): boolean;
  /** Refuses (403 PATH_NOT_ALLOWED) a job whose sources or local destination lie outside the allowed paths. */
  checkPaths(job: Pick<JobInput, 'source_dirs' | 'destination_type' | 'destination_config'>): Promise<void>;
  /** Refuses (400 CHANNEL_NOT_FOUND) alert channel ids that do not exist. */
  checkChannels(ids: readonly number[]): void;
  /** Called after jobs or schedules change, so timers follow. */
  onChange(): void;
  /** Drops what the job's destination remembered sending (see SyncContext.stateFile). */
  forgetSentFiles(jobId: number): Promise<void>;
  /** The job's last known snapshot count and newest snapshot time (never read from the drive). */
  snapshotFieldsOf(job: JobRecord): JobSnapshotFields;
  /** The snapshot a restore reads (see SnapshotService.snapshotForRestore): null for a mirror job. */
  snapshotForRestore(job: JobRecord, snapshotId: string | null): Promise<string | null>;
}

export class JobService {
  constructor(private readonly deps: JobServiceDependencies) {}

  list(): JobView[] {
    return this.deps.jobs.all().map((job) => this.view(job));
  }

  get(id: number): JobView {
    return this.view(this.require(id));
  }

  /** The job with this id, or a 404. */
  require(id: number): JobRecord {
    const job = this.deps.jobs.byId(id);
    if (!job) throw notFound('JOB_NOT_FOUND', 'Job not found');
    return job;
  }

  async create(input: JobInput): Promise<JobView> {
    const job = await this.deps.jobs.create(await this.checked(input, null));
    this.deps.onChange();
    return this.view(job);
  }

  /** Applies a PUT body (see `mergeJobChange`) and checks the result as a new job would be. */
  async update(id: number, change: JobChange): Promise<JobView> {
    const input = mergeJobChange(this.require(id), change);
    const job = await this.deps.jobs.update(id, await this.checked(input, id));
    this.deps.onChange();
    return this.view(job);
  }

  /**
   * Starts a restore run of the job's backup (a snapshots job: the snapshot named, else its newest)
   * into a checked target folder (see restore-target.ts): the run's id, the real path it writes to
   * and the snapshot it reads. The snapshot is checked before the target folder is made.
   * 409 RUN_IN_PROGRESS while the job has a run; 404 SNAPSHOT_NOT_FOUND; 409 NOT_A_SNAPSHOT_JOB.
   */
  async restore(id: number, input: RestoreInput): Promise<{ run_id: number; target_dir: string; snapshot_id: string | null }> {
    const job = this.require(id);
    const snapshot = await this.deps.snapshotForRestore(job, input.snapshot_id ?? null);
    const restore = await restoreTargetFor(job, input, this.deps.allowed);
    const run = await this.deps.runManager.request(id, { trigger: 'restore', restore: snapshot === null ? restore : { ...restore, snapshot } });
    return { run_id: run.id, target_dir: restore.target, snapshot_id: snapshot };
  }

  /** Deletes the job, its schedules, its runs and their logs; refused while a run is active. */
  async delete(id: number): Promise<void> {
    this.require(id);
    const active = this.deps.runManager.activeRunOf(id);
    if (active) throw conflict('RUN_IN_PROGRESS', `The job has a ${active.status} run (${active.id}); cancel it first`);
    const runs = await this.deps.jobs.delete(id);
    for (const run of runs) await this.deps.logs.remove(run.id);
    await this.deps.forgetSentFiles(id);
    this.deps.onChange();
  }

  /**
   * Copies the job and its schedules under a free name "NAME (Copy)", "NAME (Copy 2)", ….
   * The copy starts disabled so it does not run on its own before the owner has looked at it.
   * A job saved before the allowed-paths rule, with paths outside it, is not copied (403).
   */
  async clone(id: number): Promise<JobView> {
    const original = this.require(id);
    await this.deps.checkPaths(original);
    const { id: _id, created_at: _created, updated_at: _updated, ...input } = structuredClone(original);
    const copy = await this.deps.jobs.create({ ...input, name: this.freeCopyName(original.name), enabled: false });
    for (const schedule of this.deps.schedules.ofJob(id)) {
      const { id: _sid, job_id: _jid, created_at: _screated, ...scheduleInput } = schedule;
      await this.deps.schedules.create(copy.id, scheduleInput);
    }
    this.deps.onChange();
    return this.view(copy);
  }

  /** The one serializer of a job: picks each field, so nothing stored by accident leaks out. */
  private view(job: JobRecord): JobView {
    return {
      id: job.id,
      name: job.name,
      description: job.description,
      enabled: job.enabled,
      source_dirs: [...job.source_dirs],
      destination_type: job.destination_type,
      destination_config: structuredClone(job.destination_config),
      sync_options: withOptionDefaults(structuredClone(job.sync_options)),
      credential_id: job.credential_id,
      backup_mode: job.backup_mode,
      retention: structuredClone(job.retention),
      notify: structuredClone(job.notify ?? {}),
      created_at: job.created_at,
      updated_at: job.updated_at,
      ...this.deps.snapshotFieldsOf(job),
      last_run: this.deps.runs.latestOf(job.id),
      schedules: this.deps.schedulesOf(job.id),
    };
  }

  /** Applies the rules that need more than the body schema; returns the input to store. */
  private async checked(input: JobInput, id: number | null): Promise<JobInput> {
    const taken = this.deps.jobs.byName(input.name);
    if (taken && taken.id !== id) throw conflict('JOB_NAME_TAKEN', `A job named "${input.name}" already exists`);
    const duplicates = duplicateBasenames(input.source_dirs);
    if (duplicates.length > 0) {
      throw invalid(
        'SOURCE_NAMES_CLASH',
        `"source_dirs" has more than one folder named ${duplicates.map((name) => `"${name}"`).join(', ')}; each source lands in <destination>/<folder name>, so they would overwrite each other`,
      );
    }
    if (new Set(input.source_dirs).size !== input.source_dirs.length) throw invalid('VALIDATION_FAILED', '"source_dirs" lists a folder twice');
    const destination_config = validateDestinationConfig(input.destination_type, input.destination_config);
    if (input.backup_mode === 'snapshots' && !destinationOf(input.destination_type).snapshotFolder) {
      throw invalid(
        'BACKUP_MODE_UNSUPPORTED',
        `"backup_mode": "snapshots" keeps hard-linked snapshot folders on a local folder or USB drive; a ${input.destination_type} destination cannot hold them`,
      );
    }
    if (input.notify?.channel_ids) this.deps.checkChannels(input.notify.channel_ids);
    if (input.backup_mode === 'snapshots' && input.sync_options.dry_run) {
      throw invalid('SNAPSHOT_DRY_RUN', '"sync_options.dry_run" cannot be used with "backup_mode": "snapshots": a dry run makes no snapshot; set dry_run to false, or use backup_mode "mirror" to see what would change');
    }
    if (input.credential_id !== null && !this.deps.credentialExists(input.credential_id)) {
      throw invalid('CREDENTIAL_NOT_FOUND', `Credential ${input.credential_id} does not exist`);
    }
    await this.deps.checkPaths({ ...input, destination_config });
    // After the paths check: the probe writes a file in the folder.
    if (input.backup_mode === 'snapshots') await checkSnapshotFolderNow(destinationOf(input.destination_type), destination_config);
    return { ...input, destination_config };
  }

  private freeCopyName(name: string): string {
    for (let n = 1; ; n++) {
      const suffix = n === 1 ? ' (Copy)' : ` (Copy ${n})`;
      const candidate = name.slice(0, JOB_NAME_MAX - suffix.length) + suffix;
      if (!this.deps.jobs.byName(candidate)) return candidate;
    }
  }
}
