/** The pairing QR code drawn in a terminal, as `cairn pair` prints it. */

/**
 * `payload` as a QR code of half-block characters (two rows of modules per line), error correction
 * L: a terminal draws it crisply, and the smallest code fits an 80×24 terminal. qrcode is loaded on
 * first use, like the other protocol libraries.
 */
export async function terminalQr(payload: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(payload, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}
