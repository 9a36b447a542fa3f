/**
 * The settings workflow behind the API (contract: Settings): a validated change is merged and saved,
 * then whatever depends on the settings follows (the time zone moves every schedule's next run).
 */
import type { Settings, SettingsChange } from '../domain/settings.ts';
import type { SettingsRepository } from '../store/index.ts';

export class SettingsService {
  /**
   * @param afterChange called once a change is on disk (the daemon refreshes the scheduler)
   * @param checkChannels refuses (400 CHANNEL_NOT_FOUND) alert channel ids that do not exist, before anything is saved
   */
  constructor(
    private readonly settings: SettingsRepository,
    private readonly afterChange: () => void,
    private readonly checkChannels: (ids: readonly number[]) => void = () => undefined,
  ) {}

  /** The effective settings: what the owner set over the defaults. */
  get(): Settings {
    return this.settings.get();
  }

  /** Merges a validated change (omitted keys stay; `notify` merges key by key), saves it, and lets dependants follow; the new settings. */
  async update(change: SettingsChange): Promise<Settings> {
    if (change.notify?.channel_ids) this.checkChannels(change.notify.channel_ids);
    const updated = await this.settings.update(change);
    this.afterChange();
    return updated;
  }
}
