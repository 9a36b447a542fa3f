/**
 * Gathers what is written to a socket during one turn of the event loop into one system call.
 * ssh2 writes every packet with its own `socket.write`, and without its native crypto binding (the
 * single binary cannot load it) in three pieces: length, ciphertext, tag. A folder listing sends an
 * open, three page requests and a close at once, so a no-change run over 300,000 files made ~15
 * socket writes per folder, 15% of the daemon's CPU in the profile (issue 17); gathered, it makes
 * one or two.
 */
import type { Socket } from 'node:net';

/**
 * From now on, the first write of a turn corks `socket` and the turn's end (process.nextTick, before
 * any I/O is polled) uncorks it: nothing waits longer than the code that wrote it runs, and all the
 * turn's writes leave in one writev. Returns how many times the socket was uncorked (the batches sent).
 */
export function gatherWrites(socket: Socket): { batches: () => number } {
  const write = socket.write;
  let corked = false;
  let batches = 0;
  const uncork = () => {
    corked = false;
    batches++;
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
  return { batches: () => batches };
}
