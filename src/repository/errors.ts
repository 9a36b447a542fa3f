/**
 * The errors the repository engine throws, one place for their codes so that the API edge and the
 * run log can name them. Messages name the repository file (never a key or password). A wrong
 * repository password is `invalid` (400), not `unauthorized`: a 401 would tell a client its session
 * ended. A damaged, malformed or incomplete repository is `conflict` (409): the request is fine, the
 * repository's state prevents it, and it is no bug of the daemon's (which a 500 would say).
 */
import { CairnError } from '../domain/errors.ts';

/** The password opens none of the repository's key files. */
export const wrongPassword = (where: string) =>
  new CairnError('invalid', 'REPOSITORY_WRONG_PASSWORD', `The password does not open the repository at ${where}.`);

/** A file's MAC or hash does not match: the bytes were changed or damaged after they were written. */
export const damaged = (what: string, cause?: unknown) =>
  new CairnError('conflict', 'REPOSITORY_DAMAGED', `${what} is damaged (its authentication code or hash does not match); nothing was restored from it.`, { cause });

/** A file the index names is not in the repository. */
export const missing = (what: string) =>
  new CairnError('conflict', 'REPOSITORY_FILE_MISSING', `${what} is missing from the repository.`);

/** The repository uses something this engine cannot read (e.g. zstd compression). */
export const unsupported = (message: string) => new CairnError('invalid', 'REPOSITORY_UNSUPPORTED', message);

/** Another process holds a lock that excludes us. */
export const locked = (message: string) => new CairnError('conflict', 'REPOSITORY_LOCKED', message, { retryable: true });

/** The repository's structure is not what the format says (bad JSON, bad header, bad config). */
export const malformed = (what: string, detail: string) =>
  new CairnError('conflict', 'REPOSITORY_MALFORMED', `${what} is not a valid restic repository file: ${detail}.`);

/** The store cannot be reached or read (a drive unplugged, a server down): nothing is known about the repository's health. */
export const unreachable = (where: string, cause?: unknown) =>
  new CairnError('unavailable', 'REPOSITORY_UNREACHABLE', `The repository at ${where} cannot be reached${cause instanceof Error ? ` (${cause.message})` : ''}; the operation could not finish. Try again when it is back.`, { cause, retryable: true });
