/**
 * The CLI's argument parsing, driven by one table of commands (src/main.ts): each command names its
 * words, its options and its arguments, and this module turns argv into the command to run, its
 * help, or a usage error. Parsing has no side effects, so `--help` never starts anything.
 */

/** An option of a command: `--name VALUE` (or `--name=VALUE`) when it takes a value, else a flag. */
export interface OptionSpec {
  /** The placeholder shown in the usage (`URL`); absent for a flag. */
  value?: string;
  help: string;
}

/** A positional argument. */
export interface ArgumentSpec {
  name: string;
  required: boolean;
}

/** What a command receives: its options by name (without dashes) and its positional arguments. */
export interface ParsedInput {
  options: Record<string, string | true>;
  args: string[];
}

/** One command of the table. */
export interface CommandSpec {
  /** The words that name it: `['user', 'reset-password']`. */
  words: string[];
  summary: string;
  /** Said after the summary in the command's own help. */
  details?: string;
  options?: Record<string, OptionSpec>;
  args?: ArgumentSpec[];
  /** Runs the command; resolves to the process exit code. */
  run(input: ParsedInput): Promise<number>;
}

/** The outcome of parsing: a command to run, help to print (exit 0), or a usage error (exit 2). */
export type Parsed =
  | { kind: 'run'; command: CommandSpec; input: ParsedInput }
  | { kind: 'help'; text: string }
  | { kind: 'error'; message: string; usage: string };

const HELP_FLAGS = new Set(['--help', '-h']);

/**
 * Parses argv against the table. `--help`/`-h` anywhere in a command's arguments wins over
 * everything else in them; `--` ends the options (a job named `-x`: `cairn run -- -x`).
 */
export function parseCommandLine(argv: string[], commands: readonly CommandSpec[], overview: string): Parsed {
  const command = commands
    .filter((candidate) => candidate.words.every((word, i) => argv[i] === word))
    .sort((a, b) => b.words.length - a.words.length)[0];
  if (!command) return unknownCommand(argv, commands, overview);

  const rest = argv.slice(command.words.length);
  const endOfOptions = rest.indexOf('--');
  if (rest.slice(0, endOfOptions === -1 ? undefined : endOfOptions).some((arg) => HELP_FLAGS.has(arg))) {
    return { kind: 'help', text: commandUsage(command) };
  }
  const input = parseArguments(command, rest);
  if (typeof input === 'string') return { kind: 'error', message: `cairn ${command.words.join(' ')}: ${input}`, usage: commandUsage(command) };
  return { kind: 'run', command, input };
}

function parseArguments(command: CommandSpec, rest: string[]): ParsedInput | string {
  const specs = command.options ?? {};
  const input: ParsedInput = { options: {}, args: [] };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--') {
      input.args.push(...rest.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      input.args.push(arg);
      continue;
    }
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const spec = specs[flag];
    if (!spec) return `unknown option ${flag}`;
    const name = flag.replace(/^-+/, '');
    if (!spec.value) {
      if (inline !== undefined) return `${flag} takes no value`;
      input.options[name] = true;
      continue;
    }
    const value = inline ?? rest[++i];
    if (value === undefined || value === '') return `${flag} needs a value (${spec.value})`;
    input.options[name] = value;
  }
  const expected = command.args ?? [];
  const missing = expected.slice(input.args.length).find((arg) => arg.required);
  if (missing) return `missing ${missing.name}`;
  if (input.args.length > expected.length) return `unexpected argument ${JSON.stringify(input.args[expected.length])}`;
  return input;
}

/** `cairn user` alone, or with a word no command has: help for the group, or an error naming the word. */
function unknownCommand(argv: string[], commands: readonly CommandSpec[], overview: string): Parsed {
  const group = commands.filter((command) => command.words.length > 1 && command.words[0] === argv[0]);
  const usage = group.length > 0 ? `Usage:\n${group.map(usageLine).join('\n')}\n` : overview;
  if (group.length > 0 && (argv.length === 1 || HELP_FLAGS.has(argv[1]))) {
    return argv.length === 1 ? { kind: 'error', message: `cairn ${argv[0]}: which one?`, usage } : { kind: 'help', text: usage };
  }
  return { kind: 'error', message: `Unknown command: ${argv.join(' ')}`, usage };
}

/** One line of the overview: the command's words, options and arguments, and its summary. */
export function usageLine(command: CommandSpec): string {
  return `  ${synopsis(command).padEnd(40)} ${command.summary}`;
}

function synopsis(command: CommandSpec): string {
  const options = Object.entries(command.options ?? {}).map(([flag, spec]) => `[${flag}${spec.value ? ` ${spec.value}` : ''}]`);
  const args = (command.args ?? []).map((arg) => (arg.required ? `<${arg.name}>` : `[${arg.name}]`));
  return [...command.words, ...options, ...args].join(' ');
}

/** The command's own help: synopsis, what it does, and its options. */
export function commandUsage(command: CommandSpec): string {
  const options = Object.entries({ ...command.options, '-h, --help': { help: 'show this help' } } as Record<string, OptionSpec>).map(
    ([flag, spec]) => `  ${`${flag}${spec.value ? ` ${spec.value}` : ''}`.padEnd(24)} ${spec.help}`,
  );
  const details = command.details ? `\n${command.details}\n` : '';
  const summary = command.summary[0].toUpperCase() + command.summary.slice(1);
  return `Usage: cairn ${synopsis(command)}\n\n${summary}.\n${details}\nOptions:\n${options.join('\n')}\n`;
}
