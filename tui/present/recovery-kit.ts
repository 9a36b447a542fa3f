/** A recovery kit → the text the kit screen shows beside its QR code. */
import type { RecoveryKit } from '../wire.ts';

/**
 * What stands beside the QR code (which holds the location and the password): the same two in
 * words, then the restic commands to list and restore, so the screen can be photographed or copied.
 */
export function recoveryKitDetails(kit: RecoveryKit): string {
  return [
    `Recovery kit — ${kit.job_name}`,
    'Anyone with this can read the backup: keep it apart from this box.',
    '',
    'Repository:',
    `  ${kit.repository}`,
    'Password:',
    `  ${kit.password}`,
    '',
    ...(kit.setup.length > 0 ? ['First:', ...kit.setup.map((line) => `  ${line}`), ''] : []),
    'List the snapshots:',
    `  ${kit.commands.list}`,
    'Restore the newest:',
    `  ${kit.commands.restore_latest}`,
    '',
    'Esc: back',
  ].join('\n');
}
