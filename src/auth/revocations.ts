/**
 * Tells whoever holds a credential open (the WebSockets) that some session or key has just been
 * revoked, so they check theirs again at once instead of at the next request.
 */
export class Revocations {
  private readonly listeners = new Set<() => void>();

  /** Calls `listener` after every revocation; returns a function that stops it. */
  onRevoked(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Announces that a session or key no longer works; called after the change is saved. */
  revoked(): void {
    for (const listener of this.listeners) listener();
  }
}
