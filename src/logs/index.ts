/** Run logs: append-only JSONL per run with indexes for paged, level-filtered reads. */
export { RunLogs, type LogPage } from './run-logs.ts';
export { RunLogWriter, MAX_MESSAGE_CHARS, cleanMessage } from './run-log-writer.ts';
