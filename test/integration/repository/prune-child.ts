/**
 * A prune in its own process, for the kill -9 tests: `node --import tsx prune-child.ts <repo>
 * <password> <stop>` prunes the repository through a backend that, at the named step, prints
 * `STOPPED <step>` and waits forever, so that the test can kill it exactly there.
 * Steps: `index-write` (new packs written, before the new index), `index-remove` (new index
 * written, before the first old index file goes), `data-remove:<n>` (before the n-th pack removal).
 */
import { LocalBackend, openRepository, prune, type RepositoryBackend } from '../../../src/repository/index.ts';

const [repoDir, password, stop] = process.argv.slice(2);
const inner = new LocalBackend(repoDir);
let packRemovals = 0;

function stopHere(step: string): Promise<never> {
  process.stdout.write(`STOPPED ${step}\n`);
  setInterval(() => undefined, 60_000);
  return new Promise<never>(() => undefined);
}

const backend: RepositoryBackend = {
  list: (folder) => inner.list(folder),
  read: (file, range) => inner.read(file, range),
  stat: (file) => inner.stat(file),
  where: (file) => inner.where(file),
  async write(file, data) {
    if (file.startsWith('index/') && stop === 'index-write') await stopHere(stop);
    return inner.write(file, data);
  },
  async remove(file) {
    if (file.startsWith('index/') && stop === 'index-remove') await stopHere(stop);
    if (file.startsWith('data/') && stop === `data-remove:${++packRemovals}`) await stopHere(stop);
    return inner.remove(file);
  },
};

const repo = await openRepository(backend, password);
await repo.loadIndex();
const result = await prune(repo, { maxUnusedPercent: 0 });
process.stdout.write(`DONE ${JSON.stringify(result)}\n`);
