/** rclone's failures in words a user can act on, as CairnErrors (retryable when a later try may work). */
import { CairnError } from '../../domain/errors.ts';
import { credentialRefused } from '../remote/connection-errors.ts';
import type { RcloneOutcome } from './rclone-process.ts';

const AUTH = /unable to authenticate|401|403|unauthori[sz]ed|forbidden|invalid_grant|access denied|permission denied|password/i;
const CONNECTION = /connection refused|connection reset|EOF|broken pipe|no route|i\/o timeout|timed out|dial tcp|connection lost|closed/i;

/** A source file that changed or vanished while rclone read it: a warning, not a failure of the run. */
export function isSourceChange(message: string): boolean {
  return /being updated|size changed|no such file or directory|vanished/i.test(message);
}

/** The error a failed rclone command means; `where` names the destination (no secrets). */
export function rcloneFailure(outcome: RcloneOutcome, where: string): CairnError {
  const errors = outcome.errors.filter((line) => !isSourceChange(line.msg));
  const said = errors.map((line) => (line.object ? `${line.object}: ${line.msg}` : line.msg)).find((text) => text.trim() !== '') ?? `rclone exited with code ${outcome.code}`;
  const detail = said.replace(/\s+/g, ' ').slice(0, 500);
  // As the other destinations say it: a refused credential is not the server being away (503) but the credential.
  if (AUTH.test(detail)) return credentialRefused(`${where}: authentication failed: the credentials were refused (${detail})`);
  if (CONNECTION.test(detail) || outcome.code === 5) {
    return new CairnError('unavailable', 'DESTINATION_UNREACHABLE', `${where}: connection lost or refused (${detail})`, { retryable: true });
  }
  return new CairnError('unavailable', 'RCLONE_FAILED', `${where}: ${detail}`, { retryable: outcome.code === 5 });
}
