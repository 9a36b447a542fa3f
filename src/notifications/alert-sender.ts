/**
 * Sends an alert to channels and records each attempt in the history (when, job, event, channel,
 * result). What reaches the history and the daemon's log is masked for the channel's secrets.
 */
import type { AlertRecord, ChannelRecord } from '../domain/notifications.ts';
import { redact, secretTextsOf } from '../destinations/redaction.ts';
import type { Logger } from '../log.ts';
import type { AlertHistoryRepository, ChannelRepository } from '../store/index.ts';
import type { Vault } from '../vault/index.ts';
import { channelKindOf, type AlertMessage, type Delivery } from './channels/index.ts';
import { fullConfigOf } from './channel-secrets.ts';

/** How long one channel may take to answer before the send counts as failed. */
export const SEND_TIMEOUT_MS = 20_000;

export interface AlertSenderDependencies {
  channels: ChannelRepository;
  history: AlertHistoryRepository;
  vault: Vault;
  log: Logger;
  /** The alert clock (tests drive it). */
  now: () => Date;
  timeoutMs?: number;
}

export class AlertSender {
  constructor(private readonly deps: AlertSenderDependencies) {}

  /** Sends to each enabled channel among `channelIds` (unknown ones are skipped); the recorded attempts. */
  async send(channelIds: readonly number[], message: AlertMessage): Promise<AlertRecord[]> {
    const channels = channelIds.map((id) => this.deps.channels.byId(id)).filter((channel): channel is ChannelRecord => channel !== undefined && channel.enabled);
    return Promise.all(channels.map((channel) => this.sendTo(channel, message)));
  }

  /** Sends to this one channel, enabled or not (a "send test"), and records the attempt. */
  async sendTo(channel: ChannelRecord, message: AlertMessage): Promise<AlertRecord> {
    const kind = channelKindOf(channel.kind);
    const config = kind.configSchema.validate(fullConfigOf(channel, this.deps.vault)).value as Record<string, unknown>;
    const secrets = secretTextsOf(kind.secretFields, stringsOf(config, kind.secretFields));
    let delivery: Delivery;
    try {
      delivery = await kind.send(config, message, AbortSignal.timeout(this.deps.timeoutMs ?? SEND_TIMEOUT_MS));
    } catch (error) {
      // A kind that throws broke its contract; the alert still counts as not delivered.
      delivery = { ok: false, status: null, detail: String((error as Error).message ?? error) };
    }
    const detail = redact(delivery.detail, secrets);
    const record = await this.deps.history.add({
      sent_at: this.deps.now().toISOString(),
      job_id: message.job?.id ?? null,
      job_name: message.job?.name ?? null,
      event: message.event,
      channel_id: channel.id,
      channel_name: channel.name,
      channel_kind: channel.kind,
      ok: delivery.ok,
      status: delivery.status,
      detail,
      title: message.title,
    });
    const fields = { job: message.job?.name ?? null, channel: channel.name, kind: channel.kind, status: delivery.status, detail };
    if (delivery.ok) this.deps.log.info(`alert ${message.event} sent`, fields);
    else this.deps.log.warn(`alert ${message.event} not delivered`, fields);
    return record;
  }
}

function stringsOf(config: Record<string, unknown>, fields: readonly string[]): Record<string, string> {
  return Object.fromEntries(fields.filter((field) => typeof config[field] === 'string').map((field) => [field, config[field] as string]));
}
