/**
 * The settings workflow behind the API (contract: Settings): a validated change is merged and saved,
 * then whatever depends on the settings follows (the time zone moves every schedule's next run).
 */
import type { SettingsUpdate, SettingsView } from '../domain/settings.ts';
import type { SettingsRepository } from '../store/index.ts';

export class SettingsService {
  /**
   * @param afterChange called once a change is on disk (the daemon refreshes the scheduler)
   * @param checkChannels refuses (400 CHANNEL_NOT_FOUND) alert channel ids that do not exist, before anything is saved
   * @param exportPassphrase where the write-only export passphrase is kept (box-export/ExportPassphrase)
   */
  constructor(
    private readonly settings: SettingsRepository,
    private readonly afterChange: () => void,
    private readonly checkChannels: (ids: readonly number[]) => void = () => undefined,
    private readonly exportPassphrase: { isSet(): boolean; set(passphrase: string | null): Promise<void> } | null = null,
  ) {}

  /** The effective settings (what the owner set over the defaults), with whether an export passphrase is set. */
  get(): SettingsView {
    return { ...this.settings.get(), export_passphrase_set: this.exportPassphrase?.isSet() ?? false };
  }

  /**
   * Merges a validated change (omitted keys stay; `notify` merges key by key), saves it, and lets
   * dependants follow; the new settings. `export_passphrase` goes to its own sealed keeping.
   */
  async update(update: SettingsUpdate): Promise<SettingsView> {
    const { export_passphrase: passphrase, ...change } = update;
    if (change.notify?.channel_ids) this.checkChannels(change.notify.channel_ids);
    if (passphrase !== undefined) {
      if (!this.exportPassphrase) throw new Error('no keeper for the export passphrase');
      await this.exportPassphrase.set(passphrase);
    }
    await this.settings.update(change);
    this.afterChange();
    return this.get();
  }
}
