/**
 * Small upload bodies gathered whole, for one PutObject each (its SHA-256 is signed, so a body is
 * sent from memory). Gathering a file's chunks and then concatenating them held every 64 KiB chunk
 * it was read in until its last one, then a copy of the whole: twice the file, left for V8 to free,
 * and the chunks, kept across several young collections, were freed only by a full one. Here a body
 * that comes in one chunk (a file of up to 64 KiB, read at once; a repository's pack) is that chunk,
 * not copied, and one that comes in many is copied as it comes into a buffer kept for the next
 * body, so each chunk is garbage at once and no new buffer is made per file.
 */
export interface GatheredBody {
  content: Buffer;
  /** Gives the buffer back for the next body: call once `content` is no longer used. */
  release(): void;
}

export class BodyBuffers {
  private readonly free: Buffer[] = [];

  constructor(
    /** The size of each buffer kept: bodies up to it are gathered without a new buffer. */
    private readonly size: number,
    /** How many buffers are kept at most (as many as bodies are gathered at once). */
    private readonly kept: number,
  ) {}

  async gather(body: AsyncIterable<Buffer>): Promise<GatheredBody> {
    let only: Buffer | null = null;
    // Where the chunks are copied once there is more than one.
    let into: Buffer | null = null;
    let length = 0;
    try {
      for await (const chunk of body) {
        if (only === null && into === null) {
          only = chunk;
          length = chunk.length;
          continue;
        }
        if (into === null) {
          into = this.take(length + chunk.length);
          only!.copy(into);
          only = null;
        } else if (length + chunk.length > into.length) {
          // Longer than a kept buffer (not a body under `size`): a larger one, used once.
          const larger = Buffer.allocUnsafe(Math.max(length + chunk.length, 2 * into.length));
          into.copy(larger, 0, 0, length);
          this.give(into);
          into = larger;
        }
        chunk.copy(into, length);
        length += chunk.length;
      }
    } catch (error) {
      if (into) this.give(into);
      throw error;
    }
    if (into === null) return { content: only ?? Buffer.alloc(0), release: () => undefined };
    const used = into;
    let released = false;
    return {
      content: used.subarray(0, length),
      release: () => {
        if (!released) this.give(used);
        released = true;
      },
    };
  }

  private take(length: number): Buffer {
    if (length > this.size) return Buffer.allocUnsafe(length);
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  private give(buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.kept && !this.free.includes(buffer)) this.free.push(buffer);
  }
}
