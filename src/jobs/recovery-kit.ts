/**
 * A repository job's recovery kit: what an owner needs to get the backup back with the stock
 * `restic` on any computer when this box is gone — where the repository is, as restic names it,
 * its password, and the exact commands to list and restore. As JSON for clients, and as a page to
 * print. Credentials of the destination itself (an S3 secret key, an SFTP password) are never in
 * it: the kit names the variables restic reads them from.
 */
import path from 'node:path';
import { conflict } from '../domain/errors.ts';
import type { JobRecord } from '../domain/jobs.ts';

/** The kit as `GET /jobs/:id/recovery-kit` answers it. */
export interface RecoveryKit {
  job_id: number;
  job_name: string;
  /** The repository as `restic -r` takes it. */
  repository: string;
  password: string;
  /** The tag on this job's snapshots (other jobs may share the repository). */
  tag: string;
  /** Commands to run first on the new computer (credentials of the destination, an rclone remote); [] for a local folder. */
  setup: string[];
  /** The exact commands, each a line for a POSIX shell. */
  commands: { list: string; restore_latest: string; restore_snapshot: string; check: string };
  /** What the QR code holds: the location and the password, the two things that cannot be looked up. */
  qr_text: string;
  generated_at: string;
}

/** The repository location as restic names it, and the setup it needs, per destination type. */
function resticLocationOf(job: JobRecord): { repository: string; setup: string[] } {
  const config = job.destination_config as Record<string, string | number | null | undefined>;
  switch (job.destination_type) {
    case 'local': {
      const repository = path.resolve(String(config.mount_point), String(config.backup_subdir ?? ''));
      // Another computer mounts the drive elsewhere: say where the repository is on the drive itself.
      const setup = config.usb_uuid
        ? [`# Plug the drive in (filesystem UUID ${config.usb_uuid}); the repository is the folder "${config.backup_subdir || '.'}" on it: if it is not mounted at ${config.mount_point}, use that folder in place of ${repository}`]
        : [];
      return { repository, setup };
    }
    case 'sftp': {
      const remote = String(config.remote_path);
      const port = Number(config.port ?? 22);
      // restic's short form has no port; its URL form takes an absolute path after a double slash.
      const repository = port === 22 ? `sftp:${config.username}@${config.host}:${remote}` : `sftp://${config.username}@${config.host}:${port}/${remote}`;
      return { repository, setup: ['# restic asks ssh to log in: have the key or password of that account ready'] };
    }
    case 's3': {
      const endpoint = config.endpoint ? String(config.endpoint).replace(/\/+$/, '') : 's3.amazonaws.com';
      const prefix = String(config.prefix ?? '').replace(/^\/+|\/+$/g, '');
      return {
        repository: `s3:${endpoint}/${config.bucket}${prefix ? `/${prefix}` : ''}`,
        setup: ['export AWS_ACCESS_KEY_ID=<your access key>', 'export AWS_SECRET_ACCESS_KEY=<your secret key>', `export AWS_DEFAULT_REGION=${config.region ?? 'us-east-1'}`],
      };
    }
    case 'webdav': {
      const remote = String(config.remote_path ?? '').replace(/^\/+|\/+$/g, '');
      return {
        repository: `rclone:cairn-webdav:${remote}`,
        setup: [`rclone config create cairn-webdav webdav url=${shellQuote(String(config.url))} vendor=other user=<your user name> pass=<your password> --obscure`],
      };
    }
    default:
      throw conflict('NOT_A_REPOSITORY_JOB', `A ${job.destination_type} destination holds no restic repository`);
  }
}

/** `text` as one word for a POSIX shell. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** @throws CairnError 409 NOT_A_REPOSITORY_JOB for a job that keeps no repository. */
export function requireRepositoryJob(job: JobRecord): void {
  if (job.backup_mode !== 'repository') throw conflict('NOT_A_REPOSITORY_JOB', `Job "${job.name}" keeps no repository (backup_mode is ${job.backup_mode}); only repository jobs have a recovery kit`);
}

/**
 * The kit of a repository job with its password (opened by the caller).
 * @throws CairnError 409 NOT_A_REPOSITORY_JOB for a job that keeps no repository.
 */
export function recoveryKitOf(job: JobRecord, password: string, tag: string, now = new Date()): RecoveryKit {
  requireRepositoryJob(job);
  const { repository, setup } = resticLocationOf(job);
  const restic = `restic -r ${shellQuote(repository)}`;
  return {
    job_id: job.id,
    job_name: job.name,
    repository,
    password,
    tag,
    setup,
    commands: {
      list: `${restic} snapshots --tag ${tag}`,
      restore_latest: `${restic} restore latest --tag ${tag} --target ./restored`,
      restore_snapshot: `${restic} restore <snapshot ID from the list> --target ./restored`,
      check: `${restic} check`,
    },
    qr_text: `restic repository: ${repository}\npassword: ${password}`,
    generated_at: now.toISOString(),
  };
}

/** The kit as a page to print and keep apart from the box. */
export function recoveryKitText(kit: RecoveryKit): string {
  const lines = [
    `CAIRN RECOVERY KIT — job "${kit.job_name}" (id ${kit.job_id})`,
    `Made ${kit.generated_at}. Keep it somewhere safe, away from this box: anyone holding it can read the backup.`,
    '',
    `Repository:  ${kit.repository}`,
    `Password:    ${kit.password}`,
    `Job's tag:   ${kit.tag}`,
    '',
    // Repositories Cairn creates are format version 2 (zstd), which restic reads from 0.14 on.
    'To get the files back without Cairn, on any computer with restic 0.14 or newer (https://restic.net, or `apt install restic`):',
    '',
    ...(kit.setup.length > 0 ? ['1. Prepare:', ...kit.setup.map((line) => `     ${line}`), ''] : []),
    `${kit.setup.length > 0 ? '2' : '1'}. List the snapshots (restic asks for the password above):`,
    `     ${kit.commands.list}`,
    '',
    `${kit.setup.length > 0 ? '3' : '2'}. Restore the newest into ./restored:`,
    `     ${kit.commands.restore_latest}`,
    '   or one snapshot from the list:',
    `     ${kit.commands.restore_snapshot}`,
    '',
    'To check the repository is whole:',
    `     ${kit.commands.check}`,
    '',
  ];
  return lines.join('\n');
}
