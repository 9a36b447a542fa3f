/**
 * `cairn export [--out FILE]` and `cairn import FILE | --from-drive PLACE | --from TYPE … [--replace]`:
 * the box's own state through the running daemon's API (`POST /api/system/export`,
 * `/api/system/import`, `/api/system/import/destination`), the passphrase read from the terminal
 * (or standard input's lines when piped).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findExports, PASSPHRASE_MIN_LENGTH } from '../box-export/index.ts';
import type { Config } from '../config.ts';
import { openDaemonSession, type ApiAnswer } from './daemon-session.ts';
import { destinationToImport, LOCATION_FLAGS, type ImportSource } from './import-from-destination.ts';
import { readSecret } from './prompt.ts';

/** Seals the box's state into `out` (default: ./cairn-<host>-<date>.cairn-box-export, mode 0600); 0 when written. */
export async function exportCommand(config: Config, out: string | undefined): Promise<number> {
  const passphrase = await readSecret(`Export passphrase (at least ${PASSPHRASE_MIN_LENGTH} characters; without it the file cannot be opened): `);
  if ((await readSecret('The same passphrase again: ')) !== passphrase) {
    process.stderr.write('The two passphrases differ; nothing was exported.\n');
    return 1;
  }
  const api = await openDaemonSession(config, 'cairn export');
  if (!api) return 1;
  try {
    const answer = await api.call('POST', '/api/system/export', { passphrase });
    if (answer.status !== 200) {
      process.stderr.write(`The daemon refused: ${answer.body?.message ?? answer.status}\n`);
      return 1;
    }
    const file = out ?? `cairn-${os.hostname()}-${new Date().toISOString().slice(0, 10)}.cairn-box-export`;
    // wx: an earlier export is never overwritten by accident.
    await fs.writeFile(file, answer.text, { mode: 0o600, flag: 'wx' });
    process.stdout.write(`Box exported to ${path.resolve(file)}. Keep the passphrase apart from the file: \`cairn import\` needs both.\n`);
    return 0;
  } finally {
    await api.close();
  }
}

/** Where `cairn import` takes the export from: exactly one of a file, a drive, a remote destination. */
export interface ImportPlace {
  file?: string;
  fromDrive?: string;
  from?: ImportSource;
  /** A flag given that only --from takes, without --from. */
  stray?: string;
}

/** The place `cairn import`'s arguments name (the location flags and the key belong to --from only). */
export function importPlaceOf(file: string | undefined, options: Record<string, string | true>): ImportPlace {
  const location = Object.fromEntries(Object.keys(LOCATION_FLAGS).flatMap((flag) => {
    const value = options[flag.slice(2)];
    return typeof value === 'string' ? [[flag.slice(2), value]] : [];
  }));
  const type = options.from;
  const keyFile = typeof options['key-file'] === 'string' ? { keyFile: options['key-file'] } : {};
  const from = typeof type === 'string' ? { type, location, key: options.key === true, ...keyFile } : undefined;
  const stray = [...Object.keys(location), ...(options.key ? ['key'] : []), ...(keyFile.keyFile ? ['key-file'] : [])];
  return { file, fromDrive: options['from-drive'] as string | undefined, from, ...(from === undefined && stray.length > 0 ? { stray: `--${stray[0]}` } : {}) };
}

/** Imports the export in `file`, the newest found under `fromDrive`, or the one at `from`; 0 when imported, 1 when refused, 2 for a usage error. */
export async function importCommand(config: Config, place: ImportPlace, replace: boolean): Promise<number> {
  if (place.stray) {
    process.stderr.write(`${place.stray} names a place at a remote destination: give its type with --from.\n`);
    return 2;
  }
  if ([place.file, place.fromDrive, place.from].filter((given) => given !== undefined).length !== 1) {
    process.stderr.write('Name the export file, --from-drive with the mount point (or folder) that holds one, or --from with the destination the backup went to; one of them.\n');
    return 2;
  }
  if (place.from) return importFromDestinationCommand(config, place.from, replace);
  const chosen = await exportToImport(place.file, place.fromDrive);
  if (!chosen) return 1;
  const passphrase = await readSecret('Export passphrase: ');
  const api = await openDaemonSession(config, 'cairn import …');
  if (!api) return 1;
  try {
    const answer = await api.call('POST', '/api/system/import', { file: chosen.text, passphrase, replace });
    if (answer.status !== 200) return refused(answer);
    process.stdout.write(`${answer.body.message} from ${chosen.file}.\n`);
    sayAfterImport(answer);
    return 0;
  } finally {
    await api.close();
  }
}

/** `--from TYPE …`: the credential asked (see import-from-destination.ts), then the passphrase; the daemon reads the export there. */
async function importFromDestinationCommand(config: Config, from: ImportSource, replace: boolean): Promise<number> {
  const api = await openDaemonSession(config, 'cairn import --from …');
  if (!api) return 1;
  try {
    const destination = await destinationToImport(api, from);
    if (typeof destination === 'string') {
      process.stderr.write(`cairn import: ${destination}\n`);
      return 2;
    }
    const passphrase = await readSecret('Export passphrase: ');
    const answer = await api.call('POST', '/api/system/import/destination', { ...destination, passphrase, replace });
    if (answer.status !== 200) return refused(answer);
    const { source } = answer.body;
    process.stdout.write(`Found the export of ${source.box || 'a box'} made ${source.created_at} at ${source.where}.\n${answer.body.message}.\n`);
    sayAfterImport(answer);
    return 0;
  } finally {
    await api.close();
  }
}

function refused(answer: ApiAnswer): number {
  const hint = answer.body?.code === 'BOX_NOT_EMPTY' ? ' Add --replace to replace them (a sealed copy of them is kept in the data dir).' : '';
  process.stderr.write(`Not imported: ${answer.body?.message ?? answer.status}${hint}\n`);
  return 1;
}

function sayAfterImport(answer: ApiAnswer): void {
  if (answer.body.replaced_copy) process.stdout.write(`What it replaced is kept in ${answer.body.replaced_copy} (same passphrase).\n`);
  if (answer.body.automatic_export) process.stdout.write('This box now writes an export beside each backup, with this passphrase.\n');
}

/** The file's text, or the newest export under the drive (the choice said on stdout); null after saying why not. */
async function exportToImport(file: string | undefined, fromDrive: string | undefined): Promise<{ file: string; text: string } | null> {
  const place = (file ?? fromDrive)!;
  const found = await findExports(place).catch((error: NodeJS.ErrnoException) => {
    process.stderr.write(`Cannot read ${place}: ${error.code === 'ENOENT' ? 'it does not exist' : error.message}\n`);
    return null;
  });
  if (found === null) return null;
  if (found.length === 0) {
    process.stderr.write(file ? `${file} is not a Cairn box export.\n` : `No Cairn box export (.cairn-box-export) under ${fromDrive}; is the drive mounted there?\n`);
    return null;
  }
  const newest = found[0];
  if (fromDrive) {
    const others = found.length > 1 ? ` (the newest of ${found.length})` : '';
    process.stdout.write(`Found the export of ${newest.header.box || 'a box'} made ${newest.header.created_at} in ${newest.file}${others}.\n`);
  }
  return { file: newest.file, text: newest.text };
}
