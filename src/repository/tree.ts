/**
 * Tree blobs: a folder as restic records it, `{"nodes":[…]}` plus a newline, nodes sorted by name
 * (byte order). Field names, their order and which are left out when empty follow restic's own
 * node JSON, so that restic reads every field and identical folders give identical tree ids.
 */
import { readFileSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';

/** One entry of a tree, as stored. */
export interface TreeNode {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'dev' | 'chardev' | 'fifo' | 'socket';
  mode?: number;
  mtime?: string;
  atime?: string;
  ctime?: string;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  inode?: number;
  device_id?: number;
  size?: number;
  links?: number;
  linktarget?: string;
  device?: number;
  content: string[] | null;
  subtree?: string;
  /**
   * `inode` and `device_id` as the filesystem gave them, when over 2^53 (overlayfs puts its layer in
   * an inode's high bits): a JS number rounds them, and restic, reading the tree with exact integers,
   * would take two files whose rounded inodes match for hard links of one. Written by `encodeTree`,
   * never read back (decoded trees hold the rounded numbers, as `nodeFromStat` does, so that the
   * unchanged-file check compares like with like).
   */
  exact?: { inode?: bigint; device_id?: bigint };
}

// Go's os.FileMode bits, which restic stores in `mode` (not the Unix st_mode bits).
const GO_DIR = 0x80000000;
const GO_SYMLINK = 0x08000000;
const GO_DEVICE = 0x04000000;
const GO_NAMED_PIPE = 0x02000000;
const GO_SOCKET = 0x01000000;
const GO_SETUID = 0x00800000;
const GO_SETGID = 0x00400000;
const GO_CHARDEVICE = 0x00200000;
const GO_STICKY = 0x00100000;

/** restic's `mode` for a Unix st_mode. */
export function goMode(stMode: number): number {
  let mode = stMode & 0o777;
  if (stMode & 0o4000) mode |= GO_SETUID;
  if (stMode & 0o2000) mode |= GO_SETGID;
  if (stMode & 0o1000) mode |= GO_STICKY;
  switch (stMode & 0o170000) {
    case 0o040000: mode |= GO_DIR; break;
    case 0o120000: mode |= GO_SYMLINK; break;
    case 0o060000: mode |= GO_DEVICE; break;
    case 0o020000: mode |= GO_DEVICE | GO_CHARDEVICE; break;
    case 0o010000: mode |= GO_NAMED_PIPE; break;
    case 0o140000: mode |= GO_SOCKET; break;
  }
  return mode >>> 0;
}

/** The Unix permission bits (with setuid, setgid, sticky) of a restic `mode`. */
export function unixPermissions(mode: number): number {
  let perm = mode & 0o777;
  if (mode & GO_SETUID) perm |= 0o4000;
  if (mode & GO_SETGID) perm |= 0o2000;
  if (mode & GO_STICKY) perm |= 0o1000;
  return perm;
}

/** An instant in nanoseconds as Go's RFC 3339 with nanoseconds (UTC, trailing zeros dropped). */
export function formatTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n);
  const fraction = ns - seconds * 1_000_000_000n;
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  const digits = fraction === 0n ? '' : `.${fraction.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${digits}Z`;
}

/** A restic time back to nanoseconds since the epoch (any RFC 3339 offset). */
export function parseTime(text: string): bigint {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) return BigInt(Date.parse(text)) * 1_000_000n;
  const seconds = BigInt(Date.parse(`${match[1]}${match[3]}`) / 1000);
  const fraction = BigInt((match[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
  return seconds * 1_000_000_000n + fraction;
}

/** Names of users and groups by id, read once from /etc/passwd and /etc/group as restic looks them up. */
export class Names {
  private readonly users = readIdFile('/etc/passwd');
  private readonly groups = readIdFile('/etc/group');
  user(uid: number): string | undefined {
    return this.users.get(uid);
  }
  group(gid: number): string | undefined {
    return this.groups.get(gid);
  }
}

function readIdFile(file: string): Map<number, string> {
  const names = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return names;
  }
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id && !names.has(Number(id))) names.set(Number(id), name);
  }
  return names;
}

/** The node for `name` from its lstat (with bigint times); content, subtree and linktarget are filled by the caller. */
export function nodeFromStat(name: string, stat: BigIntStats, names: Names): TreeNode {
  const type = stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : stat.isFile() ? 'file' : stat.isFIFO() ? 'fifo' : stat.isSocket() ? 'socket' : stat.isCharacterDevice() ? 'chardev' : 'dev';
  const uid = Number(stat.uid);
  const gid = Number(stat.gid);
  const node: TreeNode = {
    name,
    type,
    mode: goMode(Number(stat.mode)),
    mtime: formatTime(stat.mtimeNs),
    atime: formatTime(stat.atimeNs),
    ctime: formatTime(stat.ctimeNs),
    uid,
    gid,
    user: names.user(uid),
    group: names.group(gid),
    inode: Number(stat.ino),
    device_id: Number(stat.dev),
    ...exactNumbers(stat),
    size: type === 'file' ? Number(stat.size) : undefined,
    links: type === 'dir' ? undefined : Number(stat.nlink),
    content: null,
  };
  if (type === 'dev' || type === 'chardev') node.device = Number(stat.rdev);
  return node;
}

/** The stat numbers a JS number cannot hold exactly (see `TreeNode.exact`), or nothing. */
function exactNumbers(stat: BigIntStats): Pick<TreeNode, 'exact'> {
  const large = (value: bigint) => (value > BigInt(Number.MAX_SAFE_INTEGER) ? value : undefined);
  const exact = { inode: large(stat.ino), device_id: large(stat.dev) };
  return exact.inode === undefined && exact.device_id === undefined ? {} : { exact };
}

/**
 * A JSON string standing for an exact number while JSON.stringify runs, then replaced by its digits
 * (no name or text in a tree can hold a NUL, so it stands for nothing else).
 */
const EXACT_MARK = '\u0000exact:';
const EXACT_VALUE = /"(inode|device_id)":"\\u0000exact:(\d+)"/g;

/** restic's field order. */
const NODE_FIELDS: Array<keyof TreeNode> = ['name', 'type', 'mode', 'mtime', 'atime', 'ctime', 'uid', 'gid', 'user', 'group', 'inode', 'device_id', 'size', 'links', 'linktarget', 'device', 'content', 'subtree'];

/** The stored bytes of a tree: nodes sorted by name in byte order, empty fields left out. */
export function encodeTree(nodes: TreeNode[]): Buffer {
  const sorted = [...nodes].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const clean = sorted.map((node) => {
    const out: Record<string, unknown> = {};
    for (const key of NODE_FIELDS) {
      const exact = key === 'inode' || key === 'device_id' ? node.exact?.[key] : undefined;
      const value = exact === undefined ? node[key] : `${EXACT_MARK}${exact}`;
      // restic leaves out empty optional fields, but always writes uid, gid and content.
      const always = key === 'uid' || key === 'gid' || key === 'content' || key === 'name' || key === 'type';
      if (!always && (value === undefined || value === 0 || value === '')) continue;
      out[key] = value;
    }
    return out;
  });
  const json = JSON.stringify({ nodes: clean });
  return Buffer.from(`${sorted.some((node) => node.exact) ? json.replace(EXACT_VALUE, '"$1":$2') : json}\n`);
}

/** The nodes of a stored tree; throws when the JSON is not a tree. */
export function decodeTree(bytes: Buffer): TreeNode[] {
  const tree = JSON.parse(bytes.toString('utf8')) as { nodes?: TreeNode[] };
  if (!Array.isArray(tree.nodes)) throw new SyntaxError('no nodes');
  return tree.nodes;
}
