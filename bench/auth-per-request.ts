/**
 * What authenticating costs per request: the same GET answered with a session token, with an API
 * key (SHA-256 and a lookup, "last used" noted), and with no auth at all (health), side by side,
 * sequential requests over one keep-alive connection, in process with the real daemon. Figures are
 * medians of --rounds rounds of --requests requests, in microseconds per request.
 *
 *   node --import tsx bench/auth-per-request.ts [--requests 2000] [--rounds 5] [--keys 50]
 * --keys makes that many other keys first, as a box with many paired phones would hold.
 */
import { startTestDaemon } from '../test/helpers.ts';
import { median, numberOption } from './options.ts';

const REQUESTS = numberOption('--requests', 2000);
const ROUNDS = numberOption('--rounds', 5);
const OTHER_KEYS = numberOption('--keys', 50);

async function timePerRequest(url: string, headers: Record<string, string>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) {
    const response = await fetch(url, { headers });
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
    await response.arrayBuffer();
  }
  return Number(process.hrtime.bigint() - started) / 1000 / REQUESTS;
}

const daemon = await startTestDaemon();
try {
  const owner = daemon.client();
  await owner.setupAdmin();
  const session = (await owner.get('/api/auth/token')).body.token as string;
  for (let i = 0; i < OTHER_KEYS; i++) await owner.post('/api/keys', { name: `other ${i}`, scope: 'read' });
  const key = (await owner.post('/api/keys', { name: 'bench', scope: 'read' })).body.key as string;
  const cases: Array<[string, string, Record<string, string>]> = [
    ['no auth (GET /api/system/health)', '/api/system/health', {}],
    ['session token (GET /api/settings)', '/api/settings', { authorization: `Bearer ${session}` }],
    ['API key (GET /api/settings)', '/api/settings', { authorization: `Bearer ${key}` }],
  ];
  const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  await timePerRequest(daemon.url + '/api/settings', { authorization: `Bearer ${key}` }); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, urlPath, headers] of cases) results.get(name)!.push(await timePerRequest(daemon.url + urlPath, headers));
  }
  console.log(`${REQUESTS} sequential requests x ${ROUNDS} rounds, ${OTHER_KEYS + 1} keys stored; median µs per request:`);
  for (const [name, values] of results) console.log(`  ${name.padEnd(36)} ${median(values).toFixed(0)}`);
} finally {
  await daemon.stop();
}
