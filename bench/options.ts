/** What every benchmark reads from its command line, and the one statistic they all print. */

/** The value after `--name` on the command line, or `fallback` when the option is absent. */
export function textOption(name: string, fallback: string): string;
export function textOption(name: string, fallback?: string): string | undefined;
export function textOption(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : process.argv[index + 1];
}

/** The number after `--name` on the command line, or `fallback`. */
export function numberOption(name: string, fallback: number): number {
  const text = textOption(name);
  return text === undefined ? fallback : Number(text);
}

/** The middle value (the upper one of an even count). */
export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
