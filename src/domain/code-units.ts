/**
 * Strings in the order of their UTF-16 code units, as `sort()` puts them by default — for names,
 * ISO dates and paths a machine reads. Not localeCompare: its first call builds an ICU collator,
 * which maps ~2 MB of ICU's collation tables into the daemon for good (issue 17).
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
