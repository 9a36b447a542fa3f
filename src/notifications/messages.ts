/** The words of every alert: what happened to which job, the error, the time in the settings' zone and the box. */
import type { AlertEvent } from '../domain/notifications.ts';
import type { AlertMessage } from './channels/index.ts';

/** What an alert is about, beyond its event. */
export interface AlertFacts {
  event: AlertEvent;
  job: { id: number; name: string } | null;
  /** The run's error (failure, damage) or null. */
  error: string | null;
  at: Date;
  timezone: string;
  box: string;
  /** A repeat of a problem announced before, still unresolved, and since when. */
  since?: Date | null;
  /** Overdue: hours without a successful run, and the removable drive, if the destination is one. */
  overdueHours?: number;
  drive?: string | null;
  /** Space: how full, and where. */
  usedPercent?: number;
  freeBytes?: number;
  folder?: string;
  /** Test: the channel's name. */
  channelName?: string;
}

/** `2026-12-05 17:20:03 CET`: the instant in `timezone`. */
export function localTime(at: Date, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
}

/** "3 days" from hours: days once it is two days or more, hours before. */
export function durationWords(hours: number): string {
  if (hours >= 48) return `${Math.floor(hours / 24)} days`;
  const whole = Math.floor(hours);
  return `${whole} hour${whole === 1 ? '' : 's'}`;
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** The alert for these facts, ready for any channel. */
export function composeAlert(facts: AlertFacts): AlertMessage {
  const when = localTime(facts.at, facts.timezone);
  const job = facts.job ? `"${facts.job.name}"` : '';
  const still = facts.since ? ` It has not been fixed since ${localTime(facts.since, facts.timezone)}.` : '';
  const footer = `\n\nTime: ${when}\nBox: ${facts.box}`;
  let title: string;
  let body: string;
  switch (facts.event) {
    case 'failure':
      title = `Backup ${job} failed`;
      body = `The backup job ${job} failed on ${facts.box}.${still}\nError: ${facts.error ?? 'unknown'}`;
      break;
    case 'recovery':
      title = `Backup ${job} works again`;
      body = `The backup job ${job} completed successfully on ${facts.box} after ${facts.since ? `problems since ${localTime(facts.since, facts.timezone)}` : 'earlier problems'}.`;
      break;
    case 'success':
      title = `Backup ${job} completed`;
      body = `The backup job ${job} completed successfully on ${facts.box}.`;
      break;
    case 'overdue': {
      const span = durationWords(facts.overdueHours ?? 0);
      title = facts.drive ? `Backup drive for ${job} not plugged in for ${span}` : `Backup ${job} is overdue`;
      body = facts.drive
        ? `The drive ${facts.drive} for the backup job ${job} has not been plugged in for ${span}: no successful backup in that time.`
        : `The backup job ${job} has not completed successfully for ${span}.`;
      if (facts.error) body += `\nLast error: ${facts.error}`;
      break;
    }
    case 'space_low':
      title = `Backup destination of ${job} is ${facts.usedPercent}% full`;
      body = `The destination ${facts.folder ?? ''} of the backup job ${job} is ${facts.usedPercent}% full (${gib(facts.freeBytes ?? 0)} free).${still}`;
      break;
    case 'verify_damage':
      title = `Verify of ${job} found damage`;
      body = `Verifying the backup of job ${job} found damage or could not finish.${still}\nError: ${facts.error ?? 'unknown'}`;
      break;
    case 'test':
      title = `Test message from Cairn on ${facts.box}`;
      body = `This is a test from Cairn on ${facts.box}. If you read it, the channel "${facts.channelName ?? ''}" works.`;
      break;
  }
  return {
    event: facts.event,
    title,
    text: body + footer,
    job: facts.job,
    error: facts.error,
    time: facts.at.toISOString(),
    local_time: when,
    timezone: facts.timezone,
    box: facts.box,
  };
}
