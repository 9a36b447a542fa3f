/**
 * Whether a credential's private key is one ssh2 can use, and if not, why in words an owner can act
 * on. The one place that knows which key formats SFTP accepts: the credential check on save and
 * every connection (tests and runs) go through it.
 */
// ssh2 is CommonJS, and Node's ESM loader does not see `utils` among its named exports.
import ssh2 from 'ssh2';
import { CairnError } from '../../domain/errors.ts';

/** The formats ssh2 reads, and how to get one. */
const ACCEPTED =
  'Use a private key in OpenSSH format (what ssh-keygen writes, with or without a passphrase) or a PEM RSA or ECDSA key ' +
  '("BEGIN RSA PRIVATE KEY", "BEGIN EC PRIVATE KEY"); `ssh-keygen -p -f KEYFILE` rewrites another key in OpenSSH format';

/**
 * Throws a CairnError (`invalid`, `CREDENTIAL_INVALID`) when `privateKey` cannot be used: not a key,
 * a format ssh2 does not read (PKCS#8, encrypted or not), a public key, encrypted without a
 * passphrase, or a wrong passphrase. The message never contains the key or the passphrase.
 */
export function checkPrivateKey(privateKey: string, passphrase: string | undefined): void {
  const parsed = ssh2.utils.parseKey(privateKey, passphrase);
  const problem = parsed instanceof Error ? reasonFor(parsed, privateKey, passphrase) : parsed.isPrivateKey() ? null : 'it is a public key, not the private one';
  if (problem) throw new CairnError('invalid', 'CREDENTIAL_INVALID', `The "private_key" cannot be used: ${problem}. ${ACCEPTED}.`);
}

function reasonFor(error: Error, privateKey: string, passphrase: string | undefined): string {
  if (/no passphrase given/i.test(error.message)) return 'it is encrypted and the credential has no "passphrase"';
  if (/bad passphrase|integrity check failed|decrypt/i.test(error.message)) return passphrase ? 'the "passphrase" does not open it' : 'it could not be decrypted';
  if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(privateKey)) return 'it is a PKCS#8 key, a format the SSH client cannot read';
  return 'it is not a private key in a format the SSH client reads';
}
