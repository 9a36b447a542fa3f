/**
 * Pairing a phone from the terminal: the owner picks the scope, the screen shows the QR code and
 * asks the daemon each second whether an app claimed it; Esc cancels the code, so a code left on a
 * screen stops working.
 */
import blessed from 'blessed';
import QRCode from 'qrcode';
import type { TuiApi } from '../api.ts';
import { pairingDetails, pairingOutcome, qrWidth, SCOPE_CHOICES, scopeQuestion } from '../present/pairing.ts';
import type { KeyScope, Pairing } from '../wire.ts';

const POLL_MS = 1000;

/** Waits for one of the scope keys (the scope) or Esc (null). */
function chooseScope(screen: blessed.Widgets.Screen): Promise<KeyScope | null> {
  return new Promise((resolve) => {
    const keys = [...SCOPE_CHOICES.map((choice) => choice.key), 'escape'];
    const chosen = (_ch: unknown, key: { name: string }) => {
      for (const name of keys) screen.unkey(name, chosen);
      resolve(SCOPE_CHOICES.find((choice) => choice.key === key.name)?.scope ?? null);
    };
    screen.key(keys, chosen);
  });
}

/** Resolves once the pairing is no longer pending, or once Esc was pressed (then it is cancelled). */
function waitForEnd(screen: blessed.Widgets.Screen, api: TuiApi, id: number): Promise<Pairing> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = (outcome: Promise<Pairing>) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      screen.unkey('escape', cancel);
      outcome.then(resolve, reject);
    };
    // An app that claimed just before Esc keeps its key: the daemon's answer to the cancel says so.
    const cancel = () => finish(api.cancelPairing(id).catch(() => api.pairing(id)));
    const poll = async () => {
      try {
        const pairing = await api.pairing(id);
        if (pairing.state !== 'pending') return finish(Promise.resolve(pairing));
      } catch (error) {
        return finish(Promise.reject(error));
      }
      if (!done) timer = setTimeout(() => void poll(), POLL_MS);
    };
    screen.key('escape', cancel);
    timer = setTimeout(() => void poll(), POLL_MS);
  });
}

/** Resolves with a sentence for the dashboard saying how the pairing ended, or null when none started. */
export async function pairPhone(screen: blessed.Widgets.Screen, api: TuiApi): Promise<string | null> {
  // No border: the QR code needs every line of an 80×24 terminal.
  const box = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', tags: false });
  try {
    box.setContent(scopeQuestion());
    screen.render();
    const scope = await chooseScope(screen);
    if (scope === null) return null;
    const started = await api.startPairing(scope);
    const qr = await QRCode.toString(started.qr_payload, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
    box.setContent('');
    const width = qrWidth(qr);
    blessed.box({ parent: box, top: 0, left: 0, width, height: '100%', tags: false, content: qr.replace(/\n+$/, '') });
    blessed.box({ parent: box, top: 1, left: width + 2, width: `100%-${width + 2}`, height: '100%-1', tags: false, content: pairingDetails(started) });
    screen.render();
    return pairingOutcome(await waitForEnd(screen, api, started.id));
  } finally {
    box.destroy();
    screen.render();
  }
}
