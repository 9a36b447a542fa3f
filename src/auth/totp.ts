/** TOTP (RFC 6238) codes as authenticator apps make them: 6 digits, 30 s steps, ±1 step of clock skew. */
import { authenticator } from 'otplib';

export const TOTP_ISSUER = 'Cairn';
const STEP_SECONDS = 30;
export const TOTP_STEP_MS = STEP_SECONDS * 1000;
const totp = authenticator.clone({ window: 1, step: STEP_SECONDS });

export function generateTotpSecret(): string {
  return totp.generateSecret(20);
}

export function otpauthUrl(username: string, secret: string): string {
  return totp.keyuri(username, TOTP_ISSUER, secret);
}

/** The otpauth URL as a PNG data URL, for apps that scan a QR code. */
export async function qrCodeDataUrl(url: string): Promise<string> {
  // Loaded when 2FA is set up, the only time a QR code is drawn.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toDataURL(url, { type: 'image/png', errorCorrectionLevel: 'M', margin: 2 });
}

/**
 * The time step the code belongs to, or null when it matches none of now−1, now, now+1.
 * Callers remember the step to refuse the same code twice.
 */
export function matchTotpStep(code: string, secret: string, at = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp.clone({ epoch: at }).checkDelta(code, secret);
  return delta === null ? null : Math.floor(at / 1000 / STEP_SECONDS) + delta;
}

/** The code an authenticator shows at `at` (tests and the CLI use it). */
export function currentTotpCode(secret: string, at = Date.now()): string {
  return totp.clone({ epoch: at }).generate(secret);
}
