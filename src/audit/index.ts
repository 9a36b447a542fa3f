/** The audit log: who did what, from where, when. */
export { AuditLog, AUDIT_FILE, type AuditEntry, type AuditQuery, type NewAuditEntry } from './audit-log.ts';
