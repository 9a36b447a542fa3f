/** Pairing a phone by QR code (issue 16 item 2): one-time codes that an app trades for an API key. */
export { PairingService, PAIRING_TTL_MS, MAX_PENDING_PAIRINGS, type PairingDependencies, type StartedPairing, type ClaimedPairing } from './pairing-service.ts';
export { encodePairingPayload, decodePairingPayload, PAIRING_PAYLOAD_MAGIC, type PairingPayload } from './qr-payload.ts';
export { terminalQr } from './terminal-qr.ts';
