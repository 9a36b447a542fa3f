/** Entry point of the single binary (scripts/build-binary.mjs): the same CLI, already compiled. */
import { getAsset, isSea } from 'node:sea';
import { main } from '../src/main.ts';
import { useBundledRepositoryWorker } from '../src/runs/repository-runs.ts';

// The repository worker travels in the binary as a SEA asset (no file beside the binary); it is
// read only when a repository task first needs a worker.
if (isSea()) useBundledRepositoryWorker(() => getAsset('repository-worker.cjs', 'utf8'));

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
