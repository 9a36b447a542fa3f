/**
 * appliance/wifi-setup.sh, which a boot of the appliance runs: the cairn-wifi.txt an owner writes on
 * the FAT boot partition becomes wpa_supplicant's configuration for wlan0 (root-only, the key derived
 * by wpa_passphrase, the SSID as hex), Wi-Fi is switched on for later boots, and the passphrase leaves
 * the boot partition. Run against temp folders standing for the boot partition and the system root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, tempDir } from '../../helpers.ts';

const SCRIPT = path.join(REPO_ROOT, 'appliance', 'wifi-setup.sh');
const CONF = 'etc/wpa_supplicant/wpa_supplicant-wlan0.conf';
const ENABLED = 'etc/systemd/system/multi-user.target.wants/wpa_supplicant@wlan0.service';

function boot(files: Record<string, string>) {
  const bootDir = tempDir('cairn-boot-');
  const root = tempDir('cairn-root-');
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(bootDir, name), content);
  const run = () => spawnSync('sh', [SCRIPT, '--boot', bootDir, '--root', root], { encoding: 'utf8' });
  return { bootDir, root, run, conf: () => readFileSync(path.join(root, CONF), 'utf8') };
}

/** What wpa_passphrase derives for this SSID and passphrase: the judge, run separately. */
function derivedKey(ssid: string, passphrase: string): string {
  const out = spawnSync('wpa_passphrase', [ssid, passphrase], { encoding: 'utf8' }).stdout;
  return /^\s*psk=([0-9a-f]{64})$/m.exec(out)![1];
}

test('a cairn-wifi.txt written on Windows becomes the wlan0 configuration, and the passphrase leaves the boot partition', () => {
  const ssid = 'Home "5G" #2 ünïcode';
  const passphrase = 'correct horse = battery';
  const box = boot({ 'cairn-wifi.txt': `\uFEFF# my Wi-Fi\r\nssid=${ssid}\r\npsk=${passphrase}\r\ncountry=gb\r\n` });
  const run = box.run();
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /Wi-Fi set to "Home "5G" #2 ünïcode" \(country GB\)/);

  const conf = box.conf();
  assert.match(conf, /^country=GB$/m);
  assert.match(conf, new RegExp(`^\\tssid=${Buffer.from(ssid).toString('hex')}$`, 'm'));
  assert.match(conf, new RegExp(`^\\tpsk=${derivedKey(ssid, passphrase)}$`, 'm'));
  assert.not.ok(conf.includes(passphrase), 'the passphrase itself is not stored');
  assert.is(statSync(path.join(box.root, CONF)).mode & 0o777, 0o600);
  assert.is(readlinkSync(path.join(box.root, ENABLED)), '/lib/systemd/system/wpa_supplicant@.service');

  // Nothing on the boot partition holds the passphrase; what was asked stays visible.
  assert.not.ok(existsSync(path.join(box.bootDir, 'cairn-wifi.txt')));
  for (const name of readdirSync(box.bootDir)) assert.not.ok(readFileSync(path.join(box.bootDir, name), 'utf8').includes(passphrase), name);
  assert.match(readFileSync(path.join(box.bootDir, 'cairn-wifi.applied.txt'), 'utf8'), /ssid=Home/);

  // The next boot finds no request and leaves the network as it is.
  const again = box.run();
  assert.is(again.status, 0);
  assert.is(box.conf(), conf);
});

test('a psk= on the first line behind a byte-order mark leaves the boot partition too (found in review)', () => {
  const passphrase = 'supersecret123';
  const box = boot({ 'cairn-wifi.txt': `\uFEFFpsk=${passphrase}\r\nssid=Home\r\ncountry=GB\r\n` });
  const run = box.run();
  assert.is(run.status, 0, run.stderr);
  assert.match(box.conf(), new RegExp(`^\\tpsk=${derivedKey('Home', passphrase)}$`, 'm'));
  for (const name of readdirSync(box.bootDir)) assert.not.ok(readFileSync(path.join(box.bootDir, name), 'utf8').includes(passphrase), name);
  assert.match(readFileSync(path.join(box.bootDir, 'cairn-wifi.applied.txt'), 'utf8'), /^ssid=Home$/m);
});

test('quotes around values are dropped; no psk is an open network', () => {
  const box = boot({ 'cairn-wifi.txt': 'SSID = "Cafe"\ncountry="de"\n' });
  assert.is(box.run().status, 0);
  assert.match(box.conf(), new RegExp(`ssid=${Buffer.from('Cafe').toString('hex')}\\n\\tkey_mgmt=NONE`));
  assert.match(box.conf(), /^country=DE$/m);
});

test('a file that cannot work changes nothing and says what is wrong', () => {
  for (const [content, reason] of [
    ['psk=secret123\ncountry=GB\n', /no ssid= line/],
    ['ssid=Home\npsk=short\ncountry=GB\n', /8 to 63 characters/],
    ['ssid=Home\npsk=long enough\n', /two-letter code/],
  ] as const) {
    const box = boot({ 'cairn-wifi.txt': content });
    const run = box.run();
    assert.is(run.status, 1);
    assert.match(run.stderr, reason);
    assert.not.ok(existsSync(path.join(box.root, CONF)));
    assert.throws(() => lstatSync(path.join(box.root, ENABLED)));
    assert.is(readFileSync(path.join(box.bootDir, 'cairn-wifi.txt'), 'utf8'), content, 'left for the owner to fix');
  }
});

test("Raspberry Pi OS's wpa_supplicant.conf on the boot partition is taken as it is and moved off it", () => {
  const legacy = 'country=GB\nnetwork={\n\tssid="Old"\n\tpsk="old passphrase"\n}\n';
  const box = boot({ 'wpa_supplicant.conf': legacy });
  assert.is(box.run().status, 0);
  assert.is(box.conf(), legacy);
  assert.is(statSync(path.join(box.root, CONF)).mode & 0o777, 0o600);
  assert.not.ok(existsSync(path.join(box.bootDir, 'wpa_supplicant.conf')));
});

test('the bytes of a file holding the passphrase are overwritten before it is removed (FAT keeps a deleted file\'s clusters on the card)', () => {
  // A second name for the same file, outside the boot partition, reads what is left in its clusters
  // after the script removed the first name: what a computer reading the card's free space would find.
  for (const [name, content] of [
    ['cairn-wifi.txt', 'ssid=Home\npsk=left behind passphrase\ncountry=GB\n'],
    ['wpa_supplicant.conf', 'country=GB\nnetwork={\n\tssid="Old"\n\tpsk="left behind passphrase"\n}\n'],
  ] as const) {
    const box = boot({ [name]: content });
    const sameFile = path.join(tempDir('cairn-clusters-'), 'same-file');
    linkSync(path.join(box.bootDir, name), sameFile);
    assert.is(box.run().status, 0);
    assert.not.ok(existsSync(path.join(box.bootDir, name)));
    assert.is(readFileSync(sameFile, 'utf8'), '\0'.repeat(content.length), name);
  }
});

test.run();
