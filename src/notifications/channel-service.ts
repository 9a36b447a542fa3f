/**
 * Notification channel workflows (API: Notifications): a config is checked against its kind, its
 * secret fields are encrypted in the vault and never leave the daemon; the one serializer shows
 * which secrets are set, not what they are. "Send test" really sends and reports the answer.
 */
import { conflict, invalid, notFound } from '../domain/errors.ts';
import type { ChannelRecord, ChannelView } from '../domain/notifications.ts';
import type { ChannelRepository } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';
import type { AlertSender } from './alert-sender.ts';
import { channelKindOf, validateChannelConfig } from './channels/index.ts';
import { checkSecretsGivenOnMove, fullConfigOf, secretsOf, splitConfig } from './channel-secrets.ts';
import { composeAlert } from './messages.ts';

/** A send test's answer: the service's refusal is an answer (`ok: false`), not an error. */
export interface ChannelTestResult {
  ok: boolean;
  /** The HTTP status or SMTP reply code; null when the service could not be reached. */
  status: number | null;
  /** The service's answer, shortened, or why there was none. */
  detail: string;
}

export interface ChannelServiceDependencies {
  channels: ChannelRepository;
  vault: Vault;
  sender: AlertSender;
  /** Who uses a channel: jobs whose `notify` names it, and whether the settings' defaults do. */
  usersOf(id: number): { jobs: Array<{ id: number; name: string }>; defaults: boolean };
  /** The alert clock, the settings' zone and the box's name, for the test message. */
  now(): Date;
  timezone(): string;
  box: string;
}

export class ChannelService {
  constructor(private readonly deps: ChannelServiceDependencies) {}

  list(): ChannelView[] {
    return this.deps.channels.all().map((channel) => this.view(channel));
  }

  get(id: number): ChannelView {
    return this.view(this.require(id));
  }

  /** 400 CHANNEL_NOT_FOUND naming the first id that does not exist (for rules that name channels). */
  checkExist(ids: readonly number[]): void {
    const missing = ids.find((id) => !this.deps.channels.byId(id));
    if (missing !== undefined) throw invalid('CHANNEL_NOT_FOUND', `Notification channel ${missing} does not exist`);
  }

  async create(input: { name: string; kind: string; enabled: boolean; config: Record<string, unknown> }): Promise<ChannelView> {
    this.checkNameFree(input.name, null);
    const stored = splitConfig(input.kind, validateChannelConfig(input.kind, input.config), this.deps.vault);
    return this.view(await this.deps.channels.create({ name: input.name, kind: input.kind, enabled: input.enabled, ...stored }));
  }

  /**
   * Renames, enables/disables, and/or changes config keys: given keys replace stored ones (secrets
   * too), `null` removes an optional key, and keys left out stay, so secrets need not be sent again,
   * unless the change moves the channel's address (400 CHANNEL_SECRET_REQUIRED, see channel-secrets.ts).
   */
  async update(id: number, change: { name?: string; enabled?: boolean; config?: Record<string, unknown> }): Promise<ChannelView> {
    const channel = this.require(id);
    if (change.name !== undefined) this.checkNameFree(change.name, id);
    let stored: { config: Record<string, unknown>; secret: string } | undefined;
    if (change.config !== undefined) {
      const before = fullConfigOf(channel, this.deps.vault);
      const merged: Record<string, unknown> = { ...before, ...change.config };
      for (const [key, value] of Object.entries(change.config)) if (value === null) delete merged[key];
      const after = validateChannelConfig(channel.kind, merged);
      checkSecretsGivenOnMove(channel.kind, before, after, change.config);
      stored = splitConfig(channel.kind, after, this.deps.vault);
    }
    return this.view(await this.deps.channels.update(channel, { name: change.name, enabled: change.enabled, ...stored }));
  }

  /** Deletes a channel no rule uses; a 409 naming the users otherwise. */
  async delete(id: number): Promise<void> {
    this.require(id);
    const users = this.deps.usersOf(id);
    if (users.jobs.length > 0 || users.defaults) {
      const who = [...(users.defaults ? ['the default rules (settings)'] : []), ...users.jobs.map((job) => `job "${job.name}"`)];
      throw conflict('CHANNEL_IN_USE', `The channel is used by ${who.join(', ')}; remove it there first`, { details: { jobs: users.jobs.map((job) => job.name), defaults: users.defaults } });
    }
    await this.deps.channels.delete(id);
  }

  /** Sends a test message now (recorded in the history as event `test`) and reports the service's answer. */
  async test(id: number): Promise<ChannelTestResult> {
    const channel = this.require(id);
    const message = composeAlert({ event: 'test', job: null, error: null, at: this.deps.now(), timezone: this.deps.timezone(), box: this.deps.box, channelName: channel.name });
    const record = await this.deps.sender.sendTo(channel, message);
    return { ok: record.ok, status: record.status, detail: record.detail };
  }

  /** The one serializer of a channel: picks each field; secrets only by name. */
  private view(channel: ChannelRecord): ChannelView {
    const secretFields = channelKindOf(channel.kind).secretFields;
    const set = Object.keys(secretsOf(channel, this.deps.vault));
    return {
      id: channel.id,
      name: channel.name,
      kind: channel.kind,
      enabled: channel.enabled,
      config: Object.fromEntries(Object.entries(channel.config).filter(([key]) => !secretFields.includes(key))),
      secrets_set: secretFields.filter((field) => set.includes(field)),
      created_at: channel.created_at,
      updated_at: channel.updated_at,
    };
  }

  private require(id: number): ChannelRecord {
    const channel = this.deps.channels.byId(id);
    if (!channel) throw notFound('CHANNEL_NOT_FOUND', 'Notification channel not found');
    return channel;
  }

  private checkNameFree(name: string, id: number | null): void {
    const taken = this.deps.channels.byName(name);
    if (taken && taken.id !== id) throw conflict('CHANNEL_NAME_TAKEN', `A notification channel named "${name}" already exists`);
  }
}
