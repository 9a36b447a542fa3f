/**
 * Entry point of the single binary (scripts/build-binary.mjs): the same CLI, already compiled.
 * `cairn repository-worker` (hidden: the daemon starts it, with an IPC channel) is the repository
 * engine's process (src/runs/repository-worker.ts). Both are imported on demand, so that the
 * engine's process evaluates the engine's modules only, not the daemon's (esbuild keeps each
 * dynamically imported module lazy in the one bundle).
 */
if (process.argv[2] === 'repository-worker' && process.argv.length === 3) {
  void import('../src/runs/repository-worker.ts');
} else {
  Promise.all([import('../src/main.ts'), import('../src/runs/repository-runs.ts')])
    .then(([{ main }, { useRepositoryWorkerCommand }]) => {
      // The binary runs its repository tasks as its own hidden command; its SEA flags apply there too.
      // Through /proc/self/exe on Linux: the file this daemon runs from, even after an update renamed a
      // new binary into its path (whose engine would then talk to an older daemon).
      useRepositoryWorkerCommand(process.platform === 'linux' ? '/proc/self/exe' : process.execPath, ['repository-worker']);
      return main(process.argv.slice(2));
    })
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
}
