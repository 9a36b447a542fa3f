/** Pinned SSH host keys, kept in one JSON file in the data dir: `{ "host:port": "SHA256:…" }`. */
import { promises as fs } from 'node:fs';
import { writeFileDurably } from '../store/durable-file.ts';
import type { HostKeyPins } from './types.ts';

export class FileHostKeyPins implements HostKeyPins {
  /** Checks run one after another, so two first connections cannot pin two keys. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly file: string) {}

  check(host: string, fingerprint: string): Promise<'pinned' | 'matched' | 'mismatch'> {
    const result = this.queue.then(async () => {
      const pins = await this.read();
      if (pins[host] === fingerprint) return 'matched' as const;
      if (pins[host] !== undefined) return 'mismatch' as const;
      pins[host] = fingerprint;
      await writeFileDurably(this.file, JSON.stringify(pins, null, 2));
      return 'pinned' as const;
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async read(): Promise<Record<string, string>> {
    try {
      return JSON.parse(await fs.readFile(this.file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      // A damaged pin file must not silently trust every key again.
      throw new Error(`The pinned host keys in ${this.file} cannot be read (${(error as Error).message}); fix or remove the file`);
    }
  }
}
