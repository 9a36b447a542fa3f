#!/usr/bin/env node
// The test command: type-checks, runs every test/**/*.test.ts file with uvu in its own process,
// and ends with the real totals on a line of their own: "N passed, N failed, N skipped".
// Usage: node scripts/run-tests.mjs [file or folder ...]   (CAIRN_TEST_JOBS sets the parallelism)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FILE_TIMEOUT_MS = 15 * 60_000;
const jobs = Number(process.env.CAIRN_TEST_JOBS) || Math.max(1, Math.min(2, os.cpus().length));

function findTests(target) {
  const full = path.resolve(root, target);
  if (statSync(full).isFile()) return [full];
  return readdirSync(full, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const child = path.join(full, entry.name);
      if (entry.isDirectory()) return findTests(child);
      return entry.name.endsWith('.test.ts') ? [child] : [];
    });
}

function run(command, args, timeoutMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd: root, env: { ...process.env, FORCE_COLOR: '0' }, detached: true });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      output += `\n[run-tests] timed out after ${timeoutMs / 1000}s; killed\n`;
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** Reads uvu's closing summary; a file that crashed or exited non-zero without a failure counts one. */
function countsOf({ code, output }) {
  const number = (label) => Number(output.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
  const total = number('Total');
  const passed = number('Passed');
  const skipped = number('Skipped') || 0;
  if (Number.isNaN(total) || Number.isNaN(passed)) return { passed: 0, failed: 1, skipped: 0 };
  let failed = total - passed;
  if (code !== 0 && failed === 0) failed = 1;
  return { passed, failed, skipped };
}

const targets = process.argv.slice(2);
const files = (targets.length > 0 ? targets : ['test']).flatMap(findTests);
const totals = { passed: 0, failed: 0, skipped: 0 };
const failedFiles = [];

const typecheck = await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], 5 * 60_000);
if (typecheck.code === 0) {
  totals.passed += 1;
  console.log(`✔ typecheck (${typecheck.seconds.toFixed(1)}s)`);
} else {
  totals.failed += 1;
  failedFiles.push('typecheck');
  console.log(`✘ typecheck\n${typecheck.output}`);
}

const queue = [...files];
async function worker() {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const result = await run(process.execPath, ['--import', 'tsx', file], FILE_TIMEOUT_MS);
    const counts = countsOf(result);
    for (const key of Object.keys(totals)) totals[key] += counts[key];
    const name = path.relative(root, file);
    const line = `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`;
    if (counts.failed > 0) {
      failedFiles.push(name);
      console.log(`✘ ${name}: ${line} (${result.seconds.toFixed(1)}s)\n${result.output}`);
    } else {
      console.log(`✔ ${name}: ${line} (${result.seconds.toFixed(1)}s)`);
      if (process.env.CAIRN_TEST_VERBOSE) console.log(result.output);
    }
  }
}
await Promise.all(Array.from({ length: jobs }, worker));

if (failedFiles.length > 0) console.log(`\nFailed: ${failedFiles.join(', ')}`);
console.log(`\n${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exitCode = totals.failed > 0 || files.length === 0 ? 1 : 0;
