import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FloorSizes } from '../../../bench/layering/real-floor.js';
import type { RootFsEntry, RootFsReader } from '../../../src/sources/types.js';

/** A root-fs reader of one file per package, counting the packages it was asked to read. */
function reader(): { reader: RootFsReader; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    reader: {
      async *entries(path: string): AsyncIterable<RootFsEntry> {
        reads.push(path);
        const content = Buffer.from(`${path}\n`.repeat(200));
        yield { kind: 'directory', path: 'usr', mode: 0o755, uid: 0, gid: 0 };
        yield { kind: 'file', path: `usr/${path.slice(8)}`, mode: 0o644, uid: 0, gid: 0, size: content.length, open: () => Readable.from([content]) };
      },
    },
  };
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the real bench floor sizes', () => {
  it('writes each package alone once per .deb and level, and later runs read the sizes from the file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'realbench-floor-'));
    const file = join(dir, 'sizes.json');
    const first = reader();
    const floor = await FloorSizes.open(file);
    const a = await floor.of(first.reader, '/debian/a_1_amd64', 'sha256:aa', 6);
    expect(await floor.of(first.reader, '/debian/a_1_amd64', 'sha256:aa', 6)).toEqual(a);
    const b = await floor.of(first.reader, '/debian/b_1_amd64', 'sha256:bb', 6);
    await floor.of(first.reader, '/debian/a_1_amd64', 'sha256:aa', 1);
    expect(first.reads).toEqual(['/debian/a_1_amd64', '/debian/b_1_amd64', '/debian/a_1_amd64']);
    expect(a.gzip).toBeGreaterThan(0);
    expect(a.tar).toBeGreaterThan(a.gzip);
    await floor.save();

    const second = reader();
    const again = await FloorSizes.open(file);
    expect(await again.of(second.reader, '/debian/a_1_amd64', 'sha256:aa', 6)).toEqual(a);
    expect(await again.of(second.reader, '/debian/b_1_amd64', 'sha256:bb', 6)).toEqual(b);
    expect(second.reads).toEqual([]);
    expect(again.written).toBe(0);
    // Another .deb under the same path is written again.
    await again.of(second.reader, '/debian/a_1_amd64', 'sha256:a2', 6);
    expect(second.reads).toEqual(['/debian/a_1_amd64']);
  });

  it('starts empty on a file of another format, and refuses a path without a content hash', async () => {
    dir = await mkdtemp(join(tmpdir(), 'realbench-floor-'));
    const file = join(dir, 'sizes.json');
    await writeFile(file, JSON.stringify({ format: 'something-else', sizes: { 'sha256:aa 6': [1, 2] } }));
    const r = reader();
    const floor = await FloorSizes.open(file);
    expect((await floor.of(r.reader, '/debian/a_1_amd64', 'sha256:aa', 6)).gzip).not.toBe(1);
    await expect(floor.of(r.reader, '/debian/c_1_amd64', '', 6)).rejects.toThrow(/no content hash/);
  });
});
