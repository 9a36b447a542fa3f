/**
 * A `repository` job's password: generated when the owner gives none, sealed with the vault before
 * it reaches the store, opened only for a run or the recovery kit. It is the one key to the backup:
 * never logged, never in a job view (which says `repository_password_set`), shown once when generated.
 */
import { randomInt } from 'node:crypto';
import { invalid } from '../domain/errors.ts';
import type { JobInput, JobRecord } from '../domain/jobs.ts';
import type { Vault } from '../vault/index.ts';

/** Letters and digits that cannot be mistaken for one another on paper (no 0/o, 1/l/i). */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const GROUPS = 8;
const GROUP_LENGTH = 4;

/**
 * A new password: 8 groups of 4 characters from a 31-letter alphabet (about 158 bits), dashed so it
 * can be read off a printed recovery kit and typed into `restic` without a mistake.
 */
export function generateRepositoryPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = '';
    for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

/** What saving a job does with its password: the sealed form to store, and the password to show once (when generated). */
export interface PasswordDecision {
  sealed: string | undefined;
  /** The password made now, for the one answer that shows it; null when the owner gave it or it was set before. */
  generated: string | null;
}

/** Seals and opens repository passwords with the vault. */
export class RepositoryPasswords {
  constructor(private readonly vault: Vault) {}

  /**
   * The password a saved job keeps. A repository job without one gets the owner's or a generated one;
   * a set password stays. 400 REPOSITORY_PASSWORD_FIXED when a different one is given for a job that
   * has one: the repository's key files are sealed with it, and Cairn does not change keys.
   */
  decide(input: JobInput, existing: JobRecord | null): PasswordDecision {
    const given = input.repository_password;
    const sealed = existing?.repository_password_sealed;
    if (sealed !== undefined) {
      if (given !== undefined && given !== this.vault.decrypt(sealed)) {
        throw invalid(
          'REPOSITORY_PASSWORD_FIXED',
          '"repository_password" cannot be changed once set: the repository is sealed with it. Create a new job (another backup folder) to use another password.',
        );
      }
      return { sealed, generated: null };
    }
    if (input.backup_mode !== 'repository' && given === undefined) return { sealed: undefined, generated: null };
    const password = given ?? generateRepositoryPassword();
    return { sealed: this.vault.encrypt(password), generated: given === undefined ? password : null };
  }

  /** The job's password in clear, for a run or the recovery kit; REPOSITORY_PASSWORD_MISSING (400) when it has none. */
  of(job: JobRecord): string {
    if (job.repository_password_sealed === undefined) {
      throw invalid('REPOSITORY_PASSWORD_MISSING', `Job "${job.name}" has no repository password; set "repository_password" on the job`);
    }
    return this.vault.decrypt(job.repository_password_sealed);
  }
}
