/**
 * The HTTPS certificate: the owner's own files, or one the daemon makes at first start and keeps in
 * `<data dir>/tls/` (an ECDSA P-256 key, mode 0600, and a self-signed certificate naming the box).
 * A phone app pins its SHA-256 fingerprint; the fingerprint is what `cairn fingerprint`, the API and
 * the TUI show.
 *
 * Node has no X.509 builder, so the certificate is made by `openssl req` (Debian's openssl, present
 * on every Debian box; started with an argv array, and nothing in it comes from a client).
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeFileDurably } from '../store/index.ts';
import { lanAddresses, mdnsName, usableHostname } from './box-addresses.ts';

const run = promisify(execFile);

/** The folder of the data dir holding the certificate Cairn makes. */
export const TLS_DIR = 'tls';
export const CERTIFICATE_FILE = 'certificate.pem';
export const KEY_FILE = 'private-key.pem';

/**
 * Ten years. A phone that pinned the fingerprint trusts exactly this key and does not judge it by
 * date, and no authority would renew it: a certificate that expired would only break every paired
 * app on one day. Browsers warn about a self-signed certificate whatever its dates.
 */
export const VALIDITY_DAYS = 3650;

/** Where the certificate comes from: the owner's files when both are named, else the data dir. */
export interface CertificateSource {
  dataDir: string;
  certFile: string | null;
  keyFile: string | null;
}

/** A certificate the daemon can serve. */
export interface ServerCertificate {
  /** PEM: the server's certificate, then any chain the owner's file holds. */
  certificate: string;
  /** PEM private key of the first certificate. */
  key: string;
  /** SHA-256 of the server certificate (DER), colon-separated upper-case hex as browsers show it. */
  fingerprint: string;
  /** `self-signed`: made by Cairn; `owner`: the files named by CAIRN_TLS_CERT / CAIRN_TLS_KEY. */
  origin: 'self-signed' | 'owner';
  /** The certificate file. */
  file: string;
  /** ISO-8601 end of validity. */
  validTo: string;
}

/** The certificate and key files of a source. */
export function certificateFiles(source: CertificateSource): { certFile: string; keyFile: string; origin: ServerCertificate['origin'] } {
  if (source.certFile && source.keyFile) return { certFile: source.certFile, keyFile: source.keyFile, origin: 'owner' };
  const dir = path.join(source.dataDir, TLS_DIR);
  return { certFile: path.join(dir, CERTIFICATE_FILE), keyFile: path.join(dir, KEY_FILE), origin: 'self-signed' };
}

/** The SHA-256 fingerprint of a PEM certificate's first certificate, colon hex (`AB:12:…`). */
export function fingerprintOf(certificatePem: string): string {
  return new X509Certificate(certificatePem).fingerprint256;
}

/**
 * The certificate to serve: the owner's files, or the one in the data dir, made now if there is
 * none. Throws an Error whose message tells the owner what to do when the files are missing,
 * unreadable, do not match, or (for Cairn's own key) are readable by other users.
 */
export async function loadOrCreateCertificate(source: CertificateSource): Promise<ServerCertificate> {
  const existing = await readCertificate(source);
  if (existing) return existing;
  const { certFile, keyFile } = certificateFiles(source);
  await makeSelfSigned(certFile, keyFile);
  const made = await readCertificate(source);
  if (!made) throw new Error(`The certificate made in ${path.dirname(certFile)} cannot be read back.`);
  return made;
}

/**
 * The certificate as it is on disk, or null when Cairn has not made its own yet (the owner's
 * files must exist). Does not create anything: `cairn fingerprint` reads with it.
 */
export async function readCertificate(source: CertificateSource): Promise<ServerCertificate | null> {
  const { certFile, keyFile, origin } = certificateFiles(source);
  const [certificate, key] = await Promise.all([readIfPresent(certFile), readIfPresent(keyFile)]);
  if (origin === 'self-signed' && (certificate === null || key === null)) return null; // never made, or a crash between the two writes
  if (certificate === null || key === null) {
    throw new Error(`The HTTPS ${certificate === null ? `certificate ${certFile}` : `key ${keyFile}`} (CAIRN_TLS_CERT / CAIRN_TLS_KEY) does not exist.`);
  }
  if (origin === 'self-signed') await refuseShared(keyFile);
  return parse(certificate, key, certFile, keyFile, origin);
}

function parse(certificate: string, key: string, certFile: string, keyFile: string, origin: ServerCertificate['origin']): ServerCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certificate);
  } catch (error) {
    throw new Error(`${certFile} does not hold a PEM certificate: ${(error as Error).message}`);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw new Error(`${keyFile} does not hold a PEM private key: ${(error as Error).message}`);
  }
  if (!matches) throw new Error(`The key ${keyFile} is not the private key of the certificate ${certFile}.`);
  return { certificate, key, fingerprint: x509.fingerprint256, origin, file: certFile, validTo: new Date(x509.validTo).toISOString() };
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

async function refuseShared(keyFile: string): Promise<void> {
  const mode = (await fs.stat(keyFile)).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new Error(`${keyFile} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${keyFile}`);
}

/**
 * The names a made certificate carries: localhost, the host name and its `.local` name, loopback,
 * and the box's LAN addresses now. A pinning app ignores them; they spare a browser one warning.
 */
export function subjectAltNames(hostname?: string, addresses = lanAddresses()): string[] {
  const names = ['localhost', usableHostname(hostname), mdnsName(hostname)].filter((name): name is string => name !== null);
  const ips = ['127.0.0.1', '::1', ...addresses.ipv4, ...addresses.ipv6];
  return [...new Set(names)].map((name) => `DNS:${name}`).concat([...new Set(ips)].map((ip) => `IP:${ip}`));
}

/** Makes the key and certificate in a scratch folder beside them, then writes each durably (key 0600). */
async function makeSelfSigned(certFile: string, keyFile: string): Promise<void> {
  const dir = path.dirname(certFile);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const scratch = await fs.mkdtemp(path.join(dir, '.making-'));
  try {
    const [scratchCert, scratchKey] = [path.join(scratch, 'cert.pem'), path.join(scratch, 'key.pem')];
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', scratchKey, '-out', scratchCert, '-days', String(VALIDITY_DAYS),
      '-subj', `/CN=${usableHostname() ?? 'cairn'}`,
      '-addext', `subjectAltName=${subjectAltNames().join(',')}`,
      '-addext', 'basicConstraints=critical,CA:FALSE',
      '-addext', 'keyUsage=critical,digitalSignature',
      '-addext', 'extendedKeyUsage=serverAuth',
    ]).catch((error: NodeJS.ErrnoException & { stderr?: string }) => {
      if (error.code === 'ENOENT') {
        throw new Error('Making the HTTPS certificate needs openssl (apt-get install openssl); or name your own with CAIRN_TLS_CERT and CAIRN_TLS_KEY, or turn HTTPS off with CAIRN_TLS=false.');
      }
      throw new Error(`openssl could not make the HTTPS certificate: ${(error.stderr || error.message).trim()}`);
    });
    // The key first: a certificate is only read together with its key, so a crash in between makes both again.
    await writeFileDurably(keyFile, await fs.readFile(scratchKey), 0o600);
    await writeFileDurably(certFile, await fs.readFile(scratchCert), 0o644);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
