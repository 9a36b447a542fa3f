/**
 * `cairn fingerprint`: on the box, shows the SHA-256 fingerprint of the certificate the daemon serves
 * over HTTPS and the URLs a phone app connects to, so the owner can check (or type) the pin. Reads
 * the certificate from disk, so it works whether the daemon runs or not; the certificate Cairn makes
 * lives in the data dir, readable by the daemon's user only (root for the service).
 */
import type { Config } from '../config.ts';
import { readCertificate, serverIdentity, type ServerCertificate } from '../tls/index.ts';

/** Prints the fingerprint and URLs and returns 0; 1 with the reason when there is no certificate to show. */
export async function fingerprintCommand(config: Config): Promise<number> {
  if (!config.tls) {
    process.stderr.write('HTTPS is off (CAIRN_TLS=false), so there is no certificate to pin.\n');
    return 1;
  }
  let certificate: ServerCertificate | null;
  try {
    certificate = await readCertificate({ dataDir: config.dataDir, certFile: config.tlsCertFile, keyFile: config.tlsKeyFile });
  } catch (error) {
    const denied = /EACCES|EPERM/.test((error as Error).message);
    process.stderr.write(denied ? `${(error as Error).message}\nRun this as the daemon's user: sudo cairn fingerprint\n` : `${(error as Error).message}\n`);
    return 1;
  }
  if (!certificate) {
    process.stderr.write(`No certificate in ${config.dataDir} yet: the daemon makes it at its first start (sudo systemctl start cairn).\n`);
    return 1;
  }
  const { fingerprint_sha256, urls } = serverIdentity(certificate, { host: config.host, port: config.port });
  const origin = certificate.origin === 'self-signed' ? 'made by Cairn' : 'yours (CAIRN_TLS_CERT)';
  process.stdout.write(
    `SHA-256 fingerprint: ${fingerprint_sha256}\n` +
      `Certificate: ${origin}, valid until ${certificate.validTo.slice(0, 10)} (${certificate.file})\n` +
      `Connect to:\n${urls.map((url) => `  ${url}\n`).join('')}` +
      'An app that shows this fingerprint when it connects is talking to this box.\n',
  );
  return 0;
}
