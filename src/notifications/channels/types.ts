/**
 * The interface every notification channel kind implements (ntfy, webhook, email …), in the manner of
 * src/destinations/types.ts: the kind owns its config schema and names its secret fields; the
 * service stores those in the vault and the registry (index.ts) is the only switch on kind.
 */
import type Joi from 'joi';
import type { AlertEvent } from '../../domain/notifications.ts';

/** What an alert says, before a channel puts it in its service's format. */
export interface AlertMessage {
  event: AlertEvent;
  /** One line: what happened to which job. */
  title: string;
  /** The whole message: job, what happened, the error, the time (settings' zone) and the box. */
  text: string;
  job: { id: number; name: string } | null;
  error: string | null;
  /** When it happened, ISO-8601 UTC. */
  time: string;
  /** The same instant in the settings' time zone, e.g. `2026-12-05 17:20:03 CET`. */
  local_time: string;
  timezone: string;
  /** The box's name (its host name). */
  box: string;
}

/** A service's answer to one alert: a refusal or an unreachable server is a delivery with `ok: false`, not an error. */
export interface Delivery {
  /** True when the service accepted the message (a 2xx answer, an SMTP 2xx reply). */
  ok: boolean;
  /** The HTTP status or SMTP reply code; null when no answer came (refused connection, timeout). */
  status: number | null;
  /** A short excerpt of the answer, or why there was none. The service masks secrets in it. */
  detail: string;
}

export interface ChannelKind<Config = Record<string, unknown>> {
  readonly kind: string;
  /** A name and a sentence for a client's form. */
  readonly name: string;
  readonly description: string;
  /**
   * joi schema of the whole config, secret fields included; unknown keys refused. Base URLs default to
   * the public service, so a test or a self-hosted server names its own.
   */
  readonly configSchema: Joi.ObjectSchema;
  /** Config fields kept in the vault and never shown (tokens, passwords, URLs that embed a secret). */
  readonly secretFields: readonly string[];
  /**
   * Config fields that say where a send goes, and how safely (server, port, TLS): the secrets travel
   * there, so a change of any of them must come with the secrets again (channel-secrets.ts).
   */
  readonly addressFields: readonly string[];
  /**
   * Sends `message` once in the service's documented format and reports the service's answer. Never
   * throws for what the service or network does (that is `ok: false`); gives up when `signal` aborts.
   */
  send(config: Config, message: AlertMessage, signal: AbortSignal): Promise<Delivery>;
}
