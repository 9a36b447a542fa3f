/**
 * The pairing service alone, with a key maker the test holds mid-claim and a clock it moves: what a
 * waiting screen reads while an app's claim is under way, and how long ended pairings are remembered.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CreatedApiKey } from '../../../src/auth/index.ts';
import { conflict, isCairnError } from '../../../src/domain/errors.ts';
import { decodePairingPayload, PairingService, PAIRING_TTL_MS } from '../../../src/pairing/index.ts';

const IDENTITY = { fingerprint_sha256: Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':'), urls: ['https://box.local:8080', 'https://192.168.1.20:8080'] };

/** A key maker whose keys appear only when the test says so, and a clock the test moves. */
function harness(taken: string[] = []) {
  let now = Date.parse('2026-12-05T12:00:00Z');
  const made: string[] = [...taken];
  const gates: Array<() => void> = [];
  let held = false;
  const service = new PairingService({
    async issueKey(name, scope) {
      if (held) await new Promise<void>((resolve) => gates.push(resolve));
      if (made.includes(name)) throw conflict('KEY_NAME_TAKEN', 'taken');
      made.push(name);
      return { id: made.length, name, scope, key: `cairn_${'x'.repeat(43)}` } as CreatedApiKey;
    },
    keyNames: () => [...made],
    identity: () => IDENTITY,
    now: () => now,
  });
  return {
    service,
    made,
    hold: () => (held = true),
    release: () => gates.splice(0).forEach((open) => open()),
    advance: (ms: number) => (now += ms),
  };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isCairnError(error)) return `${error.kind} ${error.code}`;
    throw error;
  }
  throw new Error('not refused');
}

const service = suite('pairing service');

service('while an app claims, the pairing reads pending with no key, a second claim is refused, and cancel waits its turn', async () => {
  const { service: pairing, hold, release } = harness();
  const started = pairing.start({ scope: 'read' });
  hold();
  const claiming = pairing.claim(started.code, 'Pixel');
  const during = pairing.get(started.id);
  assert.equal([during.state, during.key, during.claimed_at], ['pending', null, null]);
  assert.is(await refusal(pairing.claim(started.code, 'Other')), 'unauthorized PAIRING_CODE_USED');
  assert.throws(() => pairing.cancel(started.id), (error: Error) => isCairnError(error) && error.code === 'PAIRING_ENDED');
  release();
  const key = await claiming;
  const after = pairing.get(started.id);
  assert.equal([after.state, after.key], ['claimed', { id: key.id, name: 'Pixel' }]);
  assert.ok(after.claimed_at);
});

service('a key name taken while the claim was under way gets the next number', async () => {
  const { service: pairing, made } = harness(['Phone']);
  const started = pairing.start({ scope: 'admin' });
  assert.is((await pairing.claim(started.code, 'Phone')).name, 'Phone (2)');
  assert.equal(made, ['Phone', 'Phone (2)']);
});

service('a code works until its 10 minutes are up, and ended pairings are forgotten after an hour', async () => {
  const { service: pairing, advance } = harness();
  const started = pairing.start({ scope: 'read' });
  advance(PAIRING_TTL_MS - 1);
  assert.is(pairing.get(started.id).state, 'pending');
  advance(1);
  assert.is(pairing.get(started.id).state, 'expired');
  assert.is(await refusal(pairing.claim(started.code, 'Late')), 'unauthorized PAIRING_CODE_EXPIRED');
  advance(60 * 60_000 + 1);
  assert.is(await refusal(pairing.claim(started.code, 'Later')), 'unauthorized PAIRING_CODE_INVALID');
  assert.throws(() => pairing.get(started.id), (error: Error) => isCairnError(error) && error.code === 'PAIRING_NOT_FOUND');
});

service('at most 10 pairings wait at once', () => {
  const { service: pairing } = harness();
  for (let i = 0; i < 10; i++) pairing.start({ scope: 'read' });
  assert.throws(() => pairing.start({ scope: 'read' }), (error: Error) => isCairnError(error) && error.code === 'PAIRING_LIMIT');
});

service('the QR payload carries the code, the pin and the URLs in upper case, and decodes back to them', () => {
  const { service: pairing } = harness();
  const started = pairing.start({ scope: 'read' });
  const code = started.code.replace(/-/g, '');
  assert.is(started.qr_payload, `CAIRN1 ${code} ${IDENTITY.fingerprint_sha256.replace(/:/g, '')} HTTPS://BOX.LOCAL:8080 HTTPS://192.168.1.20:8080`);
  assert.match(started.qr_payload, /^[0-9A-Z $%*+\-./:]+$/, "only QR's alphanumeric characters");
  assert.equal(decodePairingPayload(started.qr_payload), { code, fingerprint_sha256: IDENTITY.fingerprint_sha256, urls: IDENTITY.urls });
  const plain = new PairingService({ issueKey: async () => ({}) as CreatedApiKey, keyNames: () => [], identity: () => ({ fingerprint_sha256: null, urls: ['http://[fd00::1]:8080'] }) });
  const decoded = decodePairingPayload(plain.start({ scope: 'read' }).qr_payload);
  assert.equal([decoded.fingerprint_sha256, decoded.urls], [null, ['http://[fd00::1]:8080']]);
  assert.throws(() => decodePairingPayload(`CAIRN2 ${code} - HTTPS://BOX:1`), /CAIRN1/);
});

service.run();
