/** Reading an answer (a secret without echo) from the person at the terminal, or from piped standard input. */
import readline from 'node:readline';

/** Asks for a secret without echoing it; when stdin is not a terminal, reads its next line instead. */
export async function readSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) return readPipedLine();
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Show the question, then swallow everything readline would echo back.
  process.stderr.write(question);
  const output = rl as unknown as { _writeToOutput(text: string): void };
  output._writeToOutput = () => undefined;
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** Asks for an answer that is no secret (a user name), echoed as typed; when stdin is not a terminal, reads its next line instead. */
export async function readLine(question: string): Promise<string> {
  if (!process.stdin.isTTY) return readPipedLine();
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}

let pipedLines: string[] | null = null;

async function readPipedLine(): Promise<string> {
  if (pipedLines === null) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    pipedLines = text.split(/\r?\n/);
  }
  return pipedLines.shift() ?? '';
}
