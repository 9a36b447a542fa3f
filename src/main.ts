/** The `cairn` command line: parses argv and calls in; no logic of its own. */
import { resetPasswordCommand } from './cli/reset-password.ts';
import { runJobCommand } from './cli/run-job.ts';
import { ConfigError, loadConfig, noColorRequested, type Config } from './config.ts';
import { startDaemon } from './daemon.ts';
import { clearBlockedDatabase, StoreUnavailableError } from './store/index.ts';
import { VERSION } from './version.ts';

const USAGE = `Usage: cairn <command>

Commands:
  daemon                               run the backup daemon in the foreground
  run <job id or name>                 run a job now on the running daemon and follow its log
  tui [--url URL]                      the terminal UI (default: the daemon on this box)
  user reset-password [--username N]   set a new password on this box (turns 2FA off, ends sessions)
  store reset                          after a damaged database was moved aside: start with an empty one
  version                              print the version

Configuration comes from CAIRN_HOST, CAIRN_PORT, CAIRN_DATA_DIR, CAIRN_ALLOWED_BROWSE_PATHS
and an optional JSON file named by CAIRN_CONFIG (see README.md).
`;

/** Runs the command in `argv` and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'daemon':
        return await runDaemon(loadConfig());
      case 'tui': {
        const config = loadConfig();
        const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
        const { startTui } = await import('../tui/main.ts');
        const code = await startTui({ url: optionValue(rest, '--url') ?? `http://${host}:${config.port}`, noColor: noColorRequested() });
        // The terminal's input stream would keep the process alive after the screen is gone.
        process.exit(code);
        break;
      }
      case 'run':
        return await runJobCommand(loadConfig(), rest[0]);
      case 'user':
        if (rest[0] === 'reset-password') return await resetPasswordCommand(loadConfig(), optionValue(rest, '--username'));
        break;
      case 'store':
        if (rest[0] === 'reset') return await storeReset(loadConfig());
        break;
      case 'version':
      case '--version':
        process.stdout.write(`${VERSION}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
        process.stdout.write(USAGE);
        return 0;
    }
    process.stderr.write(`Unknown command: ${argv.join(' ')}\n\n${USAGE}`);
    return 2;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StoreUnavailableError) {
      process.stderr.write(`${error.message}\n`);
      return 78; // EX_CONFIG: systemd shows it as a configuration problem
    }
    process.stderr.write(`cairn: ${(error as Error).message}\n`);
    return 1;
  }
}

function optionValue(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
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
