/**
 * The TUI's recovery kit screen without blessed: the kit fetched through the TUI's API client from a
 * real daemon, the text beside the QR code, the QR code fitting beside it in 80 columns, and the key
 * that opens it on the history screen.
 */
import QRCode from 'qrcode';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TuiApi } from '../../../tui/api.ts';
import { helpText, keysOf, SNAPSHOTS_ACTIONS } from '../../../tui/keys.ts';
import { qrWidth } from '../../../tui/present/pairing.ts';
import { recoveryKitDetails } from '../../../tui/present/recovery-kit.ts';
import { ADMIN, startTestDaemon, tempDir } from '../../helpers.ts';

const kit = suite('tui recovery kit');

kit('the kit screen shows the location, the password and the restic commands beside a QR code that fits', async () => {
  const daemon = await startTestDaemon();
  try {
    const api = new TuiApi(daemon.url);
    await api.setup(ADMIN.username, ADMIN.password);
    const target = tempDir();
    const job = (await api.createJob({
      name: 'Kit job',
      source_dirs: [tempDir()],
      destination_type: 'local',
      destination_config: { mount_point: target, backup_subdir: 'repo' },
      backup_mode: 'repository',
      repository_password: 'the owner password here',
    } as never)) as { id: number };
    const fetched = await api.recoveryKit(job.id);
    const details = recoveryKitDetails(fetched);
    assert.ok(details.includes(`${target}/repo`), details);
    assert.ok(details.includes('the owner password here'), details);
    assert.ok(details.includes(`restic -r ${target}/repo snapshots --tag cairn-job-${job.id}`), details);
    const qr = await QRCode.toString(fetched.qr_text, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
    assert.ok(qrWidth(qr) <= 50, `the QR code is ${qrWidth(qr)} columns wide`);
    assert.ok(qr.split('\n').length <= 24, 'the QR code is taller than a terminal');
  } finally {
    await daemon.stop();
  }
});

kit('K opens it from the history screen, and the help lists it', () => {
  assert.ok((SNAPSHOTS_ACTIONS as readonly string[]).includes('recovery-kit'));
  assert.equal(keysOf('recovery-kit'), ['S-k']);
  assert.match(helpText(), /K\s+recovery kit/);
});

kit.run();
