/**
 * Where a restore may write: a folder under the allowed roots (created when missing), checked after
 * realpath, and never over the job's own sources unless the owner says so, since a restore there
 * would replace the very files the backup was made from. Every refusal and filesystem failure is a
 * 4xx naming the path; the run checks the target once more when it starts (jobs/job-paths.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import Joi from 'joi';
import { conflict } from '../domain/errors.ts';
import type { JobRecord } from '../domain/jobs.ts';
import { isInside, type AllowedPaths } from '../files/allowed-paths.ts';
import { folderNamesOf } from '../destinations/source-names.ts';
import type { RestoreRequest } from '../runs/run-manager.ts';

export interface RestoreInput {
  target_dir: string;
  paths?: string[];
  overwrite_sources: boolean;
  /** A snapshots job's snapshot to restore from (default: the newest); refused for a mirror job. */
  snapshot_id?: string;
}

export const restoreInputSchema = Joi.object({
  target_dir: Joi.string().max(4096).required(),
  paths: Joi.array()
    .items(
      Joi.string()
        .max(4096)
        .pattern(/^(?!\/)[^\0]+$/)
        .custom((value: string, helpers) => (value.split('/').includes('..') ? helpers.error('string.pattern.base') : value))
        .messages({ 'string.pattern.base': '"paths" must be paths inside the backup such as "photos/2024" (no leading "/", no "..")' }),
    )
    .min(1)
    .max(1000),
  overwrite_sources: Joi.boolean().default(false),
  // Only compared with the job's listing, never used as a path; the length bounds an absurd body.
  snapshot_id: Joi.string().min(1).max(100),
});

/** The real path of `file`, or of its deepest existing ancestor with the rest appended. */
async function realPathToBe(file: string): Promise<string> {
  const missing: string[] = [];
  let existing = path.resolve(file);
  for (;;) {
    const real = await fs.realpath(existing).catch(() => null);
    if (real) return path.join(real, ...missing.reverse());
    if (existing === path.dirname(existing)) return path.resolve(file);
    missing.push(path.basename(existing));
    existing = path.dirname(existing);
  }
}

export async function restoreTargetFor(job: JobRecord, input: RestoreInput, allowed: AllowedPaths): Promise<RestoreRequest> {
  // The real path the target has or will have: checked before anything is created.
  const target = await allowed.creatable(input.target_dir, 'target_dir');
  await allowed.refuseHolder(target, input.target_dir);
  if (!input.overwrite_sources) {
    const names = folderNamesOf(job.source_dirs);
    for (const [index, source] of job.source_dirs.entries()) {
      const realSource = await realPathToBe(source);
      // Where the restore writes this source, with any symlink already on the way followed.
      const landing = await realPathToBe(path.join(target, names[index]));
      if (isInside(realSource, target) || isInside(realSource, landing) || isInside(landing, realSource)) {
        throw conflict(
          'RESTORE_OVER_SOURCES',
          `Restoring into ${target} would write over the job's source ${source}; choose another folder or set "overwrite_sources": true`,
        );
      }
    }
  }
  return { target: await allowed.makeFolder(target, 'target_dir'), paths: input.paths ?? null };
}
