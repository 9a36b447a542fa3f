/**
 * A job's paths on this machine under the allowed-paths rule (files/allowed-paths.ts): its sources
 * and its destination's local folders. Checked when a job is saved (create, update, clone) and again
 * when each run starts, since a link inside a root can be swapped after saving, and since jobs saved
 * before the rule existed may name any folder.
 */
import { promises as fs } from 'node:fs';
import { CairnError, isCairnError } from '../domain/errors.ts';
import type { JobInput } from '../domain/jobs.ts';
import type { Destination } from '../destinations/types.ts';
import type { AllowedPaths } from '../files/allowed-paths.ts';

/** The part of a job that names paths. */
type JobPlaces = Pick<JobInput, 'source_dirs' | 'destination_type' | 'destination_config'>;

export class JobPaths {
  constructor(
    private readonly allowed: AllowedPaths,
    private readonly destinationOf: (type: string) => Destination,
  ) {}

  /**
   * For saving a job: every source and local destination folder must lie inside the allowed paths,
   * as far as it exists (a source or a drive's mount point may not exist yet). Throws 403
   * PATH_NOT_ALLOWED naming the first path refused.
   */
  async checkSaved(job: JobPlaces): Promise<void> {
    for (const source of job.source_dirs) {
      await labelled('Source', this.allowed.creatable(source, 'source_dirs').then((real) => this.allowed.refuseHolder(real, source)));
    }
    await this.checkLocalFolders(job);
  }

  /**
   * For starting a backup run: the real path of each source (an existing folder inside the allowed
   * paths) in the job's order, after checking the local destination folders. Throws a CairnError
   * whose message becomes the run's error_message.
   */
  async forSync(job: JobPlaces): Promise<string[]> {
    await this.checkLocalFolders(job);
    const real: string[] = [];
    for (const source of job.source_dirs) {
      const { real: folder } = await labelled('Source', this.allowed.existing(source, 'source_dirs')).catch((error: unknown) => {
        // Backing up nothing and calling it done would be a lie.
        if (isCairnError(error) && error.code === 'PATH_NOT_FOUND') throw new CairnError('invalid', 'SOURCE_MISSING', `Source folder ${source} does not exist`);
        throw error;
      });
      await labelled('Source', this.allowed.refuseHolder(folder, source));
      const stat = await fs.stat(folder).catch(() => null);
      if (!stat?.isDirectory()) throw new CairnError('invalid', 'SOURCE_NOT_FOLDER', `Source ${source} is not a folder`);
      real.push(folder);
    }
    return real;
  }

  /**
   * For starting a restore run: the local folders the backup is read from, and the target (checked
   * when the restore was asked for, and again now since the run may have waited), whose real path is
   * returned. The sources are not read, so they need not exist.
   */
  async forRestore(job: JobPlaces, target: string): Promise<string> {
    await this.checkLocalFolders(job);
    const { real } = await labelled('The restore target', this.allowed.existing(target, 'target_dir'));
    await labelled('The restore target', this.allowed.refuseHolder(real, target));
    return real;
  }

  /** For a run that reads or prunes the backup's history (verify, prune): the local destination folders only. */
  async forHistory(job: JobPlaces): Promise<void> {
    await this.checkLocalFolders(job);
  }

  private checkLocalFolders(job: JobPlaces): Promise<void> {
    return checkDestinationFolders(this.allowed, this.destinationOf(job.destination_type), job.destination_config);
  }
}

/**
 * The folders on this machine a destination config would write to or read from must lie inside the
 * allowed paths (as far as they exist): 403 PATH_NOT_ALLOWED naming the first one that does not.
 * For a job's destination, and for a connection test, which writes a probe file there.
 */
export async function checkDestinationFolders(allowed: AllowedPaths, destination: Destination, config: Record<string, unknown>): Promise<void> {
  for (const folder of destination.localFolders?.(config) ?? []) {
    await labelled('The destination', allowed.creatable(folder, 'destination_config').then((real) => allowed.refuseHolder(real, folder)));
  }
}

/** A refusal that says which of the job's paths it is about ("Source /etc is outside …"). */
async function labelled<T>(what: string, check: Promise<T>): Promise<T> {
  try {
    return await check;
  } catch (error) {
    if (!isCairnError(error) || error.code !== 'PATH_NOT_ALLOWED') throw error;
    throw new CairnError(error.kind, error.code, `${what} ${error.message}`);
  }
}
