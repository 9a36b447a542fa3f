/** Cached, single-flight reads of system state. */

/**
 * A read of system state (a program's output, a /proc file) shared between callers: those who ask
 * while a read runs get that read's answer (single flight), and those who ask within `maxAgeMs` of
 * its start get it too, so a burst of N callers costs one read instead of N processes.
 */
export class SharedRead<T> {
  private last: { value: T; readAt: number } | null = null;
  private inFlight: { answer: Promise<T>; generation: number } | null = null;
  /** Bumped by `invalidate()`; a read started before the bump is never handed to later callers. */
  private generation = 0;

  /**
   * @param read the real read; a failure is passed to every caller sharing it and is not kept
   * @param maxAgeMs how long an answer is reused, counted from when its read started
   * @param now the clock (tests move it)
   */
  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The last answer if younger than `maxAgeMs`, else the running read's, else a new read's. */
  get(): Promise<T> {
    if (this.last && this.now() - this.last.readAt < this.maxAgeMs) return Promise.resolve(this.last.value);
    if (this.inFlight?.generation === this.generation) return this.inFlight.answer;
    const generation = this.generation;
    const readAt = this.now();
    const answer: Promise<T> = Promise.resolve()
      .then(() => this.read())
      .then((value) => {
        if (generation === this.generation) this.last = { value, readAt };
        return value;
      })
      .finally(() => {
        if (this.inFlight?.answer === answer) this.inFlight = null;
      });
    this.inFlight = { answer, generation };
    return answer;
  }

  /**
   * The state changed (or may have): the next `get()` reads again, even if a read is running now,
   * since that read may have looked before the change.
   */
  invalidate(): void {
    this.generation += 1;
    this.last = null;
  }
}
