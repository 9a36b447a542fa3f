/**
 * A repository job's recovery kit on the terminal: a QR code of its location and password, and the
 * restic commands beside it; Esc closes it. The kit is fetched when the screen opens, never kept.
 */
import blessed from 'blessed';
import QRCode from 'qrcode';
import type { TuiApi } from '../api.ts';
import { qrWidth } from '../present/pairing.ts';
import { recoveryKitDetails } from '../present/recovery-kit.ts';

/** Shows the kit of job `jobId` until Esc. */
export async function showRecoveryKit(screen: blessed.Widgets.Screen, api: TuiApi, jobId: number): Promise<void> {
  const kit = await api.recoveryKit(jobId);
  const qr = await QRCode.toString(kit.qr_text, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
  // No border: the QR code needs most lines of an 80×24 terminal.
  const box = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', tags: false });
  const width = qrWidth(qr);
  blessed.box({ parent: box, top: 0, left: 0, width, height: '100%', tags: false, content: qr.replace(/\n+$/, '') });
  blessed.box({ parent: box, top: 1, left: width + 2, width: `100%-${width + 2}`, height: '100%-1', tags: false, content: recoveryKitDetails(kit) });
  box.focus();
  screen.render();
  try {
    await new Promise<void>((resolve) => box.key(['escape'], () => resolve()));
  } finally {
    box.destroy();
    screen.render();
  }
}
