/** Per-client caps on things a client holds open (connections, WebSockets), keyed on the socket's address. */
import type { EventEmitter } from 'node:events';

/**
 * At most `limit` slots per client address. A slot is held by a socket and given back when that
 * socket closes, however it closes, so nothing can leak a slot.
 */
export class ClientSlots {
  private readonly held = new Map<string, number>();

  constructor(readonly limit: number) {}

  /**
   * Takes a slot for `address` until `socket` emits `close`; answers false, taking nothing, when the
   * address already holds `limit`.
   */
  holdUntilClosed(address: string, socket: EventEmitter): boolean {
    const count = this.held.get(address) ?? 0;
    if (count >= this.limit) return false;
    this.held.set(address, count + 1);
    socket.once('close', () => {
      const left = (this.held.get(address) ?? 1) - 1;
      if (left > 0) this.held.set(address, left);
      else this.held.delete(address);
    });
    return true;
  }
}
