import { existsSync, mkdirSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CairnError } from '../../../src/domain/errors.ts';
import { AllowedPaths } from '../../../src/files/allowed-paths.ts';
import { pathProblem } from '../../../src/files/fs-errors.ts';
import { outsideDir, tempDir } from '../../helpers.ts';

async function refusal(check: Promise<unknown>): Promise<CairnError> {
  try {
    await check;
  } catch (error) {
    assert.instance(error, CairnError);
    return error as CairnError;
  }
  throw new Error('the path was accepted');
}

function setup() {
  const root = realpathSync(tempDir());
  const outside = outsideDir();
  return { root, outside, allowed: new AllowedPaths([root], { setting: 'allowed_paths (CAIRN_ALLOWED_PATHS)' }) };
}

test('a path that does not exist yet is checked as far as it exists, dangling links followed to where they point', async () => {
  const { root, outside, allowed } = setup();
  assert.is(await allowed.creatable(path.join(root, 'usb', 'drive')), path.join(root, 'usb', 'drive'));
  // A link to a folder that is not there yet: its target decides.
  symlinkSync(path.join(outside, 'later'), path.join(root, 'drive'));
  const refused = await refusal(allowed.creatable(path.join(root, 'drive', 'cairn')));
  assert.is(refused.code, 'PATH_NOT_ALLOWED');
  assert.ok(refused.message.includes(path.join(outside, 'later', 'cairn')), refused.message);
  assert.match(refused.message, /allowed_paths \(CAIRN_ALLOWED_PATHS\)/);
  symlinkSync(path.join(root, 'real-drive'), path.join(root, 'inside-link'));
  assert.is(await allowed.creatable(path.join(root, 'inside-link', 'cairn')), path.join(root, 'real-drive', 'cairn'));
});

test('makeFolder creates each missing folder inside, accepts an existing one, and creates nothing outside', async () => {
  const { root, outside, allowed } = setup();
  const made = await allowed.makeFolder(path.join(root, 'a', 'b', 'c'));
  assert.is(made, path.join(root, 'a', 'b', 'c'));
  assert.ok(existsSync(made));
  assert.is(await allowed.makeFolder(made), made, 'an existing folder is fine');
  symlinkSync(outside, path.join(root, 'out'));
  assert.is((await refusal(allowed.makeFolder(path.join(root, 'out', 'x')))).code, 'PATH_NOT_ALLOWED');
  assert.is((await refusal(allowed.makeFolder('/etc/cairn-test'))).code, 'PATH_NOT_ALLOWED');
  assert.equal(readdirSync(outside), []);
  assert.not.ok(existsSync('/etc/cairn-test'));
});

test('existing names the real path and refuses a link that leads out, and a missing path is a 404', async () => {
  const { root, outside, allowed } = setup();
  mkdirSync(path.join(root, 'photos'));
  assert.equal(await allowed.existing(path.join(root, 'photos')), { real: path.join(root, 'photos'), root });
  symlinkSync(outside, path.join(root, 'escape'));
  const refused = await refusal(allowed.existing(path.join(root, 'escape')));
  assert.is(refused.kind, 'forbidden');
  assert.ok(refused.message.includes(`${path.join(root, 'escape')} leads to ${outside}`), refused.message);
  assert.is((await refusal(allowed.existing(path.join(root, 'gone')))).code, 'PATH_NOT_FOUND');
});

test("the daemon's data dir is refused even inside a root, through a link too", async () => {
  const root = realpathSync(tempDir());
  const data = path.join(root, 'cairn', 'data');
  mkdirSync(data, { recursive: true });
  const allowed = new AllowedPaths([root], { excluded: [data] });
  // Each check starts only when awaited: a rejection waiting in a list would be an unhandled one.
  for (const check of [() => allowed.existing(data), () => allowed.creatable(path.join(data, 'vault.key')), () => allowed.makeFolder(path.join(data, 'logs', 'x'))]) {
    const refused = await refusal(check());
    assert.is(refused.code, 'PATH_NOT_ALLOWED');
    assert.match(refused.message, /Cairn's own data folder/);
  }
  symlinkSync(data, path.join(root, 'innocent'));
  assert.is((await refusal(allowed.makeFolder(path.join(root, 'innocent', 'x')))).code, 'PATH_NOT_ALLOWED');
  assert.not.ok(existsSync(path.join(data, 'logs')));
  assert.is(await allowed.creatable(path.join(root, 'cairn', 'other')), path.join(root, 'cairn', 'other'), 'beside it is fine');
});

test('every filesystem failure is a client error naming the path, never an internal one', () => {
  for (const code of ['ELOOP', 'ENAMETOOLONG', 'ENOTDIR', 'EEXIST', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'ENOENT', 'EINVAL', 'EWHATEVER']) {
    const problem = pathProblem('/srv/photos', Object.assign(new Error(code), { code }));
    assert.ok(['invalid', 'forbidden', 'not_found', 'conflict'].includes(problem.kind), `${code} → ${problem.kind}`);
    assert.ok(problem.message.startsWith('Cannot use /srv/photos: '), problem.message);
  }
  assert.match(pathProblem('/x', Object.assign(new Error(), { code: 'EROFS' })).message, /read-only/);
  assert.match(pathProblem('/x', Object.assign(new Error(), { code: 'ENOSPC' })).message, /no space/);
});


test('".." is refused rather than folded, since after a link it leads where the link\'s parent is', async () => {
  const { root, outside, allowed } = setup();
  mkdirSync(path.join(root, 'home'));
  symlinkSync(outside, path.join(root, 'home', 'link'));
  // Folded, "root/home/link/../x" would read as "root/home/x"; the kernel takes it to "<outside>/../x".
  for (const check of [() => allowed.creatable(`${root}/home/link/../x`), () => allowed.existing(`${root}/home/link/../home`)]) {
    const refused = await refusal(check());
    assert.is(refused.code, 'INVALID_PATH');
    assert.match(refused.message, /must not contain "\.\."/);
  }
});

test('a dangling link with a relative target is followed from its real folder, as the kernel does', async () => {
  const { root, outside, allowed } = setup();
  // root/p/q/r/a -> root/s (a real folder), and root/s/d -> ../../<outside's name>/evil, which the kernel
  // resolves from root/s: two levels up is root's parent, then into the outside folder.
  mkdirSync(path.join(root, 'p', 'q', 'r'), { recursive: true });
  mkdirSync(path.join(root, 's'));
  symlinkSync(path.join(root, 's'), path.join(root, 'p', 'q', 'r', 'a'));
  const up = path.relative(path.join(root, 's'), path.join(outside, 'evil'));
  symlinkSync(up, path.join(root, 's', 'd'));
  const refused = await refusal(allowed.creatable(path.join(root, 'p', 'q', 'r', 'a', 'd')));
  assert.is(refused.code, 'PATH_NOT_ALLOWED');
  assert.ok(refused.message.includes(path.join(outside, 'evil')), refused.message);
});

test('a folder that holds the data dir is refused as a job path by refuseHolder, and the data dir inside one still is', async () => {
  const root = realpathSync(tempDir());
  const data = path.join(root, 'cairn', 'data');
  mkdirSync(data, { recursive: true });
  const allowed = new AllowedPaths([root], { excluded: [data] });
  const refused = await refusal(allowed.refuseHolder(root, root));
  assert.is(refused.code, 'PATH_NOT_ALLOWED');
  assert.match(refused.message, /holds Cairn's own data folder/);
  await allowed.refuseHolder(path.join(root, 'photos'), 'photos');
  assert.is((await refusal(allowed.creatable(path.join(data, 'x')))).code, 'PATH_NOT_ALLOWED');
});

test.run();
