/** What to tell someone whose CLI command found no daemon: advice that is right for where it runs. */
import type { Config } from '../config.ts';

/**
 * How to start the daemon: on an installed box (the settings came from the service's file) through
 * systemd, whose journal says why it stopped; elsewhere (a source checkout) with `npm start`.
 */
export function startDaemonAdvice(config: Config): string {
  if (config.serviceSettings) {
    return 'Start the service with `sudo systemctl start cairn`; `journalctl -u cairn` shows why it is not running.';
  }
  return 'Start it with `npm start` in Cairn\'s folder (or `cairn daemon`), with the same CAIRN_DATA_DIR and CAIRN_PORT.';
}
