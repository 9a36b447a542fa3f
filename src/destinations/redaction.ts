/**
 * Secret redaction for everything a destination logs or fails with: one wrapper, for every type
 * (STYLE.md §5). The secret fields come from the destination's credential schema; their values (and,
 * for a value that is JSON such as an OAuth token, each text inside it) are replaced by `***`.
 */
import { CairnError, isCairnError } from '../domain/errors.ts';
import { EVERY_FIELD } from './credential-fields.ts';
import type { Destination } from './types.ts';

const MASK = '***';

/** The texts that must never be shown for this credential data: each secret field's value, and its parts. */
export function secretTextsOf(secretFields: readonly string[], secret: Record<string, string> | null): string[] {
  if (!secret) return [];
  const texts = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value !== 'string' || value === '') return;
    texts.add(value);
    texts.add(encodeURIComponent(value));
    try {
      // A pasted OAuth token is JSON: its access and refresh tokens are secrets on their own.
      const parsed = JSON.parse(value);
      if (parsed && typeof parsed === 'object') for (const inner of Object.values(parsed)) if (typeof inner === 'string' && inner.length >= 8) texts.add(inner);
    } catch {
      // not JSON: the value itself is the secret
    }
  };
  for (const field of secretFields) {
    if (field === EVERY_FIELD) Object.values(secret).forEach(add);
    else add(secret[field]);
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...texts].sort((a, b) => b.length - a.length);
}

/** `text` with every secret in it masked. */
export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (result.includes(secret)) result = result.split(secret).join(MASK);
  return result;
}

/** The same error with its message masked (a CairnError keeps its kind, code and retryability). */
export function redactedError(error: unknown, secrets: readonly string[]): unknown {
  if (!(error instanceof Error) || secrets.length === 0) return error;
  const message = redact(error.message, secrets);
  if (message === error.message) return error;
  if (isCairnError(error)) {
    return new CairnError(error.kind, error.code, message, { retryable: error.retryable, retryAfter: error.retryAfter, details: error.details });
  }
  return new Error(message);
}

/**
 * The destination with its run-log lines and its errors masked for the credential it is given.
 * An abort reason passes untouched: it is Cairn's own, and the run manager recognises it by identity.
 */
export function redacting<Config>(destination: Destination<Config>): Destination<Config> {
  const guard = async <T>(secret: Record<string, string> | null, signal: AbortSignal | null, work: (secrets: string[]) => Promise<T>): Promise<T> => {
    const secrets = secretTextsOf(destination.secretFields, secret);
    try {
      return await work(secrets);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      throw redactedError(error, secrets);
    }
  };
  return {
    ...destination,
    test: (config, secret, hostKeys) => guard(secret, null, () => destination.test(config, secret, hostKeys)),
    sync: (context) => guard(context.secret, context.signal, (secrets) => destination.sync({ ...context, log: (level, message) => context.log(level, redact(message, secrets)) })),
    restore: (context) => guard(context.secret, context.signal, (secrets) => destination.restore({ ...context, log: (level, message) => context.log(level, redact(message, secrets)) })),
    ...(destination.putBeside && { putBeside: (config, secret, hostKeys, file) => guard(secret, file.signal, () => destination.putBeside!(config, secret, hostKeys, file)) }),
    ...(destination.getBeside && { getBeside: (config, secret, hostKeys, file) => guard(secret, file.signal, () => destination.getBeside!(config, secret, hostKeys, file)) }),
  };
}
