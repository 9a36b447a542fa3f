/** The one HTTP client of the channels: a POST whose answer, or failure to get one, becomes a Delivery. */
import type { Delivery } from './types.ts';

/** Characters of a service's answer kept in a delivery's detail. */
export const DETAIL_CHARS = 200;

/** `text` cut to `DETAIL_CHARS` on one line. */
export function excerpt(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > DETAIL_CHARS ? `${line.slice(0, DETAIL_CHARS - 1)}…` : line;
}

/**
 * POSTs `body` to `url` and reports the answer: `ok` for a 2xx status. A refused connection, a DNS
 * failure or the signal's timeout is `ok: false` with the reason and no status.
 */
export async function postToService(url: string, init: { headers: Record<string, string>; body: string }, signal: AbortSignal): Promise<Delivery> {
  try {
    const response = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal, redirect: 'error' });
    const text = await response.text().catch(() => '');
    const answer = excerpt(text);
    return { ok: response.ok, status: response.status, detail: answer === '' ? `HTTP ${response.status}` : answer };
  } catch (error) {
    return { ok: false, status: null, detail: `could not reach ${new URL(url).host}: ${reasonOf(error, signal)}` };
  }
}

/** JSON POST headers plus `extra`. */
export function jsonHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', 'user-agent': 'Cairn', ...extra };
}

function reasonOf(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return signal.reason instanceof Error && signal.reason.name === 'TimeoutError' ? 'no answer in time' : 'cancelled';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
