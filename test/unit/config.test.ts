import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { tempDir } from '../helpers.ts';

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env, '/srv');
  } catch (error) {
    assert.instance(error, ConfigError);
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

test('with nothing set, the defaults make a local daemon under ./data', () => {
  assert.equal(loadConfig({}, '/srv'), {
    host: '127.0.0.1',
    port: 8080,
    dataDir: '/srv/data',
    allowedPaths: ['/home', '/srv', '/mnt', '/media'],
    watchDrives: true,
    ledPath: null,
    notifyCommand: null,
    trustedProxies: [],
    tls: true,
    tlsCertFile: null,
    tlsKeyFile: null,
    plainHttp: 'loopback',
    waitForClockSync: false,
    runLogMaxMb: 16,
    configFile: null,
    serviceSettings: null,
  });
});

test('environment variables set each value', () => {
  const config = loadConfig(
    { CAIRN_HOST: '0.0.0.0', CAIRN_PORT: '9000', CAIRN_DATA_DIR: '/var/lib/cairn', CAIRN_ALLOWED_PATHS: '/mnt , /srv/backup/' },
    '/srv',
  );
  assert.equal(config, {
    host: '0.0.0.0',
    port: 9000,
    dataDir: '/var/lib/cairn',
    allowedPaths: ['/mnt', '/srv/backup'],
    watchDrives: true,
    ledPath: null,
    notifyCommand: null,
    trustedProxies: [],
    tls: true,
    tlsCertFile: null,
    tlsKeyFile: null,
    plainHttp: 'loopback',
    waitForClockSync: false,
    runLogMaxMb: 16,
    configFile: null,
    serviceSettings: null,
  });
  const devices = loadConfig({ CAIRN_WATCH_DRIVES: 'false', CAIRN_LED_PATH: '/sys/class/leds/ACT', CAIRN_NOTIFY_COMMAND: '/usr/local/bin/beep' }, '/srv');
  assert.equal([devices.watchDrives, devices.ledPath, devices.notifyCommand], [false, '/sys/class/leds/ACT', '/usr/local/bin/beep']);
  assert.is(loadConfig({ CAIRN_WAIT_FOR_CLOCK_SYNC: 'true' }, '/srv').waitForClockSync, true, 'the appliance waits for network time');
  assert.is(loadConfig({ CAIRN_RUN_LOG_MAX_MB: ' 64 ' }, '/srv').runLogMaxMb, 64);
});

test('a bad value names the setting and what it accepts', () => {
  assert.match(refusal({ CAIRN_PORT: 'eighty' }), /CAIRN_PORT="eighty" is not valid: expected a whole number from 0 to 65535/);
  assert.match(refusal({ CAIRN_PORT: '70000' }), /CAIRN_PORT/);
  assert.match(refusal({ CAIRN_ALLOWED_PATHS: 'mnt,media' }), /CAIRN_ALLOWED_PATHS.*absolute paths/);
  assert.match(refusal({ CAIRN_ALLOWED_PATHS: ' , ' }), /CAIRN_ALLOWED_PATHS/);
  assert.match(refusal({ CAIRN_ALLOWED_BROWSE_PATHS: 'mnt' }), /CAIRN_ALLOWED_BROWSE_PATHS.*absolute paths/);
  assert.match(refusal({ CAIRN_HOST: 'bad host; rm -rf' }), /CAIRN_HOST/);
  assert.match(refusal({ CAIRN_DATA_DIR: '' }), /CAIRN_DATA_DIR/);
  assert.match(refusal({ CAIRN_WATCH_DRIVES: 'maybe' }), /CAIRN_WATCH_DRIVES.*true or false/);
  assert.match(refusal({ CAIRN_NOTIFY_COMMAND: 'beep; rm -rf /' }), /CAIRN_NOTIFY_COMMAND.*absolute path/);
  assert.match(refusal({ CAIRN_RUN_LOG_MAX_MB: '0' }), /CAIRN_RUN_LOG_MAX_MB="0" is not valid: expected a whole number of megabytes/);
  assert.match(refusal({ CAIRN_RUN_LOG_MAX_MB: '2.5' }), /CAIRN_RUN_LOG_MAX_MB/);
  assert.match(refusal({ CAIRN_RUN_LOG_MAX_MB: 'lots' }), /CAIRN_RUN_LOG_MAX_MB/);
});

test('HTTPS is on by default with plain HTTP for this box only; the owner may name a certificate and key, or open plain HTTP', () => {
  const own = loadConfig({ CAIRN_TLS_CERT: '/etc/cairn/cert.pem', CAIRN_TLS_KEY: '/etc/cairn/key.pem', CAIRN_PLAIN_HTTP: 'any' }, '/srv');
  assert.equal([own.tls, own.tlsCertFile, own.tlsKeyFile, own.plainHttp], [true, '/etc/cairn/cert.pem', '/etc/cairn/key.pem', 'any']);
  assert.is(loadConfig({ CAIRN_TLS: 'false' }, '/srv').tls, false);
  assert.match(refusal({ CAIRN_TLS_CERT: '/etc/cairn/cert.pem' }), /CAIRN_TLS_CERT and CAIRN_TLS_KEY .* go together/);
  assert.match(refusal({ CAIRN_TLS_KEY: '/etc/cairn/key.pem' }), /go together/);
  assert.match(refusal({ CAIRN_TLS_CERT: 'cert.pem', CAIRN_TLS_KEY: '/k.pem' }), /CAIRN_TLS_CERT="cert.pem" is not valid: expected an absolute path/);
  assert.match(refusal({ CAIRN_PLAIN_HTTP: 'lan' }), /CAIRN_PLAIN_HTTP="lan" is not valid: expected loopback .* or any/);
  assert.match(refusal({ CAIRN_TLS: 'yes' }), /CAIRN_TLS="yes" is not valid: expected true or false/);
});

test('a config file supplies values and the environment wins over it', () => {
  const dir = tempDir();
  const file = path.join(dir, 'cairn.json');
  writeFileSync(file, JSON.stringify({ port: 9100, data_dir: '/var/lib/cairn', allowed_paths: ['/media'] }));
  const config = loadConfig({ CAIRN_CONFIG: file, CAIRN_PORT: '9200' }, '/srv');
  assert.is(config.port, 9200);
  assert.is(config.dataDir, '/var/lib/cairn');
  assert.equal(config.allowedPaths, ['/media']);
  assert.is(config.configFile, file);
});

test('the allowed paths keep their former name (allowed_browse_paths) as an alias, the current name winning', () => {
  const dir = tempDir();
  const file = path.join(dir, 'cairn.json');
  writeFileSync(file, JSON.stringify({ allowed_browse_paths: ['/media', '/srv'] }));
  assert.equal(loadConfig({ CAIRN_CONFIG: file }, '/srv').allowedPaths, ['/media', '/srv']);
  assert.equal(loadConfig({ CAIRN_ALLOWED_BROWSE_PATHS: '/data' }, '/srv').allowedPaths, ['/data']);
  assert.equal(loadConfig({ CAIRN_ALLOWED_BROWSE_PATHS: '/data', CAIRN_ALLOWED_PATHS: '/home' }, '/srv').allowedPaths, ['/home']);
  assert.equal(loadConfig({ CAIRN_CONFIG: file, CAIRN_ALLOWED_BROWSE_PATHS: '/data' }, '/srv').allowedPaths, ['/data'], 'the environment wins over the file');
});

test('a config file with an unknown key, bad JSON, or a bad value is refused by name', () => {
  const dir = tempDir();
  const file = path.join(dir, 'cairn.json');
  writeFileSync(file, JSON.stringify({ prot: 9100 }));
  assert.match(refusal({ CAIRN_CONFIG: file }), /unknown setting\(s\) prot/);
  writeFileSync(file, '{ "port": ');
  assert.match(refusal({ CAIRN_CONFIG: file }), /not valid JSON/);
  writeFileSync(file, JSON.stringify({ port: -1 }));
  assert.match(refusal({ CAIRN_CONFIG: file }), /port in .*cairn.json.* expected a whole number/);
  assert.match(refusal({ CAIRN_CONFIG: path.join(dir, 'missing.json') }), /cannot be read/);
});

test("the installed service's settings file is read when the environment names no data dir or config file", () => {
  const file = path.join(tempDir(), 'cairn');
  writeFileSync(file, ['# comment', '; comment too', 'CAIRN_DATA_DIR="/var/lib/cairn"', "CAIRN_HOST = '0.0.0.0'", 'CAIRN_PORT=9100', 'not a setting', 'OTHER=1', ''].join('\n'));
  const config = loadConfig({ CAIRN_SERVICE_SETTINGS: file, CAIRN_PORT: '9200' }, '/srv');
  assert.equal([config.dataDir, config.host, config.port, config.serviceSettings], ['/var/lib/cairn', '0.0.0.0', 9200, file], 'the environment wins over the file');

  assert.is(loadConfig({ CAIRN_SERVICE_SETTINGS: file, CAIRN_DATA_DIR: '/elsewhere' }, '/srv').serviceSettings, null, 'a data dir in the environment: not read');
  assert.is(loadConfig({ CAIRN_SERVICE_SETTINGS: file, CAIRN_DATA_DIR: '/elsewhere' }, '/srv').port, 8080);
  const missing = loadConfig({ CAIRN_SERVICE_SETTINGS: path.join(tempDir(), 'absent') }, '/srv');
  assert.equal([missing.dataDir, missing.serviceSettings], ['/srv/data', null], 'no file: a checkout, the defaults');

  writeFileSync(file, 'CAIRN_PORT=http\n');
  assert.match(refusal({ CAIRN_SERVICE_SETTINGS: file }), new RegExp(`CAIRN_PORT in ${file}="http" is not valid`));
  assert.match(refusal({ CAIRN_SERVICE_SETTINGS: tempDir() }), /settings .* cannot be read .*sudo/);
});

test.run();
