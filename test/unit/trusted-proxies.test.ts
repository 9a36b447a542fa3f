/** The trusted_proxies setting, and the client address it gives a request. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Request } from '@hapi/hapi';
import { ClientAddresses } from '../../src/api/client-address.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';

/** Just the parts of a hapi request that say where it came from. */
function request(remoteAddress: string, headers: Record<string, string> = {}, localAddress = '192.168.1.2'): Request {
  return { info: { remoteAddress }, headers, raw: { req: { socket: { localAddress } } } } as unknown as Request;
}

test('trusted proxies are addresses or CIDR ranges, from the environment or the file; default none', () => {
  assert.equal(loadConfig({}, '/srv').trustedProxies, []);
  assert.equal(loadConfig({ CAIRN_TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,::1,fd00::/8' }, '/srv').trustedProxies, [
    '127.0.0.1/32',
    '10.0.0.0/8',
    '::1/128',
    'fd00::/8',
  ]);
  assert.equal(loadConfig({ CAIRN_TRUSTED_PROXIES: '' }, '/srv').trustedProxies, []);
  for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', '300.1.1.1']) {
    assert.throws(() => loadConfig({ CAIRN_TRUSTED_PROXIES: bad }, '/srv'), (error: Error) => error instanceof ConfigError && /CAIRN_TRUSTED_PROXIES.*CIDR/.test(error.message), bad);
  }
});

test('the client is the peer unless the peer is trusted; then the right-most untrusted forwarded address', () => {
  const none = new ClientAddresses([]);
  assert.is(none.of(request('203.0.113.5', { 'x-forwarded-for': '198.51.100.1' })), '203.0.113.5');
  assert.is(none.of(request('::ffff:203.0.113.5')), '203.0.113.5');

  const proxies = new ClientAddresses(['127.0.0.1/32', '10.0.0.0/8']);
  assert.is(proxies.of(request('127.0.0.1', { 'x-forwarded-for': 'made-up, 198.51.100.1, 10.1.2.3' })), '198.51.100.1');
  assert.is(proxies.of(request('::ffff:127.0.0.1', { 'x-forwarded-for': '198.51.100.1' })), '198.51.100.1');
  assert.is(proxies.of(request('127.0.0.1', { forwarded: 'for=198.51.100.1;proto=https, for="[2001:db8::1]:4711"' })), '2001:db8::1');
  assert.is(proxies.of(request('127.0.0.1')), '127.0.0.1', 'no header: the proxy itself');
  assert.is(proxies.of(request('203.0.113.5', { 'x-forwarded-for': '198.51.100.1' })), '203.0.113.5', 'an untrusted peer');
});

test('local: loopback or the address the request reached, never through an untrusted forwarder', () => {
  const none = new ClientAddresses([]);
  assert.ok(none.isLocal(request('127.0.0.1')));
  assert.ok(none.isLocal(request('127.8.9.10')));
  assert.ok(none.isLocal(request('::1')));
  assert.ok(none.isLocal(request('::ffff:127.0.0.1')));
  assert.ok(none.isLocal(request('192.168.1.2')), 'from the box to its own LAN address');
  assert.not.ok(none.isLocal(request('192.168.1.3')));
  assert.not.ok(none.isLocal(request('127.0.0.1', { 'x-forwarded-for': '127.0.0.1' })));
  assert.not.ok(none.isLocal(request('127.0.0.1', { forwarded: 'for=127.0.0.1' })));

  const trusted = new ClientAddresses(['127.0.0.1/32']);
  assert.ok(trusted.isLocal(request('127.0.0.1', { 'x-forwarded-for': '127.0.0.1' })));
  assert.not.ok(trusted.isLocal(request('127.0.0.1', { 'x-forwarded-for': '192.168.1.50' })));
  assert.not.ok(trusted.isLocal(request('127.0.0.1', { 'x-forwarded-for': '192.168.1.2' })), 'forwarded: the reached address says nothing');
  assert.not.ok(trusted.isLocal(request('127.0.0.1', { 'x-forwarded-for': 'garbage' })));
});

test.run();
