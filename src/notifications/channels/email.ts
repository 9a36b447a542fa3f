/**
 * Email over SMTP with nodemailer: `security` is `starttls` (port 587, upgrade required), `tls`
 * (port 465, TLS from the first byte) or `none` (a local relay). Auth when `username` is set.
 */
import Joi from 'joi';
import { excerpt } from './http-post.ts';
import { secretText } from './schema-parts.ts';
import type { AlertMessage, ChannelKind, Delivery } from './types.ts';

export const EMAIL_SECURITY = ['starttls', 'tls', 'none'] as const;

export interface EmailConfig {
  host: string;
  port: number;
  security: (typeof EMAIL_SECURITY)[number];
  /** Accept a server certificate that does not verify (a LAN server's self-signed one). */
  allow_invalid_certificate: boolean;
  username?: string;
  password?: string;
  from: string;
  to: string[];
}

/** How long each SMTP step may take before the send gives up. */
const SMTP_TIMEOUT_MS = 15_000;

const address = Joi.string().email({ tlds: false }).max(254);

const configSchema = Joi.object({
  host: Joi.string().hostname().required(),
  port: Joi.number()
    .integer()
    .min(1)
    .max(65535)
    .default((parent: { security?: string }) => (parent.security === 'tls' ? 465 : parent.security === 'none' ? 25 : 587)),
  security: Joi.string()
    .valid(...EMAIL_SECURITY)
    .default('starttls'),
  allow_invalid_certificate: Joi.boolean().default(false),
  username: Joi.string().min(1).max(254),
  password: secretText,
  from: address.required(),
  to: Joi.array().items(address).min(1).max(20).required(),
}).and('username', 'password');

async function send(config: EmailConfig, message: AlertMessage, signal: AbortSignal): Promise<Delivery> {
  // Loaded at the first email, not at start: its ~250 kB of modules would sit in every daemon's heap,
  // and most boxes never send an email.
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.security === 'tls',
    requireTLS: config.security === 'starttls',
    ignoreTLS: config.security === 'none',
    auth: config.username ? { user: config.username, pass: config.password } : undefined,
    tls: { rejectUnauthorized: !config.allow_invalid_certificate },
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  const onAbort = () => transport.close();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const info = await transport.sendMail({ from: config.from, to: config.to, subject: message.title, text: message.text });
    return { ok: true, status: replyCodeOf(info.response), detail: excerpt(String(info.response ?? 'accepted')) };
  } catch (error) {
    const failure = error as { responseCode?: number; message?: string; code?: string };
    return { ok: false, status: failure.responseCode ?? null, detail: excerpt(failure.message ?? failure.code ?? String(error)) };
  } finally {
    signal.removeEventListener('abort', onAbort);
    transport.close();
  }
}

function replyCodeOf(response: unknown): number | null {
  const match = /^(\d{3})/.exec(String(response ?? ''));
  return match ? Number(match[1]) : null;
}

export const emailChannel: ChannelKind<EmailConfig> = {
  kind: 'email',
  name: 'Email',
  description: 'Mail through an SMTP server (STARTTLS, TLS or plain, with or without login)',
  configSchema,
  secretFields: ['password'],
  addressFields: ['host', 'port', 'security', 'allow_invalid_certificate'],
  send,
};
