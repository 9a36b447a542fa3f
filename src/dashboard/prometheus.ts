/**
 * The Prometheus text exposition format, version 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats):
 * `# HELP` and `# TYPE` once per family, then its samples; label values escape `\`, `"` and newline,
 * HELP text escapes `\` and newline. And Cairn's metrics in it.
 */
import type { DriveSpace } from './drive-space.ts';
import type { JobStatus } from './dashboard-service.ts';

/** The Content-Type of format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One line of a family: its labels (written in this order) and value. */
export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/** A metric family: name, HELP text, TYPE and its samples (no two with the same labels). */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Sample[];
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** The families as exposition text (a family without samples is still described). */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {});
      const labelText = labels.length === 0 ? '' : `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
      lines.push(`${family.name}${labelText} ${formatValue(sample.value)}`);
    }
  }
  return lines.join('\n') + '\n';
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

/** Cairn's metric families from the jobs' statuses and the drives. */
export function cairnMetrics(version: string, jobs: readonly JobStatus[], drives: readonly DriveSpace[]): MetricFamily[] {
  const jobLabels = (job: JobStatus) => ({ job_id: String(job.job_id), job: job.name });
  const perJob = (pick: (job: JobStatus) => number | null): Sample[] =>
    jobs.flatMap((job) => {
      const value = pick(job);
      return value === null ? [] : [{ labels: jobLabels(job), value }];
    });
  const driveLabels = (drive: DriveSpace) => ({ uuid: drive.uuid, label: drive.label ?? '', device: drive.device });
  return [
    { name: 'cairn_up', help: 'Always 1 while the daemon answers.', type: 'gauge', samples: [{ value: 1 }] },
    { name: 'cairn_build_info', help: 'The running version of Cairn.', type: 'gauge', samples: [{ labels: { version }, value: 1 }] },
    { name: 'cairn_job_enabled', help: '1 when the job is enabled.', type: 'gauge', samples: perJob((job) => (job.enabled ? 1 : 0)) },
    {
      name: 'cairn_job_last_success_timestamp_seconds',
      help: 'When the last successful backup of the job finished (Unix time); absent before the first.',
      type: 'gauge',
      samples: perJob((job) => (job.last_success ? seconds(job.last_success.completed_at) : null)),
    },
    {
      name: 'cairn_job_last_success_bytes',
      help: 'Bytes the last successful backup of the job sent.',
      type: 'gauge',
      samples: perJob((job) => job.last_success?.bytes_transferred ?? null),
    },
    {
      name: 'cairn_job_last_run_duration_seconds',
      help: 'How long the last finished backup run of the job took, whatever its outcome.',
      type: 'gauge',
      samples: perJob((job) => (job.last_run?.started_at ? (Date.parse(job.last_run.completed_at) - Date.parse(job.last_run.started_at)) / 1000 : null)),
    },
    {
      name: 'cairn_job_last_run_bytes',
      help: 'Bytes the last finished backup run of the job sent, whatever its outcome.',
      type: 'gauge',
      samples: perJob((job) => job.last_run?.bytes_transferred ?? null),
    },
    {
      name: 'cairn_job_runs_total',
      help: 'Finished backup runs of the job by final status (restores not counted).',
      type: 'counter',
      samples: jobs.flatMap((job) => (['completed', 'failed', 'cancelled'] as const).map((status) => ({ labels: { ...jobLabels(job), status }, value: job.runs[status] }))),
    },
    { name: 'cairn_job_failures_total', help: 'Failed backup runs of the job.', type: 'counter', samples: perJob((job) => job.runs.failed) },
    {
      name: 'cairn_job_consecutive_failures',
      help: 'Failed backup runs of the job since its last success (0 when the last one worked).',
      type: 'gauge',
      samples: perJob((job) => job.consecutive_failures),
    },
    { name: 'cairn_job_overdue', help: '1 when the job has gone without a successful backup for longer than its threshold.', type: 'gauge', samples: perJob((job) => (job.overdue ? 1 : 0)) },
    { name: 'cairn_job_running', help: '1 while the job has a pending or running run.', type: 'gauge', samples: perJob((job) => (job.active_run ? 1 : 0)) },
    {
      name: 'cairn_destination_free_bytes',
      help: 'Free bytes at the job destination as last read (absent when its protocol cannot tell).',
      type: 'gauge',
      samples: perJob((job) => job.destination_space.free_bytes),
    },
    { name: 'cairn_drive_size_bytes', help: 'Size of an attached drive filesystem partition.', type: 'gauge', samples: drives.map((drive) => ({ labels: driveLabels(drive), value: drive.size_bytes })) },
    {
      name: 'cairn_drive_free_bytes',
      help: 'Free bytes on a mounted drive.',
      type: 'gauge',
      samples: drives.flatMap((drive) => (drive.free_bytes === null ? [] : [{ labels: driveLabels(drive), value: drive.free_bytes }])),
    },
  ];
}
