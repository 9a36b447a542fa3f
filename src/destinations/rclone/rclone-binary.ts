/**
 * The rclone program (Debian's package): where it is, which of a backend's options rclone stores
 * obscured (passwords), and obscuring them. Always started with an argv array; a secret only ever
 * reaches rclone through its standard input or its config file, never its command line.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CairnError } from '../../domain/errors.ts';

const run = promisify(execFile);

/** The rclone binary on PATH, or null when it is not installed. */
export function rcloneBinary(): string | null {
  for (const folder of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.join(folder || '.', 'rclone');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return null;
}

/** Why rclone destinations cannot be used here, or null when they can. */
export function rcloneMissingReason(): string | null {
  return rcloneBinary() ? null : 'rclone is not installed on this machine (Debian: apt install rclone)';
}

/** The binary, or an `unavailable` error saying how to install it. */
export function requireRclone(): string {
  const binary = rcloneBinary();
  if (!binary) throw new CairnError('unavailable', 'RCLONE_MISSING', rcloneMissingReason()!);
  return binary;
}

interface BackendOption {
  Name: string;
  IsPassword?: boolean;
}

let backends: Promise<Map<string, BackendOption[]>> | null = null;

/** Each backend's options by its config `type` name (`rclone config providers`), read once. */
export function rcloneBackends(): Promise<Map<string, BackendOption[]>> {
  backends ??= run(requireRclone(), ['config', 'providers'], { maxBuffer: 64 * 1024 * 1024 })
    .then(({ stdout }) => new Map((JSON.parse(stdout) as Array<{ Prefix: string; Options: BackendOption[] }>).map((backend) => [backend.Prefix, backend.Options])))
    .catch((error) => {
      backends = null;
      throw error;
    });
  return backends;
}

/** rclone's reversible obscuring, which its config requires for password options (the value goes in on stdin). */
export function obscure(value: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(requireRclone(), ['obscure', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`rclone obscure exited with ${code}`))));
    child.stdin.end(value);
  });
}
