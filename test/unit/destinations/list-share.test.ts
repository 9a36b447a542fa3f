/**
 * A local copy's share of the run, from rsync's whole-transfer progress with incremental recursion:
 * fed by hand (each rule), then by a real rsync on a tree larger than its listing lookahead.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BEFORE_END, ListShare } from '../../../src/destinations/local/list-share.ts';
import { rsyncArguments } from '../../../src/destinations/local/rsync-args.ts';
import { parseProgressLine, parseStatsLine, type RsyncStats, type WholeProgress } from '../../../src/destinations/local/rsync-output.ts';
import type { SyncOptions } from '../../../src/domain/jobs.ts';
import { tempDir } from '../../helpers.ts';

const listing = (left: number, of: number, percent = 0): WholeProgress => ({ bytes: 0, percent, toCheck: { left, of, final: false } });
const listed = (left: number, of: number, percent = 0): WholeProgress => ({ bytes: 0, percent, toCheck: { left, of, final: true } });

test('once rsync has listed everything: the further of its byte percent and the entries checked; never back; copies split the run', () => {
  const share = new ListShare({ index: 1, of: 2 });
  assert.is(share.ofRun, 0.5, 'the first copy is done');
  assert.ok(share.note(listed(50, 100, 1)));
  assert.is(share.ofRun, 0.75);
  // A large file on its way: rsync's percent moves where the list does not.
  assert.ok(share.note({ bytes: 900, percent: 60 }));
  assert.is(share.ofRun, 0.8);
  assert.not.ok(share.note(listed(90, 100, 10)), 'never backwards');
  assert.ok(share.note(listed(0, 100, 100)));
  assert.is(share.ofRun, (1 + BEFORE_END) / 2, 'all entries checked is not the end of the copy');
  share.finished();
  assert.is(share.ofRun, 1);
});

test('while rsync is still listing, the share is the entries checked of those the source had last time, capped below the end', () => {
  const share = new ListShare({ index: 0, of: 1 }, 10_000);
  assert.is(share.ofRun, null, 'nothing known before the first line');
  // A nightly run: nothing sent, rsync's percent stays 0, its list ~1,000 entries ahead of what it checked.
  assert.ok(share.note(listing(1_000, 1_100)));
  assert.is(share.ofRun, 0.01);
  assert.ok(share.note(listing(1_000, 5_100)));
  assert.is(share.ofRun, 0.41);
  assert.not.ok(share.note(listing(1_000, 4_000)), 'never backwards');
  // The tree grew: what is listed now is the better total, and the end is not claimed before it comes.
  assert.ok(share.note(listing(1_000, 12_000)));
  assert.is(share.ofRun, 11_000 / 12_000);
  assert.ok(share.note(listing(10, 30_000)));
  assert.is(share.ofRun, BEFORE_END);
  // rsync's byte percent of what it has listed so far is not a share of the copy.
  assert.not.ok(share.note({ bytes: 5, percent: 100 }));
  assert.is(share.ofRun, BEFORE_END);
  share.finished();
  assert.is(share.ofRun, 1);
});

test('a tree that shrank since its last count jumps ahead once rsync has listed it all', () => {
  const share = new ListShare({ index: 0, of: 1 }, 100_000);
  share.note(listing(1_000, 6_000));
  assert.is(share.ofRun, 0.05);
  share.note(listed(500, 10_000));
  assert.is(share.ofRun, 0.95);
});

test('a first run (no count yet) tells no share until rsync has listed everything, whatever its growing list and byte percent say', () => {
  const share = new ListShare({ index: 0, of: 2 });
  assert.not.ok(share.note(listing(1_000, 1_031, 0)));
  assert.not.ok(share.note(listing(1_011, 2_041, 49)), 'rsync would say 49 % of bytes and half the list after 1,030 of 20,221 entries');
  assert.not.ok(share.note({ bytes: 5, percent: 90 }));
  assert.is(share.ofRun, null);
  assert.ok(share.note(listed(701, 20_221, 96)));
  assert.is(share.ofRun, (19_520 / 20_221) / 2);
  // The second copy of that run knows the first is done even before its own first line.
  assert.is(new ListShare({ index: 1, of: 2 }).ofRun, 0.5);
});

const options: SyncOptions = { delete_extraneous: true, exclude_patterns: [], bandwidth_limit_kbps: null, dry_run: false, verbosity: 'normal' };

/** One real rsync copy with the local destination's arguments: its progress lines, the shares a ListShare gave, its stats. */
function copyWithShares(source: string, target: string, expected: number | null) {
  const result = spawnSync('rsync', rsyncArguments({ source, target, options, fatLike: false }), { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.is(result.status, 0, result.stderr);
  const share = new ListShare({ index: 0, of: 1 }, expected);
  const stats: RsyncStats = {};
  const seen: Array<{ progress: WholeProgress; share: number | null }> = [];
  for (const line of result.stdout.split(/[\r\n]/)) {
    const progress = parseProgressLine(line);
    if (progress === null) {
      parseStatsLine(line, stats);
      continue;
    }
    share.note(progress);
    seen.push({ progress, share: share.ofRun });
  }
  return { seen, stats };
}

test('real rsync on 6,000 files in 60 folders: the list it reports grows while it copies; a rerun moves on the last count, never back, below the end', () => {
  const root = tempDir();
  const source = path.join(root, 'source');
  for (let i = 0; i < 6_000; i++) {
    const folder = path.join(source, `d${String(Math.floor(i / 100)).padStart(2, '0')}`);
    if (i % 100 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, `f${i}`), `file ${i}\n`);
  }
  const target = path.join(root, 'target');
  const first = copyWithShares(source, target, null);
  assert.is(first.stats.entries, 6_061, 'files, folders and the top folder');
  // Incremental recursion: early on rsync's total is far below the tree, so it cannot be the share's total.
  const early = first.seen.find((line) => line.progress.toCheck && line.progress.toCheck.of - line.progress.toCheck.left >= 500)!;
  assert.ok(early.progress.toCheck!.of < 3_000, `rsync listed only ${early.progress.toCheck!.of} entries after checking 500`);
  // Before the first line saying the list is complete (later lines without a count, which a loaded
  // rsync prints more of mid-file, come after it and rightly carry the share).
  const listedAt = first.seen.findIndex((line) => line.progress.toCheck?.final);
  assert.ok(listedAt > 0, 'rsync said when it had listed everything');
  assert.ok(first.seen.slice(0, listedAt).every((line) => line.share === null), 'no share on a first run before rsync has listed all');
  assert.ok(first.seen.some((line) => line.share !== null), 'a share once it has');

  // The nightly rerun: nothing to send, rsync's byte percent stays 0, the last count gives the share.
  const rerun = copyWithShares(source, target, first.stats.entries!);
  const shares = rerun.seen.map((line) => line.share ?? 0);
  assert.ok(rerun.seen.every((line) => line.progress.percent === 0 || line.progress.percent === 100), 'nothing was sent');
  assert.equal(shares, [...shares].sort((a, b) => a - b), 'never backwards');
  const beforeListed = rerun.seen.filter((line) => !line.progress.toCheck?.final && line.share !== null && line.share > 0.2 && line.share < 0.8);
  assert.ok(beforeListed.length > 10, `moves while rsync is still listing: ${shares.filter((_, i) => i % 10 === 0).join(' ')}`);
  assert.ok(shares.every((value) => value <= BEFORE_END), 'below the end until the copy has ended');
});

test.run();
