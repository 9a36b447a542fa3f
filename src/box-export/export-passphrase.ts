/**
 * The owner's export passphrase, a write-only setting: kept as vault ciphertext in its own file in
 * the data dir (0600), never in the settings record, so no settings answer or serializer can show it.
 */
import { existsSync, promises as fs } from 'node:fs';
import { writeFileDurably } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';

export const EXPORT_PASSPHRASE_FILE = 'export-passphrase.sealed';

export class ExportPassphrase {
  private sealed: string | null;

  private constructor(
    private readonly file: string,
    private readonly vault: Vault,
    sealed: string | null,
  ) {
    this.sealed = sealed;
  }

  /** Reads the file if there is one. */
  static async open(file: string, vault: Vault): Promise<ExportPassphrase> {
    const sealed = existsSync(file) ? (await fs.readFile(file, 'utf8')).trim() || null : null;
    return new ExportPassphrase(file, vault, sealed);
  }

  /** True when the owner has set one: automatic exports are written only then. */
  isSet(): boolean {
    return this.sealed !== null;
  }

  /** The passphrase, for sealing an export; null when none is set. */
  reveal(): string | null {
    return this.sealed === null ? null : this.vault.decrypt(this.sealed);
  }

  /** Sets (durably) or, with null, removes the passphrase. */
  async set(passphrase: string | null): Promise<void> {
    if (passphrase === null) {
      await fs.rm(this.file, { force: true });
      this.sealed = null;
      return;
    }
    const sealed = this.vault.encrypt(passphrase);
    await writeFileDurably(this.file, sealed);
    this.sealed = sealed;
  }
}
