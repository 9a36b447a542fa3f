/** The benchmarks' generated source tree: FILES files of ~BYTES in all, 100 per folder, 1000 per top folder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function generateTree(root: string, files: number, bytes: number): void {
  const average = Math.floor(bytes / files);
  const block = Buffer.alloc(average * 2, 'cairn benchmark data ');
  for (let i = 0; i < files; i++) {
    const dir = path.join(root, `d${Math.floor(i / 1000)}`, `e${Math.floor(i / 100) % 10}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    // Sizes vary from 0 to twice the average, like a real home folder's mix of small and large files.
    writeFileSync(path.join(dir, `file-${i}.dat`), block.subarray(0, (i * 7919) % (average * 2)));
  }
}
