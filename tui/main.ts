/**
 * `cairn tui`: the terminal UI an owner opens over SSH. It talks to the daemon only through the
 * public API and WebSockets (tui/api.ts), like the phone app does.
 */
import blessed from 'blessed';
import { TuiApi } from './api.ts';
import { login } from './screens/login.ts';
import { showDashboard } from './screens/dashboard.ts';

export interface TuiOptions {
  url: string;
  /** Colours off (the NO_COLOR convention). */
  noColor: boolean;
}

/** Runs the UI until the owner quits; resolves to the exit code. */
export async function startTui(options: TuiOptions): Promise<number> {
  const api = new TuiApi(options.url.replace(/\/$/, ''));
  // Draw lines and dots as Unicode, not the terminal's alternate character set: SSH sessions are
  // UTF-8, and this way a captured screen (tmux, docs) reads the same as the live one.
  process.env.NCURSES_NO_UTF8_ACS ??= '1';
  const screen = blessed.screen({ smartCSR: true, fullUnicode: true, forceUnicode: true, title: 'Cairn', autoPadding: true, warnings: false });
  // Quitting works everywhere, even while a prompt reads input.
  screen.key(['C-c'], () => {
    screen.destroy();
    process.exit(0);
  });
  try {
    await login(screen, api, !options.noColor);
    await showDashboard(screen, api, !options.noColor);
    await api.logout();
    return 0;
  } finally {
    screen.destroy();
  }
}
