/** The `cairn` command line: one table of commands, parsed by cli/command-line.ts; no logic of its own. */
import { exportCommand, importCommand, importPlaceOf } from './cli/box-export.ts';
import { LOCATION_FLAGS } from './cli/import-from-destination.ts';
import { parseCommandLine, usageLine, type CommandSpec } from './cli/command-line.ts';
import { fingerprintCommand } from './cli/fingerprint.ts';
import { openTuiCommand } from './cli/open-tui.ts';
import { pairCommand } from './cli/pair.ts';
import { resetPasswordCommand } from './cli/reset-password.ts';
import { runJobCommand } from './cli/run-job.ts';
import { setupCodeCommand } from './cli/setup-code.ts';
import { ConfigError, loadConfig, noColorRequested, type Config } from './config.ts';
import { startDaemon } from './daemon.ts';
import { SERVICE_SETTINGS_FILE } from './service-settings.ts';
import { clearBlockedDatabase, StoreUnavailableError } from './store/index.ts';
import { VERSION } from './version.ts';

/**
 * Every command. Configuration is loaded inside `run`, after parsing, so `--help` and usage errors
 * touch nothing (no data dir, no daemon, no network).
 */
const COMMANDS: readonly CommandSpec[] = [
  {
    words: ['daemon'],
    summary: 'run the backup daemon in the foreground',
    details: 'On an installed box systemd runs it (systemctl start cairn); this is for a checkout or a test.',
    run: async () => runDaemon(loadConfig()),
  },
  {
    words: ['run'],
    summary: 'run a job now on the running daemon and follow its log',
    details: 'Exits 0 when the run completed, 1 when it failed, 2 for an unknown job, 3 when cancelled. Ctrl-C cancels the run.',
    args: [{ name: 'job id or name', required: true }],
    run: async ({ args }) => runJobCommand(loadConfig(), args[0]),
  },
  {
    words: ['tui'],
    summary: 'the terminal UI',
    options: { '--url': { value: 'URL', help: 'the daemon to open (default: the daemon on this box)' } },
    run: async ({ options }) => openTuiCommand(loadConfig(), options.url as string | undefined, noColorRequested()),
  },
  {
    words: ['user', 'reset-password'],
    summary: 'set a new password on this box (turns 2FA off, ends sessions)',
    details: 'Reads the new password from the terminal (or one line of standard input).',
    options: { '--username': { value: 'NAME', help: 'the account (default: the only one)' } },
    run: async ({ options }) => resetPasswordCommand(loadConfig(), options.username as string | undefined),
  },
  {
    words: ['setup-code'],
    summary: 'show the one-time code that sets up a new box from another computer',
    details: 'Only while the box has no owner and the daemon runs. On the box itself (cairn tui, or the API on 127.0.0.1) no code is needed.',
    run: async () => setupCodeCommand(loadConfig()),
  },
  {
    words: ['fingerprint'],
    summary: "show the HTTPS certificate's SHA-256 fingerprint and the URLs to pin in a phone app",
    details: 'Reads the certificate the daemon serves (made at its first start, or CAIRN_TLS_CERT); run it as the daemon\'s user (sudo).',
    run: async () => fingerprintCommand(loadConfig()),
  },
  {
    words: ['pair'],
    summary: 'pair a phone app: print a QR code it scans to get an API key, and wait until it does',
    details:
      'The code works once, for 10 minutes; Ctrl-C cancels it. Exits 0 when an app claimed it, 1 when it expired or was cancelled. Run it as the daemon\'s user (sudo).',
    options: {
      '--scope': { value: 'SCOPE', help: 'what the app may do: read (default), operate (also run, cancel, restore, mount) or admin' },
      '--name': { value: 'NAME', help: "the key's name (default: the name the phone gives)" },
    },
    run: async ({ options }) => pairCommand(loadConfig, options.scope as string | undefined, options.name as string | undefined),
  },
  {
    words: ['export'],
    summary: "seal the box's jobs, schedules, settings, channels and credentials into a file (asks a passphrase)",
    details: 'Through the running daemon. The file holds every secret, encrypted with the passphrase (scrypt + AES-256-GCM, docs/BOX-EXPORT.md); API keys and users are not in it.',
    options: { '--out': { value: 'FILE', help: 'where to write it (default: ./cairn-<host>-<date>.cairn-box-export; never overwritten)' } },
    run: async ({ options }) => exportCommand(loadConfig(), options.out as string | undefined),
  },
  {
    words: ['import'],
    summary: 'recreate the jobs, credentials and settings of a box export on this box (asks its passphrase)',
    details:
      'Refused on a box that already has jobs, credentials or channels unless --replace (what is replaced is kept sealed in the data dir). With --from-drive, the newest .cairn-box-export Cairn wrote beside a backup there is used. ' +
      'With --from TYPE (sftp, s3, webdav), the .cairn-box-export a box wrote beside its backup there is read: name the place with the flags below, e.g. --from sftp --host nas --user backup --path /srv/backups, or --from s3 --bucket b --prefix pi --endpoint http://minio:9000; the credential is asked (a key with --key --key-file FILE), never given on the command line.',
    args: [{ name: 'file', required: false }],
    options: {
      '--from-drive': { value: 'PATH', help: 'a mount point or backup folder to look for the export in' },
      '--from': { value: 'TYPE', help: 'the type of remote destination the backup went to (sftp, s3, webdav …)' },
      ...Object.fromEntries(Object.entries(LOCATION_FLAGS).map(([flag, help]) => [flag, { value: flag.slice(2).toUpperCase(), help: `with --from: ${help}` }])),
      '--key': { help: 'with --from sftp: log in with a key (give it with --key-file)' },
      '--key-file': { value: 'FILE', help: 'with --from: the file holding the private key' },
      '--replace': { help: "replace this box's jobs, credentials and channels" },
    },
    run: async ({ args, options }) => importCommand(loadConfig(), importPlaceOf(args[0], options), options.replace === true),
  },
  {
    words: ['store', 'reset'],
    summary: 'after a damaged database was moved aside: start with an empty one',
    run: async () => storeReset(loadConfig()),
  },
  {
    words: ['version'],
    summary: 'print the version',
    run: async () => {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    },
  },
];

const OVERVIEW = `Usage: cairn <command> [options]     (cairn <command> --help for its options)

Commands:
${COMMANDS.map(usageLine).join('\n')}

Configuration comes from CAIRN_HOST, CAIRN_PORT, CAIRN_DATA_DIR, CAIRN_ALLOWED_PATHS,
CAIRN_TLS, CAIRN_TLS_CERT, CAIRN_TLS_KEY, CAIRN_PLAIN_HTTP and an optional JSON file named by CAIRN_CONFIG; when neither CAIRN_DATA_DIR nor CAIRN_CONFIG
is set, from the installed service's ${SERVICE_SETTINGS_FILE} if it exists (see README.md).
`;

/** Runs the command in `argv` and resolves to the process exit code (2 for a usage error). */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version') return main(['version']);
  // `cairn`, `cairn --help`, and `cairn help run` (the same as `cairn run --help`).
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0])) {
    if (argv.length <= 1) {
      process.stdout.write(OVERVIEW);
      return 0;
    }
    return main([...argv.slice(1), '--help']);
  }
  const parsed = parseCommandLine(argv, COMMANDS, OVERVIEW);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${parsed.message}\n\n${parsed.usage}`);
    return 2;
  }
  try {
    return await parsed.command.run(parsed.input);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StoreUnavailableError) {
      process.stderr.write(`${error.message}\n`);
      return 78; // EX_CONFIG: systemd shows it as a configuration problem
    }
    process.stderr.write(`cairn: ${(error as Error).message}\n`);
    return 1;
  }
}

async function runDaemon(config: Config): Promise<number> {
  const daemon = await startDaemon(config);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await daemon.stop();
  return 0;
}

async function storeReset(config: Config): Promise<number> {
  if (await clearBlockedDatabase(config.dataDir)) {
    process.stdout.write('The block is removed; Cairn will start with an empty database. The damaged copy stays where it was moved.\n');
  } else {
    process.stdout.write('Nothing to reset: the database is not blocked.\n');
  }
  return 0;
}
