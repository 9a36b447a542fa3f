/** Notification channels, the alert history and the alert rules' memory in the database. */
import type { AlertRecord, AlertState, ChannelRecord } from '../domain/notifications.ts';
import type { Database } from './database.ts';
import { definedFields, nextId, now } from './repositories.ts';

export class ChannelRepository {
  constructor(private readonly db: Database) {}

  all(): readonly ChannelRecord[] {
    return this.db.data.notification_channels;
  }

  byId(id: number): ChannelRecord | undefined {
    return this.db.data.notification_channels.find((channel) => channel.id === id);
  }

  byName(name: string): ChannelRecord | undefined {
    return this.db.data.notification_channels.find((channel) => channel.name === name);
  }

  async create(fields: Omit<ChannelRecord, 'id' | 'created_at' | 'updated_at'>): Promise<ChannelRecord> {
    const timestamp = now();
    const channel: ChannelRecord = { id: nextId(this.db.data, 'notification_channels'), ...fields, created_at: timestamp, updated_at: timestamp };
    this.db.data.notification_channels.push(channel);
    await this.db.write();
    return channel;
  }

  async update(channel: ChannelRecord, change: Partial<Pick<ChannelRecord, 'name' | 'enabled' | 'config' | 'secret'>>): Promise<ChannelRecord> {
    Object.assign(channel, definedFields(change), { updated_at: now() });
    await this.db.write();
    return channel;
  }

  async delete(id: number): Promise<void> {
    this.db.data.notification_channels = this.db.data.notification_channels.filter((channel) => channel.id !== id);
    await this.db.write();
  }
}

/** How many alerts the history keeps; older ones are dropped as new ones arrive. */
export const ALERT_HISTORY_LIMIT = 1000;

export class AlertHistoryRepository {
  constructor(
    private readonly db: Database,
    private readonly limit = ALERT_HISTORY_LIMIT,
  ) {}

  /** Records an alert, dropping the oldest beyond the limit; the record with its id. */
  async add(fields: Omit<AlertRecord, 'id'>): Promise<AlertRecord> {
    const record: AlertRecord = { id: nextId(this.db.data, 'notification_history'), ...fields };
    const history = this.db.data.notification_history;
    history.push(record);
    if (history.length > this.limit) history.splice(0, history.length - this.limit);
    await this.db.write();
    return record;
  }

  /** A page, newest first, of the alerts matching the filter, and how many match in all. */
  page(query: { limit: number; offset: number; job_id?: number }): { items: AlertRecord[]; total: number } {
    const matching = this.db.data.notification_history.filter((record) => query.job_id === undefined || record.job_id === query.job_id);
    const items = matching.slice().reverse().slice(query.offset, query.offset + query.limit);
    return { items, total: matching.length };
  }
}

export class AlertStateRepository {
  constructor(private readonly db: Database) {}

  /** The job's state; a fresh one (no problem known) when none is stored. */
  of(jobId: number): AlertState {
    return (
      this.db.data.alert_states.find((state) => state.job_id === jobId) ?? {
        job_id: jobId,
        failing: false,
        last_success_at: null,
        failure_alerted_at: null,
        overdue_alerted_at: null,
        space_alerted_at: null,
        damage_alerted_at: null,
      }
    );
  }

  async save(state: AlertState): Promise<void> {
    const states = this.db.data.alert_states;
    const index = states.findIndex((candidate) => candidate.job_id === state.job_id);
    if (index === -1) states.push(state);
    else states[index] = state;
    await this.db.write();
  }

  /** Forgets states of jobs that no longer exist. */
  async keepOnly(jobIds: ReadonlySet<number>): Promise<void> {
    const before = this.db.data.alert_states.length;
    this.db.data.alert_states = this.db.data.alert_states.filter((state) => jobIds.has(state.job_id));
    if (this.db.data.alert_states.length !== before) await this.db.write();
  }
}
