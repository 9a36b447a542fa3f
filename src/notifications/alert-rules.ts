/**
 * The rules engine, pure: given what is remembered about a job, what just happened and the rules,
 * the new memory and the alerts to send. One alert per change of state; a problem that stays
 * unresolved is announced again at most once per `REPEAT_MS`.
 */
import type { AlertEvent, AlertState, NotifyRules } from '../domain/notifications.ts';

/** An unresolved problem is announced again after this long (a day). */
export const REPEAT_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

/** An alert to send, with what its message needs beyond the job. */
export interface Decision {
  event: AlertEvent;
  /** A repeat: the problem was first announced at this time and is still there. */
  since?: string | null;
}

export interface Outcome {
  state: AlertState;
  alerts: Decision[];
}

/** What a finished run means for alerts: a backup's result, a verify's result, or nothing. */
export type RunKind = 'backup' | 'verify' | 'other';

/** Runs that restore or prune say nothing about whether backups work; verify runs are about damage. */
export function runKindOf(trigger: string): RunKind {
  if (trigger === 'verify') return 'verify';
  if (trigger === 'restore' || trigger === 'prune') return 'other';
  return 'backup';
}

/** True when a problem announced at `alertedAt` may be announced again at `now`. */
function repeatDue(alertedAt: string | null, now: Date): boolean {
  return alertedAt === null || now.getTime() - Date.parse(alertedAt) >= REPEAT_MS;
}

/** After a backup run ended `completed` or `failed` (a cancelled run changes nothing). */
export function afterBackup(state: AlertState, status: 'completed' | 'failed', rules: NotifyRules, now: Date): Outcome {
  const at = now.toISOString();
  if (status === 'failed') {
    if (!state.failing) {
      return { state: { ...state, failing: true, failure_alerted_at: at }, alerts: rules.on_failure ? [{ event: 'failure' }] : [] };
    }
    if (!repeatDue(state.failure_alerted_at, now)) return { state, alerts: [] };
    return { state: { ...state, failure_alerted_at: at }, alerts: rules.on_failure ? [{ event: 'failure', since: state.failure_alerted_at }] : [] };
  }
  const problemSince = state.failing ? state.failure_alerted_at : state.overdue_alerted_at;
  const wasProblem = state.failing || state.overdue_alerted_at !== null;
  const next: AlertState = { ...state, failing: false, failure_alerted_at: null, overdue_alerted_at: null, last_success_at: at };
  if (wasProblem && rules.on_recovery) return { state: next, alerts: [{ event: 'recovery', since: problemSince }] };
  return { state: next, alerts: rules.on_success ? [{ event: 'success' }] : [] };
}

/** After a verify run: a failed one is damage (announced once, repeated daily), a completed one clears it. */
export function afterVerify(state: AlertState, status: 'completed' | 'failed', rules: NotifyRules, now: Date): Outcome {
  if (status === 'completed') return { state: { ...state, damage_alerted_at: null }, alerts: [] };
  if (!repeatDue(state.damage_alerted_at, now)) return { state, alerts: [] };
  const since = state.damage_alerted_at;
  return { state: { ...state, damage_alerted_at: now.toISOString() }, alerts: rules.on_verify_damage ? [{ event: 'verify_damage', since }] : [] };
}

/**
 * At a periodic check: overdue when no success for `overdue_hours` since `lastSuccess` (the job's
 * last success, or its creation if it never had one). Once per day while it stays overdue.
 */
export function checkOverdue(state: AlertState, lastSuccess: Date, rules: NotifyRules, now: Date): Outcome & { hours: number } {
  const hours = (now.getTime() - lastSuccess.getTime()) / HOUR_MS;
  if (rules.overdue_hours === null || hours < rules.overdue_hours || !repeatDue(state.overdue_alerted_at, now)) return { state, alerts: [], hours };
  return { state: { ...state, overdue_alerted_at: now.toISOString() }, alerts: [{ event: 'overdue', since: state.overdue_alerted_at }], hours };
}

/** After a run that wrote to a local filesystem `usedPercent` full: low when at or above the threshold. */
export function checkSpace(state: AlertState, usedPercent: number, rules: NotifyRules, now: Date): Outcome {
  if (rules.space_percent === null || usedPercent < rules.space_percent) {
    return { state: state.space_alerted_at === null ? state : { ...state, space_alerted_at: null }, alerts: [] };
  }
  if (!repeatDue(state.space_alerted_at, now)) return { state, alerts: [] };
  return { state: { ...state, space_alerted_at: now.toISOString() }, alerts: [{ event: 'space_low', since: state.space_alerted_at }] };
}
