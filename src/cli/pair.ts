/**
 * `cairn pair`: on the box, starts a pairing and prints its QR code for the phone app to scan, then
 * waits until the app claims it (exit 0) or the code expires or is cancelled (exit 1). Ctrl-C
 * cancels the pairing, so a code left on a screen stops working. Uses the public API with a session
 * from the admin socket, like `cairn run`.
 */
import type { Config } from '../config.ts';
import { API_KEY_SCOPES, type ApiKeyScope } from '../domain/api-keys.ts';
import type { PairingView } from '../domain/pairing.ts';
import { terminalQr, type StartedPairing } from '../pairing/index.ts';
import { openDaemonSession } from './daemon-session.ts';

const POLL_MS = 1000;
const EXIT = { claimed: 0, ended: 1, usage: 2 } as const;

/**
 * Pairs a phone with a key of `scope` (default read; named `name`, else after the phone); resolves
 * to the exit code. A scope that is none is a usage error before the configuration is read.
 */
export async function pairCommand(loadConfig: () => Config, scopeText: string | undefined, name: string | undefined): Promise<number> {
  const scope = (scopeText ?? 'read') as ApiKeyScope;
  if (!API_KEY_SCOPES.includes(scope)) {
    process.stderr.write(`--scope must be one of ${API_KEY_SCOPES.join(', ')}\n`);
    return EXIT.usage;
  }
  const session = await openDaemonSession(loadConfig(), 'cairn pair');
  if (!session) return EXIT.ended;
  try {
    const started = await session.call<StartedPairing & { message?: string }>('POST', '/api/pairing', name === undefined ? { scope } : { scope, name });
    if (started.status !== 201) {
      process.stderr.write(`Could not start pairing: ${started.body?.message ?? started.status}\n`);
      return started.status === 400 ? EXIT.usage : EXIT.ended;
    }
    const pairing = started.body;
    // Ctrl-C is caught before the code is shown: a press right after it appears cancels the code too.
    const interrupt = catchInterrupt();
    try {
      // The details first and one line after the QR code, so the code stays whole on an 80×24 terminal.
      process.stdout.write(
        `Pairing a phone app with a key of scope "${scope}".\n` +
          `Code ${pairing.code}, valid until ${new Date(pairing.expires_at).toLocaleTimeString()} (10 minutes, once).\n` +
          `The app should show the fingerprint ${pairing.fingerprint_sha256 ?? '(none: HTTPS is off)'}\n` +
          `${await terminalQr(pairing.qr_payload)}` +
          `Scan it with the Cairn app. Waiting for the app… (Ctrl-C cancels)\n`,
      );
      return report(await waitUntilEnded(pairing.id, (path, method = 'GET') => session.call<PairingView>(method, path), interrupt.pressed));
    } finally {
      interrupt.stop();
    }
  } finally {
    await session.close();
  }
}

type Call = (path: string, method?: string) => Promise<{ status: number; body: PairingView }>;

/** Catches Ctrl-C (SIGINT) until `stop`: `pressed()` says whether it came. */
function catchInterrupt(): { pressed: () => boolean; stop: () => void } {
  let interrupted = false;
  const onInterrupt = () => (interrupted = true);
  process.on('SIGINT', onInterrupt);
  return { pressed: () => interrupted, stop: () => void process.off('SIGINT', onInterrupt) };
}

/** Asks the pairing's state every second until it is no longer pending; `interrupted()` (Ctrl-C) cancels it. */
async function waitUntilEnded(id: number, call: Call, interrupted: () => boolean): Promise<PairingView> {
  for (;;) {
    if (interrupted()) {
      const cancelled = await call(`/api/pairing/${id}`, 'DELETE');
      // Claimed just before the cancel: that answer stands.
      if (cancelled.status === 200) return cancelled.body;
    }
    const { status, body } = await call(`/api/pairing/${id}`);
    if (status !== 200) throw new Error(`the daemon answered ${status} about the pairing`);
    if (body.state !== 'pending') return body;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function report(pairing: PairingView): number {
  switch (pairing.state) {
    case 'claimed':
      process.stdout.write(`Paired: the app has the key "${pairing.key?.name}" (scope ${pairing.scope}). \`GET /api/keys\` or the TUI lists it; revoking it unpairs the app.\n`);
      return EXIT.claimed;
    case 'expired':
      process.stdout.write('The code expired before an app claimed it; run `cairn pair` again.\n');
      return EXIT.ended;
    default:
      process.stdout.write('Pairing cancelled; the code no longer works.\n');
      return EXIT.ended;
  }
}
