/** The shape a retention preview (and the answer of an applied policy) takes in the API. */
import type { KeepReason, RetentionDecision, RetentionSnapshot } from './retention.ts';

/** What stays, with the reasons each stays, and what goes; ids only, newest first. */
export interface RetentionPreview {
  keep: Array<{ id: string | number; reasons: KeepReason[] }>;
  remove: Array<{ id: string | number }>;
}

/** The API's view of a decision: picks the ids and reasons, nothing else of the callers' records. */
export function retentionPreviewOf(decision: RetentionDecision<RetentionSnapshot>): RetentionPreview {
  return {
    keep: decision.keep.map(({ snapshot, reasons }) => ({ id: snapshot.id, reasons: reasons.map((reason) => ({ ...reason })) })),
    remove: decision.remove.map(({ id }) => ({ id })),
  };
}
