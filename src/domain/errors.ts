/**
 * One error type for everything Cairn refuses or fails to do. Services throw it; the API edge
 * (api/plugins/errors.ts) alone turns `kind` into an HTTP status and the contract's error shape.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export interface CairnErrorOptions {
  /** Whether trying the same thing again later may succeed. */
  retryable?: boolean;
  /** Seconds to wait before retrying (rate limits). */
  retryAfter?: number;
  /** Extra fields merged into the API error body (e.g. the jobs that use a credential). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class CairnError extends Error {
  readonly retryable: boolean;
  readonly retryAfter?: number;
  readonly details?: Record<string, unknown>;

  /**
   * @param kind what went wrong, in terms a client can branch on
   * @param code stable machine-readable code, e.g. `JOB_NOT_FOUND`
   * @param message a sentence the user can act on; never contains a secret
   */
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    options: CairnErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CairnError';
    this.retryable = options.retryable ?? false;
    this.retryAfter = options.retryAfter;
    this.details = options.details;
  }
}

/** Shorthands for the common kinds, so call sites read as a sentence. */
export const invalid = (code: string, message: string, options?: CairnErrorOptions) =>
  new CairnError('invalid', code, message, options);
export const unauthorized = (code: string, message: string) => new CairnError('unauthorized', code, message);
export const forbidden = (code: string, message: string) => new CairnError('forbidden', code, message);
export const notFound = (code: string, message: string) => new CairnError('not_found', code, message);
export const conflict = (code: string, message: string, options?: CairnErrorOptions) =>
  new CairnError('conflict', code, message, options);

export function isCairnError(value: unknown): value is CairnError {
  return value instanceof CairnError;
}
