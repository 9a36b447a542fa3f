import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lanAddresses, mdnsName, usableHostname } from '../../../src/tls/box-addresses.ts';
import { subjectAltNames } from '../../../src/tls/certificate.ts';
import { serverIdentity } from '../../../src/tls/identity.ts';
import { certificateLine } from '../../../tui/present/system-info.ts';

const PIN = 'AB:'.repeat(31) + 'AB';
const addresses = { ipv4: ['192.168.1.20', '10.0.0.5'], ipv6: ['2001:db8::20'] };

test('a daemon on every address is listed under its .local name, then each LAN address, with the pin', () => {
  assert.equal(serverIdentity({ fingerprint: PIN }, { host: '0.0.0.0', port: 8080 }, addresses, 'backup-pi'), {
    fingerprint_sha256: PIN,
    urls: ['https://backup-pi.local:8080', 'https://192.168.1.20:8080', 'https://10.0.0.5:8080'],
  });
  assert.equal(serverIdentity({ fingerprint: PIN }, { host: '::', port: 8443 }, addresses, 'pi.home.lan').urls, [
    'https://pi.local:8443',
    'https://192.168.1.20:8443',
    'https://10.0.0.5:8443',
    'https://[2001:db8::20]:8443',
  ]);
});

test('a daemon on one address is listed under it; with HTTPS off the URLs are plain and there is no pin', () => {
  assert.equal(serverIdentity({ fingerprint: PIN }, { host: '192.168.1.20', port: 8080 }, addresses, 'pi'), { fingerprint_sha256: PIN, urls: ['https://192.168.1.20:8080'] });
  assert.equal(serverIdentity(null, { host: '0.0.0.0', port: 8080 }, addresses, 'pi'), {
    fingerprint_sha256: null,
    urls: ['http://pi.local:8080', 'http://192.168.1.20:8080', 'http://10.0.0.5:8080'],
  });
});

test('a host name unfit for a certificate or URL is left out; link-local IPv6 is left out', () => {
  assert.is(usableHostname('Pi_Box!'), null);
  assert.is(mdnsName('Pi_Box!'), null);
  assert.equal(serverIdentity({ fingerprint: PIN }, { host: '0.0.0.0', port: 1 }, { ipv4: ['10.0.0.5'], ipv6: [] }, 'bad/name').urls, ['https://10.0.0.5:1']);
  const found = lanAddresses({
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '', mac: '', cidr: null }],
    eth0: [
      { address: '192.168.1.20', family: 'IPv4', internal: false, netmask: '', mac: '', cidr: null },
      { address: 'fe80::1', family: 'IPv6', internal: false, netmask: '', mac: '', cidr: null, scopeid: 2 },
      { address: 'fd00::20', family: 'IPv6', internal: false, netmask: '', mac: '', cidr: null, scopeid: 0 },
    ],
  });
  assert.equal(found, { ipv4: ['192.168.1.20'], ipv6: ['fd00::20'] });
});

test('the certificate names localhost, the host and its .local name, loopback and the LAN addresses', () => {
  assert.equal(subjectAltNames('backup-pi', addresses), [
    'DNS:localhost',
    'DNS:backup-pi',
    'DNS:backup-pi.local',
    'IP:127.0.0.1',
    'IP:::1',
    'IP:192.168.1.20',
    'IP:10.0.0.5',
    'IP:2001:db8::20',
  ]);
});

test("the TUI's settings view shows the fingerprint to pin, or that HTTPS is off", () => {
  assert.is(certificateLine({ https: true, fingerprint_sha256: PIN }), `HTTPS certificate (SHA-256, pin it in a phone app): ${PIN}`);
  assert.match(certificateLine({ https: false, fingerprint_sha256: null }), /HTTPS is off/);
});

test.run();
