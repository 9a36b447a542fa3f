/**
 * A job's exclude patterns (rsync's meaning, see remote/excludes.ts) as rclone `--exclude` rules:
 * rclone matches files, so a pattern that may name a folder also excludes everything below it.
 */

/** `--exclude` arguments for the patterns. */
export function excludeArgs(patterns: readonly string[]): string[] {
  const rules = patterns
    .filter((pattern) => pattern !== '')
    .flatMap((pattern) => (pattern.endsWith('/') ? [`${pattern}**`] : [pattern, `${pattern}/**`]));
  return rules.flatMap((rule) => ['--exclude', rule]);
}
