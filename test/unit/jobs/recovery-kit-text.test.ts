/**
 * The printed recovery kit names the restic it needs: repositories Cairn creates are format
 * version 2 (zstd), which restic before 0.14 cannot open, so "any restic" would fail the owner
 * exactly when the box is gone.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recoveryKitText, type RecoveryKit } from '../../../src/jobs/recovery-kit.ts';

test('the printed kit asks for restic 0.14 or newer', () => {
  const kit: RecoveryKit = {
    job_id: 3,
    job_name: 'Photos',
    repository: '/media/usb/cairn',
    password: 'correct horse',
    tag: 'cairn-job-3',
    setup: [],
    commands: { list: 'restic -r /media/usb/cairn snapshots', restore_latest: 'restic -r /media/usb/cairn restore latest --target ./restored', restore_snapshot: 'restic -r /media/usb/cairn restore ID --target ./restored', check: 'restic -r /media/usb/cairn check' },
    qr_text: 'x',
    generated_at: '2026-12-05T23:00:00Z',
  };
  assert.match(recoveryKitText(kit), 'restic 0.14 or newer');
});

test.run();
