/**
 * Network failures and refused credentials in words a user can act on; never carries a secret, only
 * host and port.
 */
import { CairnError } from '../../domain/errors.ts';

const BY_CODE: Record<string, (where: string) => string> = {
  ENOTFOUND: (where) => `Cannot resolve the host name of ${where}`,
  EAI_AGAIN: (where) => `Cannot resolve the host name of ${where} (name resolution is failing)`,
  ECONNREFUSED: (where) => `Connection refused by ${where} (nothing listens on that port?)`,
  ETIMEDOUT: (where) => `Timed out connecting to ${where}`,
  EHOSTUNREACH: (where) => `No route to ${where}`,
  ENETUNREACH: (where) => `The network of ${where} is unreachable`,
  ECONNRESET: (where) => `The connection to ${where} was reset`,
  EPIPE: (where) => `The connection to ${where} was closed`,
};

/** A CairnError for a network-level failure, or null when `error` is something else. */
export function connectionError(error: unknown, where: string): CairnError | null {
  const code = (error as NodeJS.ErrnoException)?.code ?? (error as { cause?: NodeJS.ErrnoException })?.cause?.code;
  const describe = code ? BY_CODE[code] : undefined;
  if (!describe) return null;
  return new CairnError('unavailable', 'DESTINATION_UNREACHABLE', describe(where), { retryable: true });
}

/** Node's and OpenSSL's codes for a server certificate that is not trusted or does not match. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL/;

/** A CairnError for a server certificate that is refused (not retried: it needs the owner), or null. */
export function certificateRefused(error: unknown, host: string, doing: string): CairnError | null {
  const code = (error as NodeJS.ErrnoException)?.code ?? (error as { cause?: NodeJS.ErrnoException })?.cause?.code ?? '';
  if (!TLS_CODES.test(code)) return null;
  return new CairnError('unavailable', 'TLS_CERTIFICATE_INVALID', `The TLS certificate of ${host} is not trusted (${code}) while ${doing}`);
}

/**
 * The destination's server refused the stored credential. A 400 with AUTHENTICATION_FAILED, never a
 * 401: the caller's own session is fine, and a client that reads 401 as "log in again" (the TUI, a
 * phone app) must not be sent to its login screen because a NAS password changed. Not retried.
 */
export function credentialRefused(message: string): CairnError {
  return new CairnError('invalid', 'AUTHENTICATION_FAILED', message);
}
