/**
 * The setup code: while a box has no owner, creating the owner account from another computer needs
 * this one-time code, which only someone on the box can read (the daemon's log, or the file
 * `<data dir>/setup-code` that `cairn setup-code` shows). Whoever reaches a new box first over the
 * network therefore cannot claim it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { forbidden } from '../domain/errors.ts';
import { generateTypableCode, normalizeTypedCode } from './recovery-codes.ts';

export const SETUP_CODE_FILE = 'setup-code';

/** Where an owner finds the code; said by every refusal and by the daemon's log. */
export const SETUP_CODE_WHERE = 'run `sudo cairn setup-code` on the box, or read it in the daemon\'s log (`journalctl -u cairn`)';

/** The refusal of a setup from another computer that gave no code (or came while none is in effect). */
export const setupCodeMissing = () =>
  forbidden('SETUP_CODE_REQUIRED', `Creating the owner account from another computer needs the setup code: ${SETUP_CODE_WHERE}.`);

const digest = (code: string) => createHash('sha256').update(normalizeTypedCode(code)).digest();

/** A code in effect: kept in memory to compare, and in a file (0600) for `cairn setup-code`. */
export class SetupCode {
  private constructor(
    private readonly file: string,
    /** The code as shown to the owner, e.g. `ABCD-EFGH-JKLM`. */
    readonly code: string,
  ) {}

  /** Makes a fresh code and writes it to `<dataDir>/setup-code` (mode 0600), replacing an earlier one. */
  static async create(dataDir: string): Promise<SetupCode> {
    const file = path.join(dataDir, SETUP_CODE_FILE);
    const code = generateTypableCode();
    const temp = `${file}.tmp`;
    await fs.rm(temp, { force: true });
    // Created 0600 from the start: the code is never readable by others, not even for a moment.
    await fs.writeFile(temp, `${code}\n`, { mode: 0o600, flag: 'wx' });
    await fs.rename(temp, file);
    return new SetupCode(file, code);
  }

  /** Removes a code file left by an earlier run (the box has an owner now, or the daemon died). */
  static async removeLeftover(dataDir: string): Promise<void> {
    await fs.rm(path.join(dataDir, SETUP_CODE_FILE), { force: true });
  }

  /**
   * Returns when `given` is the code (case, spaces and dashes aside); otherwise throws 403
   * SETUP_CODE_REQUIRED (none given) or SETUP_CODE_INVALID. Compared in constant time.
   */
  verify(given: string | undefined): void {
    if (given === undefined || normalizeTypedCode(given) === '') {
      throw setupCodeMissing();
    }
    if (!timingSafeEqual(digest(given), digest(this.code))) {
      throw forbidden('SETUP_CODE_INVALID', `That setup code is not right: ${SETUP_CODE_WHERE}.`);
    }
  }

  /** Removes the file; called once the owner exists and when the daemon stops. */
  retire(): Promise<void> {
    return fs.rm(this.file, { force: true });
  }
}

/** The code the running daemon wrote to `dataDir`, or null when there is none. */
export async function readSetupCode(dataDir: string): Promise<string | null> {
  try {
    const code = (await fs.readFile(path.join(dataDir, SETUP_CODE_FILE), 'utf8')).trim();
    return code === '' ? null : code;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
