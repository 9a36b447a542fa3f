/**
 * The settings workflow behind the API (contract: Settings): a validated change is merged and saved,
 * then whatever depends on the settings follows (the time zone moves every schedule's next run).
 */
import type { Settings } from '../domain/settings.ts';
import type { SettingsRepository } from '../store/index.ts';

export class SettingsService {
  /** @param afterChange called once a change is on disk (the daemon refreshes the scheduler) */
  constructor(
    private readonly settings: SettingsRepository,
    private readonly afterChange: () => void,
  ) {}

  /** The effective settings: what the owner set over the defaults. */
  get(): Settings {
    return this.settings.get();
  }

  /** Merges a validated change (omitted keys stay), saves it, and lets dependants follow; the new settings. */
  async update(change: Partial<Settings>): Promise<Settings> {
    const updated = await this.settings.update(change);
    this.afterChange();
    return updated;
  }
}
