/** The sync context the engine benchmarks hand `syncToStore`: one source, deletes on, nothing logged. */
import type { SyncContext } from '../src/destinations/types.ts';
import type { TransferTotals } from '../src/domain/runs.ts';

/**
 * A context that mirrors `source` (delete_extraneous on), remembers sent files in `stateFile` and pins any host key.
 * It takes a plan, as the daemon's runs do: the engine compares once to count, and a run with nothing to do ends there.
 */
export function benchSyncContext(source: string, stateFile: string, progress: (totals: TransferTotals) => void = () => undefined): SyncContext<unknown> {
  return {
    config: {},
    secret: null,
    sources: [source],
    realSources: [source],
    options: { delete_extraneous: true, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' },
    signal: new AbortController().signal,
    stateFile,
    hostKeys: { check: async () => 'pinned' },
    log: () => undefined,
    progress,
    plan: () => undefined,
  };
}
