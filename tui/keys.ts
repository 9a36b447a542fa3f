/**
 * Every key of the terminal UI in one table: the footer hints and the `?` help are drawn from it,
 * and the tmux tests press keys by action name. A screen answers its actions with a table of
 * handlers (`ActionHandlers`), each able to say why it cannot act now.
 */
export type Screen = 'dashboard' | 'log' | 'credentials' | 'snapshots' | 'history' | 'channels';

/** The dashboard's actions: its handler table must answer each one (see DASHBOARD_ACTIONS). */
export const DASHBOARD_ACTIONS = [
  'run',
  'cancel',
  'open-log',
  'new',
  'edit',
  'toggle',
  'clone',
  'restore',
  'delete',
  'refresh',
  'settings',
  'two-factor',
  'credentials',
  'pair',
  'snapshots',
  'run-history',
  'alerts',
  'help',
  'quit',
] as const;
export type DashboardAction = (typeof DASHBOARD_ACTIONS)[number];

/** The snapshots screen's actions (a job's history, and browsing one snapshot's folders). */
export const SNAPSHOTS_ACTIONS = ['browse', 'restore-snapshot', 'delete-snapshot', 'retention', 'verify', 'verify-log', 'recovery-kit', 'back', 'help'] as const;
export type SnapshotsAction = (typeof SNAPSHOTS_ACTIONS)[number];

/** What a screen does for one action. */
export interface ActionHandler {
  /** Why the action cannot be done now (shown to the owner instead), or null when it can. */
  disabledReason?(): string | null;
  /** Does it; called only when `disabledReason` gives null. */
  handle(): void;
}

/** A screen's handlers, one per action it offers. */
export type ActionHandlers<A extends string> = Record<A, ActionHandler>;

/**
 * Does `action` with its handler, unless the handler says why it cannot: then that reason is
 * returned and nothing is done. Null when the action was done.
 */
export function dispatch<A extends string>(handlers: ActionHandlers<A>, action: A): string | null {
  const handler = handlers[action];
  const reason = handler.disabledReason?.() ?? null;
  if (reason === null) handler.handle();
  return reason;
}

/**
 * Binds every handler to its action's keys on `element`; a disabled action's reason goes to
 * `onDisabled` (the screen shows it as a notice).
 */
export function bindKeys<A extends string>(element: { key(keys: string[], listener: () => void): unknown }, handlers: ActionHandlers<A>, onDisabled: (reason: string) => void): void {
  for (const action of Object.keys(handlers) as A[]) {
    element.key(keysOf(action), () => {
      const reason = dispatch(handlers, action);
      if (reason !== null) onDisabled(reason);
    });
  }
}

export interface KeyAction {
  action: string;
  keys: string[];
  label: string;
  screens: Screen[];
  /** Shown in the footer (every action is in the `?` help); the footer must fit 80 columns. */
  inFooter?: boolean;
}

export const KEYS: readonly KeyAction[] = [
  { action: 'run', keys: ['r'], label: 'run', screens: ['dashboard'] },
  { action: 'cancel', keys: ['c'], label: 'cancel', screens: ['dashboard'] },
  { action: 'open-log', keys: ['enter', 'l'], label: 'log', screens: ['dashboard'] },
  { action: 'new', keys: ['n'], label: 'new', screens: ['dashboard'] },
  { action: 'edit', keys: ['e'], label: 'edit', screens: ['dashboard'] },
  { action: 'toggle', keys: ['t'], label: 'on/off', screens: ['dashboard'], inFooter: false },
  { action: 'clone', keys: ['y'], label: 'clone', screens: ['dashboard'] },
  { action: 'restore', keys: ['S-r'], label: 'restore', screens: ['dashboard'], inFooter: false },
  { action: 'delete', keys: ['d'], label: 'delete', screens: ['dashboard'] },
  { action: 'refresh', keys: ['f5', 'C-r'], label: 'reload', screens: ['dashboard'], inFooter: false },
  { action: 'settings', keys: ['s'], label: 'settings', screens: ['dashboard'], inFooter: false },
  { action: 'two-factor', keys: ['a'], label: '2FA', screens: ['dashboard'], inFooter: false },
  { action: 'credentials', keys: ['k'], label: 'credentials', screens: ['dashboard'], inFooter: false },
  { action: 'pair', keys: ['p'], label: 'pair phone', screens: ['dashboard'], inFooter: false },
  { action: 'snapshots', keys: ['h'], label: 'history', screens: ['dashboard'], inFooter: false },
  { action: 'browse', keys: ['enter'], label: 'open', screens: ['snapshots'] },
  { action: 'restore-snapshot', keys: ['S-r'], label: 'restore', screens: ['snapshots'] },
  { action: 'delete-snapshot', keys: ['d'], label: 'delete', screens: ['snapshots'] },
  { action: 'retention', keys: ['p'], label: 'keep', screens: ['snapshots'] },
  { action: 'verify', keys: ['v'], label: 'verify', screens: ['snapshots'] },
  { action: 'verify-log', keys: ['l'], label: 'log', screens: ['snapshots'] },
  { action: 'recovery-kit', keys: ['S-k'], label: 'recovery kit', screens: ['snapshots'], inFooter: false },
  { action: 'run-history', keys: ['g'], label: 'run history', screens: ['dashboard'], inFooter: false },
  { action: 'alerts', keys: ['m'], label: 'alerts', screens: ['dashboard'], inFooter: false },
  { action: 'open-run-log', keys: ['enter', 'l'], label: 'log', screens: ['history'] },
  { action: 'filter-status', keys: ['f'], label: 'status', screens: ['history'] },
  { action: 'next-page', keys: ['pagedown', ']'], label: 'older', screens: ['history'] },
  { action: 'previous-page', keys: ['pageup', '['], label: 'newer', screens: ['history'] },
  { action: 'new-channel', keys: ['n'], label: 'new', screens: ['channels'] },
  { action: 'edit-channel', keys: ['e'], label: 'edit', screens: ['channels'] },
  { action: 'test-channel', keys: ['t'], label: 'send test', screens: ['channels'] },
  { action: 'toggle-channel', keys: ['o'], label: 'on/off', screens: ['channels'] },
  { action: 'delete-channel', keys: ['d'], label: 'delete', screens: ['channels'] },
  { action: 'reload-screen', keys: ['f5', 'C-r'], label: 'reload', screens: ['history', 'channels'] },
  { action: 'close-screen', keys: ['escape', 'backspace'], label: 'back', screens: ['history', 'channels'] },
  { action: 'new-credential', keys: ['n'], label: 'new', screens: ['credentials'] },
  { action: 'edit-credential', keys: ['e'], label: 'edit', screens: ['credentials'] },
  { action: 'delete-credential', keys: ['d'], label: 'delete', screens: ['credentials'] },
  { action: 'follow', keys: ['f'], label: 'follow', screens: ['log'] },
  { action: 'level', keys: ['v'], label: 'level', screens: ['log'] },
  { action: 'search', keys: ['/'], label: 'search', screens: ['log'] },
  { action: 'back', keys: ['escape', 'backspace'], label: 'back', screens: ['log', 'credentials', 'snapshots'] },
  { action: 'help', keys: ['?'], label: 'help', screens: ['dashboard', 'log', 'snapshots'] },
  { action: 'quit', keys: ['q', 'C-c'], label: 'quit', screens: ['dashboard', 'log'] },
];

export function keysOf(action: string): string[] {
  const entry = KEYS.find((key) => key.action === action);
  if (!entry) throw new Error(`no key action ${action}`);
  return entry.keys;
}

/** A key as people call it: blessed names a capital letter S-x, people call it X. */
const shown = (name: string) => (/^S-[a-z]$/.test(name) ? name.slice(2).toUpperCase() : name);

/** The footer line for a screen: "r run now  c cancel  …". */
export function footerFor(screen: Screen): string {
  return KEYS.filter((key) => key.screens.includes(screen) && key.inFooter !== false)
    .map((key) => `${key.keys[0] === 'enter' ? '⏎' : shown(key.keys[0])} ${key.label}`)
    .join('  ');
}

/** The help text: every key of every screen. */
export function helpText(): string {
  return KEYS.map((key) => `${key.keys.map(shown).join(', ').padEnd(18)} ${key.label.padEnd(10)} (${key.screens.join(', ')})`).join('\n');
}
