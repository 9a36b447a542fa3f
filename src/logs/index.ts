/** Run logs: an append-only JSONL file per run, with index files for paged, level-filtered reads. */
export { RunLogs, type LogPage, type LogQuery } from './run-logs.ts';
export type { RunLogWriter } from './run-log-writer.ts';
export { MAX_MESSAGE_CHARS } from './clean-message.ts';
