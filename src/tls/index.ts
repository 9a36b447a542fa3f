/** HTTPS: the certificate (made or the owner's), the one port serving HTTPS and plain HTTP, and the box's identity for clients. */
export { CERTIFICATE_FILE, KEY_FILE, TLS_DIR, VALIDITY_DAYS, certificateFiles, fingerprintOf, loadOrCreateCertificate, readCertificate, subjectAltNames } from './certificate.ts';
export type { CertificateSource, ServerCertificate } from './certificate.ts';
export { openFrontDoor } from './front-door.ts';
export type { FrontDoor, FrontDoorOptions } from './front-door.ts';
export { serverIdentity } from './identity.ts';
export type { Listening, ServerIdentity } from './identity.ts';
