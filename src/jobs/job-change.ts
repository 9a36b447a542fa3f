/**
 * A PUT /jobs/:id body: any subset of a job's fields, and how it applies to the stored job. The
 * merged job is checked again as a whole, since a new type makes the old config invalid.
 */
import { invalid } from '../domain/errors.ts';
import { jobInputSchema, type JobInput, type JobRecord } from '../domain/jobs.ts';

/** A change body: any subset of a job's fields, types checked, no defaults filled in. */
export const jobChangeSchema = jobInputSchema
  .fork(['name', 'source_dirs', 'destination_type', 'destination_config'], (key) => key.optional())
  .prefs({ noDefaults: true });

/** A validated change body (see jobChangeSchema). */
export type JobChange = Partial<JobInput>;

/**
 * Applies a change to a job: given fields replace the stored ones, `sync_options` merges key by key, `retention` and `notify` are replaced whole,
 * and `destination_config` is replaced whole (its shape depends on the type). 400 VALIDATION_FAILED
 * when the result is not a valid job.
 */
export function mergeJobChange(job: JobRecord, change: JobChange): JobInput {
  const merged = {
    name: change.name ?? job.name,
    description: change.description ?? job.description,
    enabled: change.enabled ?? job.enabled,
    source_dirs: change.source_dirs ?? job.source_dirs,
    destination_type: change.destination_type ?? job.destination_type,
    destination_config: change.destination_config ?? job.destination_config,
    sync_options: { ...job.sync_options, ...change.sync_options },
    credential_id: change.credential_id === undefined ? job.credential_id : change.credential_id,
    backup_mode: change.backup_mode ?? job.backup_mode,
    // A policy is one decision: a given one replaces the stored one whole (absent rules are off).
    retention: change.retention ?? job.retention,
    // The overrides are one decision too: a given `notify` replaces the stored one (`{}` back to the defaults).
    notify: change.notify ?? job.notify ?? {},
    // Write-only: only a password given now is checked (the job service refuses changing a set one).
    ...(change.repository_password === undefined ? {} : { repository_password: change.repository_password }),
  };
  const { error, value } = jobInputSchema.validate(merged, { convert: false });
  if (error) throw invalid('VALIDATION_FAILED', error.details[0]?.message ?? error.message);
  return value as JobInput;
}
