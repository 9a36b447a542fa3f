/** Runs `work` on every item with at most `limit` at once; stops taking items at the first failure or abort and rethrows it. */
export async function forEachLimited<T>(items: Iterable<T>, limit: number, signal: AbortSignal, work: (item: T) => Promise<void>): Promise<void> {
  const queue = items[Symbol.iterator]();
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    for (let next = queue.next(); !next.done; next = queue.next()) {
      if (failure || signal.aborted) return;
      try {
        await work(next.value);
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  signal.throwIfAborted();
  if (failure) throw (failure as { error: unknown }).error;
}
