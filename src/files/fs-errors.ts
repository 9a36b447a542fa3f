/**
 * What a failed filesystem call means to an owner: a short reason, and the CairnError (always a 4xx
 * kind) that the API answers when making or resolving a folder a client asked for fails.
 */
import { CairnError, conflict, forbidden, invalid, notFound } from '../domain/errors.ts';

/** A short reason for a failed file operation, e.g. "the filesystem is read-only". */
export function describeErrno(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EROFS':
      return 'the filesystem is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left on the drive';
    case 'EIO':
      return 'input/output error (is the drive failing or unplugged?)';
    case 'ELOOP':
      return 'too many symbolic links (a link that leads back to itself?)';
    case 'ENAMETOOLONG':
      return 'a name is longer than 255 bytes, or the whole path is too long';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EEXIST':
      return 'it exists and is not a folder';
    case 'ENOENT':
      return 'a folder on the way does not exist (removed meanwhile?)';
    case 'EINVAL':
      return 'the name is not allowed on this filesystem';
    default:
      return error.code ?? error.message;
  }
}

/**
 * The client's error for a filesystem call on `where` that failed: what is wrong with the path
 * (400), what it may not do there (403), what is missing (404) or the state of the disk (409).
 * Never a 5xx: every cause is the path or the disk the client chose, and the message names both.
 */
export function pathProblem(where: string, error: unknown): CairnError {
  const errno = error as NodeJS.ErrnoException;
  const message = `Cannot use ${where}: ${describeErrno(errno)}`;
  switch (errno?.code) {
    case 'ELOOP':
    case 'ENAMETOOLONG':
    case 'ENOTDIR':
    case 'EINVAL':
      return invalid('PATH_UNUSABLE', message);
    case 'EACCES':
    case 'EPERM':
      return forbidden('PATH_PERMISSION_DENIED', message);
    case 'ENOENT':
      return notFound('PATH_NOT_FOUND', message);
    case 'EEXIST':
      return conflict('PATH_NOT_FOLDER', message);
    default:
      // ENOSPC, EDQUOT, EROFS, EIO …: the disk's state, which the owner can change.
      return conflict('FILESYSTEM_ERROR', message);
  }
}
