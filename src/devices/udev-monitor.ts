/**
 * Block device events from udev (`udevadm monitor --udev --subsystem-match=block --property`).
 * udev's events carry the filesystem UUID (ID_FS_UUID) directly. A USB stick shows up as `add` and
 * `remove`; attaching an image to a loop device shows up as `change`: all three are passed on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export interface BlockEvent {
  action: 'add' | 'change' | 'remove';
  /** Device node, e.g. /dev/sdb1. */
  device: string;
  uuid: string | null;
  fstype: string | null;
  label: string | null;
}

/** Turns one event's KEY=VALUE lines into a BlockEvent, or null when it is not one we use. */
export function parseUdevProperties(properties: Map<string, string>): BlockEvent | null {
  const action = properties.get('ACTION');
  const device = properties.get('DEVNAME');
  if (!device || (action !== 'add' && action !== 'change' && action !== 'remove')) return null;
  return {
    action,
    device,
    uuid: properties.get('ID_FS_UUID') || null,
    fstype: properties.get('ID_FS_TYPE') || null,
    label: properties.get('ID_FS_LABEL') || null,
  };
}

export interface UdevMonitor {
  stop(): void;
}

/** Starts `udevadm monitor` and calls `onEvent` for each block event; restarts it if it dies. */
export function monitorBlockEvents(onEvent: (event: BlockEvent) => void, onProblem: (message: string) => void): UdevMonitor {
  let child: ChildProcess | null = null;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | null = null;

  const start = () => {
    child = spawn('udevadm', ['monitor', '--udev', '--subsystem-match=block', '--property'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let properties = new Map<string, string>();
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.trim() === '') {
        const event = parseUdevProperties(properties);
        properties = new Map();
        if (event) onEvent(event);
        return;
      }
      const equals = line.indexOf('=');
      if (equals > 0) properties.set(line.slice(0, equals), line.slice(equals + 1));
    });
    child.on('error', (error) => onProblem(`udevadm could not start: ${error.message}; plugged-in drives will not be noticed`));
    child.on('exit', (code) => {
      if (stopped) return;
      onProblem(`udevadm monitor exited (${code}); restarting in 5 s`);
      restartTimer = setTimeout(start, 5000);
      restartTimer.unref();
    });
  };
  start();
  return {
    stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      child?.kill();
    },
  };
}
