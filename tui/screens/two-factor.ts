/**
 * Two-factor authentication from the terminal: the QR code drawn in text for the phone to scan,
 * the code to confirm it, and the recovery codes shown once. Or, when it is on, turning it off.
 */
import blessed from 'blessed';
import QRCode from 'qrcode';
import { ApiError, type TuiApi } from '../api.ts';

function prompt(screen: blessed.Widgets.Screen, parent: blessed.Widgets.BoxElement, top: number | string, label: string): Promise<string | null> {
  blessed.text({ parent, top, left: 1, content: label });
  const input = blessed.textbox({ parent, top, left: label.length + 2, width: 12, height: 1, inputOnFocus: false, style: { inverse: true } });
  screen.render();
  return new Promise((resolve) => input.readInput((_error, value) => resolve(value === undefined || value === null ? null : String(value).trim())));
}

function waitForKey(screen: blessed.Widgets.Screen): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      screen.unkey('enter', done);
      screen.unkey('escape', done);
      resolve();
    };
    screen.key(['enter', 'escape'], done);
  });
}

/** Resolves with a sentence saying what changed, or null when nothing did. */
export async function manageTwoFactor(screen: blessed.Widgets.Screen, api: TuiApi): Promise<string | null> {
  const { enabled } = await api.totpStatus();
  const box = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', border: 'line', label: ' Two-factor authentication ', tags: false, scrollable: true });
  try {
    if (enabled) {
      let message = 'Two-factor authentication is on.';
      for (;;) {
        box.setContent(`${message}\n\nType a current code from your authenticator app to turn it off (Esc: keep it on).`);
        const code = await prompt(screen, box, 4, 'Code:');
        if (code === null) return null;
        try {
          await api.totpDisable(code);
          return 'two-factor authentication is off';
        } catch (error) {
          message = error instanceof ApiError ? error.message : String(error);
        }
      }
    }
    const setup = await api.totpSetup();
    const qr = await QRCode.toString(setup.otpauth_url, { type: 'terminal', small: true });
    let message = '';
    for (;;) {
      box.setContent(`Scan this with your authenticator app (or type the secret ${setup.secret}):\n${qr}\n${message}`);
      const code = await prompt(screen, box, qr.split('\n').length + 2, 'Code from the app:');
      if (code === null) return null;
      try {
        const { recovery_codes } = await api.totpEnable(setup.secret, code);
        box.setContent(
          `Two-factor authentication is on.\n\nRecovery codes — each works once if you lose the phone. Write them down now: they are not shown again.\n\n  ${recovery_codes.join('\n  ')}\n\nPress Enter when you have them.`,
        );
        screen.render();
        await waitForKey(screen);
        return 'two-factor authentication is on';
      } catch (error) {
        message = error instanceof ApiError ? error.message : String(error);
      }
    }
  } finally {
    box.destroy();
    screen.render();
  }
}
