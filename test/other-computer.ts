/**
 * "Another computer on the LAN" for tests: a network namespace joined to this one by a veth pair on a
 * private /30 (only this machine's own namespaces: nothing else on the network is touched), so its
 * requests arrive from a real non-loopback address. Needs root and iproute2's `ip netns`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OtherComputer {
  /** This box's address on the link (a daemon listening here is reached from the other computer). */
  hostAddress: string;
  /** Runs `fetch` from the other computer; resolves to the status and parsed body. */
  request(url: string, method: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Runs a Node ES module `script` on the other computer with `args` (process.argv.slice(1)); resolves to its stdout. */
  node(script: string, args: string[]): Promise<string>;
  remove(): Promise<void>;
}

/** Names and the /30 come from this process's pid, so parallel test files do not collide. */
export async function otherComputerOnTheLan(): Promise<OtherComputer> {
  const n = process.pid % 16_384;
  const base = `10.231.${n >> 6}.${(n & 63) * 4}`.split('.').map(Number);
  const [hostAddress, otherAddress] = [1, 2].map((last) => [...base.slice(0, 3), base[3] + last].join('.'));
  const namespace = `cairn-lan-${process.pid}`;
  const [hostEnd, otherEnd] = [`cl${n}h`, `cl${n}o`];
  const remove = async () => {
    // Deleting one end of a veth pair deletes both; the namespace goes after.
    await run('ip', ['link', 'del', hostEnd]).catch(() => {});
    await run('ip', ['netns', 'del', namespace]).catch(() => {});
  };
  try {
    await run('ip', ['netns', 'add', namespace]);
    await run('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', otherEnd]);
    await run('ip', ['link', 'set', otherEnd, 'netns', namespace]);
    await run('ip', ['addr', 'add', `${hostAddress}/30`, 'dev', hostEnd]);
    await run('ip', ['link', 'set', hostEnd, 'up']);
    await run('ip', ['netns', 'exec', namespace, 'ip', 'addr', 'add', `${otherAddress}/30`, 'dev', otherEnd]);
    await run('ip', ['netns', 'exec', namespace, 'ip', 'link', 'set', otherEnd, 'up']);
    await run('ip', ['netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (error) {
    await remove();
    throw error;
  }
  const node = async (script: string, args: string[]) =>
    (await run('ip', ['netns', 'exec', namespace, process.execPath, '--input-type=module', '-e', script, ...args])).stdout;
  const fetchScript = `
    const [url, method, body] = process.argv.slice(1);
    const response = await fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body || undefined });
    console.log(JSON.stringify({ status: response.status, body: await response.json() }));`;
  return {
    hostAddress,
    request: async (url, method, body) => JSON.parse(await node(fetchScript, [url, method, body === undefined ? '' : JSON.stringify(body)])),
    node,
    remove,
  };
}
