/**
 * Real servers on 127.0.0.1 that stand in for the notification services: an HTTP receiver that
 * checks each service's documented request format and answers as the service does, and an SMTP
 * server (smtp-server) that records each message it accepts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  json: any;
}

/** What a receiver answers to one request. */
export interface Answer {
  status: number;
  body?: string | object;
}

export interface HttpReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Answers every later request with this status and body, whatever the request (a broken service). */
  failWith(answer: Answer | null): void;
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 that records each request and answers what `answer` says. */
export async function startHttpReceiver(answer: (request: ReceivedRequest) => Answer): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  let failure: Answer | null = null;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: any = null;
      try {
        json = JSON.parse(body);
      } catch {
        // not JSON
      }
      const request: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
      requests.push(request);
      const reply = failure ?? answer(request);
      const payload = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': typeof reply.body === 'object' ? 'application/json' : 'text/plain' });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    failWith: (next) => (failure = next),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const isJson = (request: ReceivedRequest) => String(request.headers['content-type']).startsWith('application/json') && request.json !== null;

/** ntfy's JSON publishing (docs.ntfy.sh/publish/#publish-as-json): POST / with topic and message; a token as Bearer. */
export function ntfyService(token: string | null): (request: ReceivedRequest) => Answer {
  return (request) => {
    if (request.method !== 'POST' || request.path !== '/') return { status: 404, body: { code: 40401, http: 404, error: 'page not found' } };
    if (token !== null && request.headers.authorization !== `Bearer ${token}`) return { status: 401, body: { code: 40101, http: 401, error: 'unauthorized' } };
    if (!isJson(request) || typeof request.json.topic !== 'string' || typeof request.json.message !== 'string') {
      return { status: 400, body: { code: 40024, http: 400, error: 'invalid request: topic invalid' } };
    }
    return { status: 200, body: { id: 'abc123', time: 1, event: 'message', topic: request.json.topic, message: request.json.message } };
  };
}

/** Telegram's sendMessage (core.telegram.org/bots/api#sendmessage): POST /bot<token>/sendMessage with chat_id and text. */
export function telegramService(botToken: string): (request: ReceivedRequest) => Answer {
  return (request) => {
    if (request.path !== `/bot${botToken}/sendMessage`) return { status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } };
    if (!isJson(request) || request.json.chat_id === undefined || typeof request.json.text !== 'string' || request.json.text === '') {
      return { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: message text is empty' } };
    }
    return { status: 200, body: { ok: true, result: { message_id: 1, chat: { id: request.json.chat_id }, text: request.json.text } } };
  };
}

/** A Discord webhook (discord.com/developers/docs/resources/webhook#execute-webhook): JSON content ≤ 2000, answered 204. */
export function discordService(webhookPath: string): (request: ReceivedRequest) => Answer {
  return (request) => {
    if (request.method !== 'POST' || request.path !== webhookPath) return { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };
    if (!isJson(request) || typeof request.json.content !== 'string' || request.json.content.length > 2000) {
      return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
    }
    return { status: 204 };
  };
}

/** A Slack incoming webhook (api.slack.com/messaging/webhooks): JSON text, answered 200 `ok`. */
export function slackService(webhookPath: string): (request: ReceivedRequest) => Answer {
  return (request) => {
    if (request.method !== 'POST' || request.path !== webhookPath) return { status: 403, body: 'invalid_token' };
    if (!isJson(request) || typeof request.json.text !== 'string' || request.json.text === '') return { status: 400, body: 'no_text' };
    return { status: 200, body: 'ok' };
  };
}

/** Gotify's POST /message (gotify.net/api-docs): the app token in X-Gotify-Key (or ?token=), JSON with message. */
export function gotifyService(appToken: string): (request: ReceivedRequest) => Answer {
  return (request) => {
    const url = new URL(request.path, 'http://x');
    if (request.method !== 'POST' || url.pathname !== '/message') return { status: 404, body: { error: 'Not Found', errorCode: 404 } };
    if (request.headers['x-gotify-key'] !== appToken && url.searchParams.get('token') !== appToken) {
      return { status: 401, body: { error: 'Unauthorized', errorCode: 401, errorDescription: 'you need to provide a valid access token or user credentials to access this api' } };
    }
    if (!isJson(request) || typeof request.json.message !== 'string') return { status: 400, body: { error: 'Bad Request', errorCode: 400, errorDescription: 'Field message is required' } };
    return { status: 200, body: { id: 1, appid: 1, message: request.json.message, title: request.json.title, priority: request.json.priority } };
  };
}

/** A webhook receiver that checks `X-Cairn-Signature: sha256=<hex>` over the exact body with `secret`. */
export function signedWebhookService(secret: string): (request: ReceivedRequest) => Answer {
  return (request) => {
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`);
    const given = Buffer.from(String(request.headers['x-cairn-signature'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { status: 401, body: { error: 'bad signature' } };
    if (!isJson(request)) return { status: 400, body: { error: 'not JSON' } };
    return { status: 200, body: { received: true } };
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | null;
  subject: string;
  text: string;
  raw: string;
}

export interface SmtpRecorder {
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

/**
 * A real SMTP server on 127.0.0.1 that records each message. With `auth`, it requires that login
 * (over a plain connection, as a LAN relay may); with `starttls`, it offers STARTTLS with
 * smtp-server's own self-signed certificate.
 */
export async function startSmtpRecorder(options: { auth?: { user: string; pass: string }; starttls?: boolean } = {}): Promise<SmtpRecorder> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: !options.auth,
    allowInsecureAuth: true,
    disabledCommands: options.starttls ? [] : ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const { headers, body } = splitMessage(raw);
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          user: (session.user as string | undefined) ?? null,
          subject: decodeEncodedWords(headers.subject ?? ''),
          text: /quoted-printable/i.test(headers['content-transfer-encoding'] ?? '') ? decodeQuotedPrintable(body) : body,
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    messages,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Headers (lower-case names, folded lines joined) and body of a single-part message. */
function splitMessage(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of raw.slice(0, end).replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: raw.slice(end + 4) };
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`) as text; whitespace between two of them goes. */
function decodeEncodedWords(header: string): string {
  return header.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, _charset: string, encoding: string, data: string) =>
    encoding.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : decodeQuotedPrintable(data.replace(/_/g, ' ')),
  );
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
