/** Attached drives and what plug-in is doing with each → the dashboard's Drives box. */
import type { Drive } from '../wire.ts';
import { plain, type Paint } from './paint.ts';

/**
 * One line per drive: its label (or kernel name), size, and what plug-in last said about it, else
 * where it is mounted. "safe to remove" is green, or red when one of its jobs failed. `gaugeOf`
 * gives a drive's free-space line (indented below it), or null for none.
 */
export function drivesText(drives: readonly Drive[], states: ReadonlyMap<string, string>, paint: Paint = plain, gaugeOf: (drive: Drive) => string | null = () => null): string {
  return (
    drives
      .map((drive) => {
        const state = states.get(drive.uuid) ?? (drive.mountpoint ? `mounted ${drive.mountpoint}` : 'not mounted');
        const text = `${drive.label ?? drive.name} ${drive.size} ${state}`;
        const line = state.startsWith('safe to remove') ? paint(text, state.includes('failed') ? 'red' : 'green') : text;
        const gauge = gaugeOf(drive);
        return gauge === null ? line : `${line}\n  ${gauge}`;
      })
      .join('\n') || 'no drives'
  );
}
