import { createHmac } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { allFileText, isErrorShape, recordBodies, startTestDaemon, type ApiClient, type TestDaemon } from '../../helpers.ts';
import {
  discordService,
  gotifyService,
  ntfyService,
  signedWebhookService,
  slackService,
  startHttpReceiver,
  startSmtpRecorder,
  telegramService,
  type HttpReceiver,
} from './receivers.ts';

const NTFY_TOKEN = 'tk_ntfysecret0000000000000000';
const BOT_TOKEN = '123456789:AAHsecretBotTokenValue_abcdefghij';
const DISCORD_PATH = '/api/webhooks/1234567890/discordSecretWebhookToken-xyz';
const SLACK_PATH = '/services/T000/B000/slackSecretPathXXXXXXXX';
const GOTIFY_TOKEN = 'AgotifySecretAppToken';
const HMAC_KEY = 'webhook-hmac-key-very-secret';
const SMTP_PASSWORD = 'smtp-password-secret-42';
const SECRETS = [NTFY_TOKEN, BOT_TOKEN, 'discordSecretWebhookToken-xyz', 'slackSecretPathXXXXXXXX', GOTIFY_TOKEN, HMAC_KEY, SMTP_PASSWORD];

const channels = suite<{ daemon: TestDaemon; client: ApiClient; bodies: string[]; receivers: HttpReceiver[] }>('notification channels');

channels.before.each(async (context) => {
  context.daemon = await startTestDaemon();
  context.client = context.daemon.client();
  await context.client.setupAdmin();
  context.bodies = recordBodies(context.client);
  context.receivers = [];
});
channels.after.each(async ({ daemon, receivers }) => {
  await daemon.stop();
  for (const receiver of receivers) await receiver.close();
});

async function receiver(context: { receivers: HttpReceiver[] }, service: Parameters<typeof startHttpReceiver>[0]): Promise<HttpReceiver> {
  const started = await startHttpReceiver(service);
  context.receivers.push(started);
  return started;
}

async function createChannel(client: ApiClient, body: Record<string, unknown>): Promise<any> {
  const response = await client.post('/api/notifications/channels', body);
  if (response.status !== 201) throw new Error(`channel not created: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

channels('each HTTP channel\'s "send test" arrives in its service\'s documented format and reports the answer', async (context) => {
  const { client } = context;
  const ntfy = await receiver(context, ntfyService(NTFY_TOKEN));
  const telegram = await receiver(context, telegramService(BOT_TOKEN));
  const discord = await receiver(context, discordService(DISCORD_PATH));
  const slack = await receiver(context, slackService(SLACK_PATH));
  const gotify = await receiver(context, gotifyService(GOTIFY_TOKEN));
  const webhook = await receiver(context, signedWebhookService(HMAC_KEY));

  const cases: Array<[HttpReceiver, Record<string, unknown>, number]> = [
    [ntfy, { name: 'Phone', kind: 'ntfy', config: { base_url: ntfy.url, topic: 'cairn-alerts', token: NTFY_TOKEN } }, 200],
    [telegram, { name: 'Telegram', kind: 'telegram', config: { base_url: telegram.url, bot_token: BOT_TOKEN, chat_id: -1001234567890 } }, 200],
    [discord, { name: 'Discord', kind: 'discord', config: { webhook_url: discord.url + DISCORD_PATH } }, 204],
    [slack, { name: 'Slack', kind: 'slack', config: { webhook_url: slack.url + SLACK_PATH } }, 200],
    [gotify, { name: 'Gotify', kind: 'gotify', config: { base_url: gotify.url, app_token: GOTIFY_TOKEN } }, 200],
    [webhook, { name: 'Hook', kind: 'webhook', config: { url: `${webhook.url}/cairn`, hmac_secret: HMAC_KEY } }, 200],
  ];
  for (const [server, body, status] of cases) {
    const channel = await createChannel(client, body);
    const tested = await client.post(`/api/notifications/channels/${channel.id}/test`);
    assert.is(tested.status, 200, body.kind as string);
    assert.is(tested.body.ok, true, `${body.kind}: ${JSON.stringify(tested.body)}`);
    assert.is(tested.body.status, status, body.kind as string);
    assert.is(server.requests.length, 1, `${body.kind} got one request`);
  }

  assert.equal(ntfy.requests[0].json.topic, 'cairn-alerts');
  assert.match(ntfy.requests[0].json.title, /Test message from Cairn/);
  assert.match(telegram.requests[0].json.text, /the channel "Telegram" works/);
  assert.is(telegram.requests[0].json.chat_id, -1001234567890);
  assert.match(discord.requests[0].json.content, /the channel "Discord" works/);
  assert.match(slack.requests[0].json.text, /the channel "Slack" works/);
  assert.match(gotify.requests[0].json.message, /the channel "Gotify" works/);
  const hook = webhook.requests[0];
  assert.is(hook.path, '/cairn');
  assert.is(hook.headers['x-cairn-signature'], `sha256=${createHmac('sha256', HMAC_KEY).update(hook.body).digest('hex')}`);
  assert.is(hook.json.event, 'test');
  assert.ok(hook.json.time && hook.json.local_time && hook.json.box, 'the webhook body carries the time and the box');

  const history = await client.get('/api/notifications/history');
  assert.is(history.body.total, 6);
  assert.ok(history.body.items.every((item: any) => item.event === 'test' && item.ok === true));
});

channels('an email channel sends its test through a real SMTP server, with login, and over STARTTLS', async (context) => {
  const { client } = context;
  const plain = await startSmtpRecorder({ auth: { user: 'cairn', pass: SMTP_PASSWORD } });
  const tls = await startSmtpRecorder({ starttls: true });
  try {
    const mail = await createChannel(client, {
      name: 'Mail',
      kind: 'email',
      config: { host: '127.0.0.1', port: plain.port, security: 'none', username: 'cairn', password: SMTP_PASSWORD, from: 'cairn@box.example', to: ['owner@example.com'] },
    });
    const tested = await client.post(`/api/notifications/channels/${mail.id}/test`);
    assert.is(tested.body.ok, true, JSON.stringify(tested.body));
    assert.is(tested.body.status, 250);
    assert.is(plain.messages.length, 1);
    assert.equal(plain.messages[0].to, ['owner@example.com']);
    assert.is(plain.messages[0].user, 'cairn');
    assert.match(plain.messages[0].subject, /Test message from Cairn/);
    assert.match(plain.messages[0].text, /the channel "Mail" works/);

    // A certificate that does not verify is refused unless the owner says to accept it.
    const strict = await createChannel(client, { name: 'TLS', kind: 'email', config: { host: '127.0.0.1', port: tls.port, from: 'cairn@box.example', to: ['owner@example.com'] } });
    const refused = await client.post(`/api/notifications/channels/${strict.id}/test`);
    assert.is(refused.status, 200);
    assert.is(refused.body.ok, false);
    assert.match(refused.body.detail, /certificate/i);
    await client.put(`/api/notifications/channels/${strict.id}`, { config: { allow_invalid_certificate: true } });
    const accepted = await client.post(`/api/notifications/channels/${strict.id}/test`);
    assert.is(accepted.body.ok, true, JSON.stringify(accepted.body));
    assert.is(tls.messages.length, 1);
  } finally {
    await plain.close();
    await tls.close();
  }
});

channels('a service that refuses or cannot be reached is a 200 with ok: false and its answer, recorded in the history', async (context) => {
  const { client } = context;
  const telegram = await receiver(context, telegramService('999:other-token'));
  const wrongToken = await createChannel(client, { name: 'Telegram', kind: 'telegram', config: { base_url: telegram.url, bot_token: BOT_TOKEN, chat_id: '@my_channel' } });
  const refused = await client.post(`/api/notifications/channels/${wrongToken.id}/test`);
  assert.is(refused.status, 200);
  assert.equal({ ok: refused.body.ok, status: refused.body.status }, { ok: false, status: 401 });
  assert.match(refused.body.detail, /Unauthorized/);

  const gone = await receiver(context, ntfyService(null));
  await gone.close();
  context.receivers.pop();
  const unreachable = await createChannel(client, { name: 'ntfy', kind: 'ntfy', config: { base_url: gone.url, topic: 'x' } });
  const down = await client.post(`/api/notifications/channels/${unreachable.id}/test`);
  assert.is(down.status, 200);
  assert.equal({ ok: down.body.ok, status: down.body.status }, { ok: false, status: null });
  assert.match(down.body.detail, /could not reach 127\.0\.0\.1:\d+: ECONNREFUSED/);

  const history = (await client.get('/api/notifications/history')).body;
  assert.equal(
    history.items.map((item: any) => [item.channel_name, item.ok, item.status]),
    [
      ['ntfy', false, null],
      ['Telegram', false, 401],
    ],
  );
});

channels("a channel's secrets appear in no response, no daemon log line and no data file", async (context) => {
  const { client, daemon, bodies } = context;
  const telegram = await receiver(context, telegramService(BOT_TOKEN));
  const hook = await receiver(context, signedWebhookService(HMAC_KEY));
  const slack = await receiver(context, slackService(SLACK_PATH));
  const made = [
    await createChannel(client, { name: 'Telegram', kind: 'telegram', config: { base_url: telegram.url, bot_token: BOT_TOKEN, chat_id: 42 } }),
    await createChannel(client, { name: 'Hook', kind: 'webhook', config: { url: hook.url, hmac_secret: HMAC_KEY } }),
    await createChannel(client, { name: 'Slack', kind: 'slack', config: { webhook_url: slack.url + SLACK_PATH } }),
    await createChannel(client, { name: 'ntfy', kind: 'ntfy', config: { topic: 'alerts', token: NTFY_TOKEN } }),
    await createChannel(client, { name: 'Gotify', kind: 'gotify', config: { base_url: 'http://127.0.0.1:9', app_token: GOTIFY_TOKEN } }),
    await createChannel(client, { name: 'Mail', kind: 'email', config: { host: '127.0.0.1', port: 9, security: 'none', username: 'u', password: SMTP_PASSWORD, from: 'a@b.example', to: ['c@d.example'] } }),
  ];
  assert.equal(made[0].config, { base_url: telegram.url, chat_id: 42 });
  assert.equal(made[0].secrets_set, ['bot_token']);
  assert.equal(made[3].config, { base_url: 'https://ntfy.sh', topic: 'alerts', priority: 4 }, 'the base URL defaults to the public service');
  // Tests that fail (a server that is down, a refused token) put the server's answer in the log and history.
  telegram.failWith({ status: 401, body: { ok: false, description: `Unauthorized token ${BOT_TOKEN}` } });
  for (const channel of made) await client.post(`/api/notifications/channels/${channel.id}/test`);
  await client.put(`/api/notifications/channels/${made[0].id}`, { name: 'Telegram bot' });
  await client.get('/api/notifications/channels');
  await client.get(`/api/notifications/channels/${made[1].id}`);
  await client.get('/api/notifications/history');

  assert.ok(daemon.logLines.some((line) => /alert test not delivered/.test(line)), 'failed sends are logged');
  const history = (await client.get('/api/notifications/history')).body.items;
  assert.ok(history.some((item: any) => item.detail.includes('***')), 'the token echoed by the server is masked');
  for (const secret of SECRETS) {
    for (const body of bodies) assert.not.ok(body.includes(secret), `${secret} in a response`);
    for (const line of daemon.logLines) assert.not.ok(line.includes(secret), `${secret} in the log: ${line}`);
  }
  await daemon.stop();
  const onDisk = allFileText(daemon.config.dataDir);
  for (const secret of SECRETS) assert.not.ok(onDisk.includes(secret), `${secret} is not on disk in plaintext`);
});

channels('a secret left out of an update is kept; null removes an optional one', async (context) => {
  const { client } = context;
  const ntfy = await receiver(context, ntfyService(NTFY_TOKEN));
  const channel = await createChannel(client, { name: 'Phone', kind: 'ntfy', config: { base_url: ntfy.url, topic: 'a', token: NTFY_TOKEN } });
  const renamed = await client.put(`/api/notifications/channels/${channel.id}`, { name: 'Phone 2', config: { topic: 'b' } });
  assert.equal(renamed.body.config.topic, 'b');
  assert.equal(renamed.body.secrets_set, ['token']);
  assert.is((await client.post(`/api/notifications/channels/${channel.id}/test`)).body.ok, true, 'the kept token still works');
  assert.is(ntfy.requests[0].json.topic, 'b');
  const cleared = await client.put(`/api/notifications/channels/${channel.id}`, { config: { token: null } });
  assert.equal(cleared.body.secrets_set, []);
  assert.is((await client.post(`/api/notifications/channels/${channel.id}/test`)).body.status, 401, 'without the token the server refuses');
});

channels('moving a channel to another server needs its secret again: 400 saying so, nothing changed, nothing sent there', async (context) => {
  const { client } = context;
  const home = await receiver(context, ntfyService(NTFY_TOKEN));
  const elsewhere = await receiver(context, ntfyService(NTFY_TOKEN));
  const channel = await createChannel(client, { name: 'Phone', kind: 'ntfy', config: { base_url: home.url, topic: 'a', token: NTFY_TOKEN } });

  const moved = await client.put(`/api/notifications/channels/${channel.id}`, { name: 'Renamed', config: { base_url: elsewhere.url } });
  assert.is(moved.status, 400);
  assert.is(moved.body.code, 'CHANNEL_SECRET_REQUIRED');
  assert.is(moved.body.error, 'Invalid request');
  assert.match(moved.body.message, /base_url.*token.*again/);
  const kept = (await client.get(`/api/notifications/channels/${channel.id}`)).body;
  assert.is(kept.name, 'Phone', 'nothing of the refused change was saved');
  assert.is(kept.config.base_url, home.url);
  assert.is((await client.post(`/api/notifications/channels/${channel.id}/test`)).body.ok, true);
  assert.is(home.requests.length, 1);
  assert.is(elsewhere.requests.length, 0, 'the stored token never went to the new address');

  // The same address again is no move; with the token given, the move is the owner's.
  assert.is((await client.put(`/api/notifications/channels/${channel.id}`, { config: { base_url: home.url, topic: 'b' } })).status, 200);
  const given = await client.put(`/api/notifications/channels/${channel.id}`, { config: { base_url: elsewhere.url, token: NTFY_TOKEN } });
  assert.is(given.status, 200, JSON.stringify(given.body));
  assert.is((await client.post(`/api/notifications/channels/${channel.id}/test`)).body.ok, true);
  assert.is(elsewhere.requests.length, 1);

  // A mail server's host, port or TLS, and a webhook's URL (its signing key stays behind) move secrets just the same.
  const mail = await createChannel(client, {
    name: 'Mail',
    kind: 'email',
    config: { host: '127.0.0.1', port: 2525, security: 'starttls', username: 'cairn', password: SMTP_PASSWORD, from: 'cairn@box.example', to: ['owner@example.com'] },
  });
  for (const change of [{ host: 'mail.example.net' }, { port: 2526 }, { security: 'none' }, { allow_invalid_certificate: true }]) {
    const refused = await client.put(`/api/notifications/channels/${mail.id}`, { config: change });
    assert.is(refused.status, 400, JSON.stringify(change));
    assert.match(refused.body.message, /password/);
  }
  assert.is((await client.put(`/api/notifications/channels/${mail.id}`, { config: { to: ['other@example.com'] } })).status, 200, 'other fields need no secret');
  const hook = await createChannel(client, { name: 'Hook', kind: 'webhook', config: { url: `${home.url}/cairn`, hmac_secret: HMAC_KEY } });
  const hookMoved = await client.put(`/api/notifications/channels/${hook.id}`, { config: { url: `${elsewhere.url}/cairn` } });
  assert.is(hookMoved.status, 400);
  assert.match(hookMoved.body.message, /hmac_secret/);
  assert.is((await client.put(`/api/notifications/channels/${hook.id}`, { config: { url: `${elsewhere.url}/cairn`, hmac_secret: null } })).status, 200, 'or the secret removed');
});

channels('renaming a channel or changing its config leaves it enabled (a disabled channel gets no alerts)', async ({ client }) => {
  const channel = await createChannel(client, { name: 'Hook', kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook' } });
  const renamed = await client.put(`/api/notifications/channels/${channel.id}`, { name: 'Hook 2' });
  assert.is(renamed.body.enabled, true);
  await client.put(`/api/notifications/channels/${channel.id}`, { config: { url: 'http://127.0.0.1:9/other' } });
  assert.is((await client.get(`/api/notifications/channels/${channel.id}`)).body.enabled, true);
  assert.is((await client.get('/api/notifications/channels')).body[0].enabled, true);
});

channels('bad bodies are 400 in the error shape and save nothing; an unknown channel is 404', async ({ client }) => {
  const cases: Array<[string, string, Record<string, unknown>, RegExp]> = [
    ['POST', '/api/notifications/channels', { name: 'x', kind: 'pager', config: {} }, /kind.*ntfy/],
    ['POST', '/api/notifications/channels', { name: 'x', kind: 'ntfy', config: { topic: 'has space' } }, /topic/],
    ['POST', '/api/notifications/channels', { name: 'x', kind: 'ntfy', config: { topic: 'a', base_url: 'ftp://host' } }, /base_url/],
    ['POST', '/api/notifications/channels', { name: 'x', kind: 'ntfy', config: { topic: 'a', extra: 1 } }, /extra/],
    ['POST', '/api/notifications/channels', { name: 'x', kind: 'telegram', config: { bot_token: 'not-a-token-secret-value', chat_id: 1 } }, /bot_token/],
    ['POST', '/api/notifications/channels', { name: 'x', kind: 'email', config: { host: 'mail', from: 'nope', to: ['a@b.example'] } }, /from/],
    ['POST', '/api/notifications/channels', { name: 'x', kind: 'email', config: { host: 'mail', from: 'a@b.example', to: ['a@b.example'], password: 'secret-value-1' } }, /username|password/],
    ['POST', '/api/notifications/channels', { name: '', kind: 'ntfy', config: { topic: 'a' } }, /name/],
    ['POST', '/api/notifications/channels', { name: 'x', kind: 'ntfy' }, /config/],
    ['POST', '/api/notifications/channels', { name: 'x', kind: 'ntfy', config: { topic: 'a' }, enabled: 'yes' }, /enabled/],
  ];
  for (const [method, path, body, message] of cases) {
    const response = await client.request(method, path, body);
    assert.is(response.status, 400, JSON.stringify(body));
    assert.ok(isErrorShape(response.body), JSON.stringify(response.body));
    assert.match(response.body.message, message);
    assert.not.ok(response.body.message.includes('secret-value-1'));
  }
  assert.equal((await client.get('/api/notifications/channels')).body, [], 'nothing was saved');

  const channel = await createChannel(client, { name: 'Phone', kind: 'ntfy', config: { topic: 'a' } });
  const badUpdate = await client.put(`/api/notifications/channels/${channel.id}`, { config: { priority: 9 } });
  assert.is(badUpdate.status, 400);
  assert.is((await client.get(`/api/notifications/channels/${channel.id}`)).body.config.priority, 4, 'a refused update changes nothing');
  assert.is((await client.put(`/api/notifications/channels/${channel.id}`, {})).status, 400);
  assert.ok(isErrorShape((await client.post('/api/notifications/channels', { name: 'Phone', kind: 'ntfy', config: { topic: 'b' } })).body, 'CHANNEL_NAME_TAKEN'));

  for (const [method, path] of [
    ['GET', '/api/notifications/channels/99'],
    ['PUT', '/api/notifications/channels/99'],
    ['DELETE', '/api/notifications/channels/99'],
    ['POST', '/api/notifications/channels/99/test'],
  ]) {
    const response = await client.request(method, path, method === 'PUT' ? { name: 'y' } : undefined);
    assert.is(response.status, 404, `${method} ${path}`);
    assert.ok(isErrorShape(response.body, 'CHANNEL_NOT_FOUND'));
  }
  const badQuery = await client.get('/api/notifications/history?limit=0');
  assert.is(badQuery.status, 400);
});

channels('a channel named by a rule cannot be deleted (409 naming the users); rules naming a missing channel are 400', async ({ client }) => {
  const channel = await createChannel(client, { name: 'Phone', kind: 'ntfy', config: { topic: 'a' } });
  const badDefaults = await client.put('/api/settings', { notify: { channel_ids: [channel.id, 77] } });
  assert.is(badDefaults.status, 400);
  assert.ok(isErrorShape(badDefaults.body, 'CHANNEL_NOT_FOUND'));
  assert.equal((await client.get('/api/settings')).body.notify.channel_ids, [], 'nothing saved');
  const settings = await client.put('/api/settings', { notify: { channel_ids: [channel.id], overdue_hours: 48 } });
  assert.equal(settings.body.notify, { channel_ids: [channel.id], on_failure: true, on_success: false, on_recovery: true, overdue_hours: 48, space_percent: 90, on_verify_damage: true });
  const merged = await client.put('/api/settings', { notify: { on_success: true } });
  assert.is(merged.body.notify.overdue_hours, 48, 'notify merges key by key');

  const refused = await client.delete(`/api/notifications/channels/${channel.id}`);
  assert.is(refused.status, 409);
  assert.ok(isErrorShape(refused.body, 'CHANNEL_IN_USE'));
  assert.is(refused.body.defaults, true);
  await client.put('/api/settings', { notify: { channel_ids: [] } });
  assert.is((await client.delete(`/api/notifications/channels/${channel.id}`)).status, 200);
});

channels.run();
