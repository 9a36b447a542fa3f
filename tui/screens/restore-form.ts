/** Restoring a job's backup into a folder: where, what (optional), and whether its sources may be written. */
import type blessed from 'blessed';
import type { TuiApi } from '../api.ts';
import { runForm } from './form.ts';

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** A snapshot to restore from: its id, how the owner reads its time, and paths inside it to offer. */
export interface RestoreFrom {
  snapshotId: string;
  label: string;
  paths?: string[];
}

/**
 * Resolves with what to tell the owner, or null when they left the form. `from` restores a
 * snapshots job from that snapshot (else the API's default: a mirror's copy, or the newest snapshot).
 */
export function restoreJob(screen: blessed.Widgets.Screen, api: TuiApi, job: { id: number; name: string }, color: boolean, from?: RestoreFrom): Promise<string | null> {
  return runForm(
    screen,
    {
      title: from ? `Restore ${job.name} from ${from.label}` : `Restore ${job.name}`,
      fields: [
        { key: 'target', label: 'Into folder', value: '' },
        { key: 'paths', label: 'Only (paths)', value: (from?.paths ?? []).join(', ') },
        { key: 'overwrite', label: 'Over sources', value: 'n' },
      ],
      async submit(values) {
        const paths = list(values.paths);
        const started = await api.restore(job.id, {
          target_dir: values.target.trim(),
          ...(paths.length > 0 ? { paths } : {}),
          overwrite_sources: /^y/i.test(values.overwrite.trim()),
          ...(from ? { snapshot_id: from.snapshotId } : {}),
        });
        return `restoring ${job.name}${from ? ` from ${from.label}` : ''} into ${started.target_dir} (run ${started.run_id})`;
      },
      fieldOfError: (error) => (error.code === 'RESTORE_OVER_SOURCES' ? 'overwrite' : /paths/.test(error.message) ? 'paths' : 'target'),
    },
    color,
  );
}
