/** The login screen: username, password, then a 2FA code when the account asks for one; on a new box, the owner's setup. */
import blessed from 'blessed';
import { ApiError, type TuiApi } from '../api.ts';

function ask(screen: blessed.Widgets.Screen, parent: blessed.Widgets.BoxElement, top: number, label: string, secret: boolean): Promise<string> {
  blessed.text({ parent, top, left: 2, content: label });
  const input = blessed.textbox({ parent, top, left: 14, width: 30, height: 1, censor: secret, inputOnFocus: false, style: { bg: 'blue' } });
  screen.render();
  return new Promise((resolve) => input.readInput((_error, value) => resolve(value ?? '')));
}

interface Dialog {
  label: string;
  width: number;
  height: number;
  intro: string;
}

/**
 * Shows the dialog and runs `attempt` in it until it succeeds; what went wrong is shown in the next
 * dialog, under the intro.
 */
async function untilDone(screen: blessed.Widgets.Screen, color: boolean, dialog: Dialog, attempt: (box: blessed.Widgets.BoxElement) => Promise<void>): Promise<void> {
  let message = '';
  for (;;) {
    const box = blessed.box({
      parent: screen,
      top: 'center',
      left: 'center',
      width: dialog.width,
      height: dialog.height,
      border: 'line',
      label: ` ${dialog.label} `,
      tags: true,
      content: ` ${dialog.intro}\n${message ? `\n {${color ? 'red-fg' : 'bold'}}${blessed.escape(message)}{/}` : ''}`,
    });
    try {
      await attempt(box);
      box.destroy();
      return;
    } catch (error) {
      message = error instanceof ApiError ? error.message : String(error);
      box.destroy();
    }
  }
}

/**
 * On a new box, the owner account is created here: the first thing an owner sees over SSH. Reaching
 * the daemon from another computer, the setup code is asked too (`cairn setup-code` on the box shows it).
 */
function setUpOwner(screen: blessed.Widgets.Screen, api: TuiApi, color: boolean, codeRequired: boolean): Promise<void> {
  const intro = `Create the owner account of ${api.baseUrl}` + (codeRequired ? '\n Setup code: run `sudo cairn setup-code` on the box' : '');
  // With a code, the fields sit lower: a refusal's message (up to three lines) goes above them.
  return untilDone(screen, color, { label: 'Cairn: first start', width: 64, height: codeRequired ? 13 : 12, intro }, async (box) => {
    const top = codeRequired ? 7 : 4;
    const setupCode = codeRequired ? (await ask(screen, box, top - 1, 'Setup code:', false)).trim() : undefined;
    const username = await ask(screen, box, top, 'Username:', false);
    const password = await ask(screen, box, top + 1, 'Password:', true);
    const again = await ask(screen, box, top + 2, 'Again:', true);
    if (password !== again) throw new ApiError(400, 'MISMATCH', 'The two passwords differ; type them again');
    await api.setup(username, password, setupCode);
  });
}

/** Shows the login (or, on a new box, the owner's setup) until a session exists; resolves when logged in. */
export async function login(screen: blessed.Widgets.Screen, api: TuiApi, color: boolean): Promise<void> {
  const setup = await api.setupRequired().catch(() => ({ required: false, codeRequired: false }));
  if (setup.required) return setUpOwner(screen, api, color, setup.codeRequired);
  return untilDone(screen, color, { label: 'Cairn', width: 50, height: 11, intro: `Log in to ${api.baseUrl}` }, async (box) => {
    const username = await ask(screen, box, 4, 'Username:', false);
    const password = await ask(screen, box, 5, 'Password:', true);
    const result = await api.login(username, password);
    if (result.kind === 'totp') {
      blessed.text({ parent: box, top: 7, left: 2, content: 'Code from your authenticator app,\n or a recovery code:' });
      const code = (await ask(screen, box, 6, '2FA code:', false)).trim();
      await api.completeLogin(result.totpToken, code, code.includes('-'));
    }
  });
}
