/**
 * Gathers what is written to a socket during one turn of the event loop into one system call.
 * ssh2 writes every packet with its own `socket.write`, and without its native crypto binding (the
 * single binary cannot load it) in three pieces: length, ciphertext, tag. A folder listing sends an
 * open, three page requests and a close, so the binary daemon made ~20 socket writes per folder of
 * a no-change run: 14–18% of its CPU in the profiles of 100,000 and 300,000 files (issue 17).
 * Gathered, listing 31 folders took 21 writes instead of 222 (with the binding, one write a packet).
 */
import type { Socket } from 'node:net';

/**
 * From now on, the first write of a turn corks `socket` and the turn's end (process.nextTick, before
 * any I/O is polled) uncorks it: nothing waits longer than the code that wrote it runs, and all the
 * turn's writes leave in one writev.
 */
export function gatherWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args as never);
  } as Socket['write'];
}
