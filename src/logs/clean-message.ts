/** Turns any text a run produces into a message that fits on one line of a log. */

/** Longer messages are cut, so one runaway line cannot bloat a log or a WebSocket frame. */
export const MAX_MESSAGE_CHARS = 8192;
const TRUNCATION_MARK = ' … [truncated]';

// Every way text can break a line: CRLF, LF, CR, NEL and the Unicode line and paragraph separators.
const LINE_BREAKS = /\r\n|[\n\r\u0085\u2028\u2029]/g;
// C0 and C1 controls but tab: escape sequences must not reach the terminal of whoever reads the log.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * The message as stored: line breaks become spaces, other control characters (tab excepted) become
 * U+FFFD, and text beyond MAX_MESSAGE_CHARS is cut (never inside a surrogate pair) and marked.
 */
export function cleanMessage(message: string): string {
  if (message.length <= MAX_MESSAGE_CHARS) return flatten(message);
  const highSurrogateLast = /[\ud800-\udbff]/.test(message[MAX_MESSAGE_CHARS - 1]);
  // Cut before cleaning, so a message of megabytes costs no more than one of 8 KB.
  return flatten(message.slice(0, highSurrogateLast ? MAX_MESSAGE_CHARS - 1 : MAX_MESSAGE_CHARS)) + TRUNCATION_MARK;
}

function flatten(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(CONTROLS, '\uFFFD');
}
