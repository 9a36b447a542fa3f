import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { currentTotpCode, matchTotpStep } from '../../../src/auth/totp.ts';

const secret = 'JBSWY3DPEHPK3PXP';
const at = Date.UTC(2026, 0, 5, 2, 0, 15);
const step = Math.floor(at / 30_000);

test('a code from the current step matches that step', () => {
  assert.is(matchTotpStep(currentTotpCode(secret, at), secret, at), step);
});

test('codes one step early or late are accepted (clock skew) and name their own step', () => {
  assert.is(matchTotpStep(currentTotpCode(secret, at - 30_000), secret, at), step - 1);
  assert.is(matchTotpStep(currentTotpCode(secret, at + 30_000), secret, at), step + 1);
});

test('codes two steps away are refused', () => {
  assert.is(matchTotpStep(currentTotpCode(secret, at - 60_000), secret, at), null);
  assert.is(matchTotpStep(currentTotpCode(secret, at + 60_000), secret, at), null);
});

test('anything but six digits is refused without checking', () => {
  for (const code of ['', '12345', '1234567', 'abcdef', ' 123456']) assert.is(matchTotpStep(code, secret, at), null);
});

test.run();
