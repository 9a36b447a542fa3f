/**
 * Hard links through the API: a repository job of two folders, with a file linked inside one and a
 * file linked across both, restores them as links (one restore run restores each of its top
 * paths on its own: the names are still linked across them), and the run counts each name as a
 * file and the shared content once.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createJob, finishedRun, startTestDaemon, tempDir } from '../../helpers.ts';

test('a repository job restores hard links inside and across its folders as links, counting each name', async () => {
  const daemon = await startTestDaemon();
  try {
    const admin = daemon.client();
    await admin.setupAdmin();
    const sources = tempDir('cairn-linked-sources-');
    const one = path.join(sources, 'one');
    const two = path.join(sources, 'two');
    await fs.mkdir(path.join(one, 'inner'), { recursive: true });
    await fs.mkdir(two);
    const photo = randomBytes(2 * 1024 * 1024);
    const note = randomBytes(10_000);
    await fs.writeFile(path.join(one, 'photo.jpg'), photo);
    await fs.link(path.join(one, 'photo.jpg'), path.join(two, 'photo again.jpg'));
    await fs.writeFile(path.join(one, 'note.txt'), note);
    await fs.link(path.join(one, 'note.txt'), path.join(one, 'inner', 'note link.txt'));

    const job = await createJob(admin, { source_dirs: [one, two], destination_config: { mount_point: tempDir('cairn-target-'), backup_subdir: 'repo' }, backup_mode: 'repository' });
    const started = await admin.post(`/api/jobs/${job.id}/run`);
    assert.is(started.status, 200, JSON.stringify(started.body));
    const backedUp = await finishedRun(admin, started.body.run_id, 120_000);
    assert.is(backedUp.status, 'completed', backedUp.error_message);

    const target = tempDir('cairn-linked-restore-');
    const restoring = await admin.post(`/api/jobs/${job.id}/restore`, { target_dir: target });
    assert.is(restoring.status, 202, JSON.stringify(restoring.body));
    const run = await finishedRun(admin, restoring.body.run_id, 120_000);
    assert.is(run.status, 'completed', run.error_message);

    const inode = async (name: string) => (await fs.stat(path.join(target, name))).ino;
    assert.is(await inode('one/inner/note link.txt'), await inode('one/note.txt'), 'linked inside a folder');
    assert.is(await inode('two/photo again.jpg'), await inode('one/photo.jpg'), 'linked across the two folders');
    assert.ok((await fs.readFile(path.join(target, 'two/photo again.jpg'))).equals(photo));
    assert.ok((await fs.readFile(path.join(target, 'one/inner/note link.txt'))).equals(note));
    assert.is(run.files_transferred, 4);
    assert.is(run.bytes_transferred, photo.length + note.length);
  } finally {
    await daemon.stop();
  }
});

test.run();
