/**
 * Tells a box without a screen how a plugged-in drive is doing: an LED pattern (the Pi's ACT LED
 * under /sys/class/leds) and/or an owner-given program run with the outcome in its environment.
 * Both come from the daemon's configuration, never from the API: the program runs as the daemon.
 *
 * LED patterns: working → fast blink (100 ms on/off); safe to remove after success → steady on;
 * safe to remove after a failure → short flash every second; drive gone → back to the LED's own trigger.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';

export type DriveState = 'working' | 'safe_completed' | 'safe_failed' | 'gone';

export interface DriveOutcomeInfo {
  uuid: string;
  mountPoint: string | null;
  jobNames: string[];
}

const COMMAND_TIMEOUT_MS = 30_000;

/** The LED files to write, in order, for a state (`trigger` first: it creates the delay files). */
export function ledWrites(state: DriveState, restoreTrigger: string): Array<[string, string]> {
  switch (state) {
    case 'working':
      return [['trigger', 'timer'], ['delay_on', '100'], ['delay_off', '100']];
    case 'safe_completed':
      return [['trigger', 'none'], ['brightness', '1']];
    case 'safe_failed':
      return [['trigger', 'timer'], ['delay_on', '100'], ['delay_off', '900']];
    case 'gone':
      return [['trigger', restoreTrigger]];
  }
}

export class OutcomeSignal {
  private restoreTrigger: string | null = null;

  constructor(
    private readonly options: { ledPath: string | null; notifyCommand: string | null },
    private readonly log: Logger,
  ) {}

  /** Shows `state`; never throws (a missing LED must not fail a backup). */
  async show(state: DriveState, info: DriveOutcomeInfo): Promise<void> {
    await Promise.all([this.setLed(state), state === 'working' ? undefined : this.notify(state, info)]);
  }

  private async setLed(state: DriveState): Promise<void> {
    const led = this.options.ledPath;
    if (!led) return;
    try {
      // The LED's own trigger (e.g. mmc0 on a Pi) is read once, so it can be given back afterwards.
      this.restoreTrigger ??= ((await fs.readFile(path.join(led, 'trigger'), 'utf8')).match(/\[([^\]]+)\]/)?.[1] ?? 'none').trim();
      for (const [file, value] of ledWrites(state, this.restoreTrigger)) await fs.writeFile(path.join(led, file), value);
    } catch (error) {
      this.log.warn('could not set the LED', { led, error: (error as Error).message });
    }
  }

  private notify(state: DriveState, info: DriveOutcomeInfo): Promise<void> {
    const command = this.options.notifyCommand;
    if (!command) return Promise.resolve();
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CAIRN_EVENT: state === 'gone' ? 'drive_removed' : 'drive_safe_to_remove',
      CAIRN_OUTCOME: state === 'safe_completed' ? 'completed' : state === 'safe_failed' ? 'failed' : 'removed',
      CAIRN_DRIVE_UUID: info.uuid,
      CAIRN_MOUNT_POINT: info.mountPoint ?? '',
      CAIRN_JOBS: info.jobNames.join('\n'),
    };
    return new Promise((resolve) => {
      execFile(command, [], { env, timeout: COMMAND_TIMEOUT_MS }, (error) => {
        if (error) this.log.warn('the notify command failed', { command, error: error.message });
        resolve();
      });
    });
  }
}
