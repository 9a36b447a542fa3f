/**
 * Drives the real terminal UI in tmux: start it in a session, type, press keys by action name
 * (tui/keys.ts), read the screen. Used by the TUI end-to-end tests and bench/tui-rest.ts.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { keysOf } from '../tui/keys.ts';
import { ADMIN, REPO_ROOT } from './helpers.ts';
import { waitFor } from './trees.ts';

/** A tmux session the TUI runs in. */
export interface TuiSession {
  session: string;
}

const TMUX_KEYS: Record<string, string> = { enter: 'Enter', escape: 'Escape', backspace: 'BSpace', f5: 'F5', 'S-r': 'R' };

/** Runs tmux with `args`; its output. */
export const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** The screen as the owner sees it, as text. */
export const screenOf = (target: TuiSession) => tmux('capture-pane', '-t', target.session, '-p');
/** Types `text` literally. */
export const type = (target: TuiSession, text: string) => tmux('send-keys', '-t', target.session, '-l', text);
/** Presses keys, in tmux's names (Enter, Down, BSpace …), in one send-keys so they arrive together. */
export const press = (target: TuiSession, ...keys: string[]) => tmux('send-keys', '-t', target.session, ...keys);
/** Presses the first key bound to an action. */
export const act = (target: TuiSession, action: string) => press(target, TMUX_KEYS[keysOf(action)[0]] ?? keysOf(action)[0]);

/** A session name no other test or run uses. */
export const newSessionName = (prefix = 'cairn-tui') => `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** Starts `cairn tui --url url` in a new detached tmux session of the given size. */
export function launchTui(session: string, url: string, size = { width: 100, height: 30 }, env: Record<string, string> = {}): void {
  const command = ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, path.join(REPO_ROOT, 'bin/cairn.mjs'), 'tui', '--url', url].join(' ');
  tmux('new-session', '-d', '-s', session, '-x', String(size.width), '-y', String(size.height), command);
}

/** The PID of the TUI process (`env` execs node, so the pane's process is the TUI itself). */
export const tuiPid = (target: TuiSession) => Number(tmux('display-message', '-p', '-t', target.session, '#{pane_pid}').trim());

/** Ends the session (and the TUI in it); no error when it is already gone. */
export function killSession(target: TuiSession): void {
  try {
    tmux('kill-session', '-t', target.session);
  } catch {
    // already gone
  }
}

/** Waits until the screen shows `text`; on timeout the error carries the screen as it was. */
export async function shows(target: TuiSession, text: string | RegExp, timeoutMs = 20_000): Promise<void> {
  try {
    await waitFor(`the screen to show ${text}`, () => (typeof text === 'string' ? screenOf(target).includes(text) : text.test(screenOf(target))), timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; the screen was:\n${screenOf(target)}`);
  }
}

/** Types into a form field once the form has moved to it (its label is marked "›"), then Enter. */
export async function fillField(target: TuiSession, label: string, value: string, clear = 0): Promise<void> {
  await shows(target, `› ${label}:`);
  for (let i = 0; i < clear; i++) press(target, 'BSpace');
  if (value !== '') type(target, value);
  press(target, 'Enter');
}

/** Logs in on the login screen. */
export async function logIn(target: TuiSession, credentials = ADMIN): Promise<void> {
  await shows(target, 'Username:');
  type(target, credentials.username);
  press(target, 'Enter');
  // The password field starts reading only once the username is in; keys typed earlier would be lost.
  await shows(target, 'Password:');
  type(target, credentials.password);
  press(target, 'Enter');
}
