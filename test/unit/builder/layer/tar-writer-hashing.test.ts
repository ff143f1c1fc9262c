import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TarEntry } from '../../../../src/builder/layer/tar-entry.js';
import { TarOutput } from '../../../../src/builder/layer/tar-output.js';
import { writeTarEntries } from '../../../../src/builder/layer/tar-writer.js';
import { untar } from './layer-test-support.js';

// Every sha256 the tar writer starts is counted: hard-link hashes are its only hashes.
const hashes = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return {
    ...crypto,
    createHash: (...args: Parameters<typeof crypto.createHash>) => {
      hashes.count++;
      return crypto.createHash(...args);
    },
  };
});

interface FileSpec {
  readonly name: string;
  readonly bytes: Buffer;
}

/** Store files as the local store reader gives them: inline bytes, readable again from "disk". */
function files(specs: readonly FileSpec[], readAgain: boolean, reads: string[]): TarEntry[] {
  return specs.map(({ name, bytes }) => ({
    kind: 'file',
    name,
    mode: 0o444,
    size: bytes.length,
    content: bytes,
    linkable: true,
    ...(readAgain
      ? {
          readAgain: () => {
            reads.push(name);
            return Readable.from([Buffer.from(bytes)]);
          },
        }
      : {}),
  }));
}

async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const tar = new TarOutput();
  const chunks: Buffer[] = [];
  const read = (async () => {
    for await (const chunk of tar as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  await writeTarEntries(tar, entries, { hardLinks: true, signal: new AbortController().signal });
  await read;
  return Buffer.concat(chunks);
}

const KiB = 1024;
const filled = (size: number, byte: number): Buffer => Buffer.alloc(size, byte);

describe('writeTarEntries: hard-link hashes', () => {
  beforeEach(() => {
    hashes.count = 0;
  });

  it('does not hash files from 16 KiB on whose size no earlier file has, and writes the same bytes', async () => {
    const specs = [
      { name: 'a', bytes: filled(20 * KiB, 1) },
      { name: 'b', bytes: filled(20 * KiB + 1, 2) },
      { name: 'c', bytes: filled(700 * KiB, 3) },
      // Under 16 KiB: hashed on the way, as before.
      { name: 'small', bytes: filled(100, 4) },
    ];
    const reads: string[] = [];
    const shortcut = await tarOf(files(specs, true, reads));
    expect(hashes.count).toBe(1);
    expect(reads).toEqual([]);
    hashes.count = 0;
    const hashedAll = await tarOf(files(specs, false, reads));
    expect(hashes.count).toBe(4);
    expect(shortcut.equals(hashedAll)).toBe(true);
  });

  it('reads the first file again when a later one has its size and mode, and links equal contents', async () => {
    const same = filled(40 * KiB, 7);
    const specs = [
      { name: 'first', bytes: same },
      { name: 'copy', bytes: Buffer.from(same) },
      { name: 'other', bytes: filled(40 * KiB, 8) },
      { name: 'copy-again', bytes: Buffer.from(same) },
    ];
    const reads: string[] = [];
    const tar = await tarOf(files(specs, true, reads));
    // `first` is read again once, for `copy`; every later file is hashed in memory.
    expect(reads).toEqual(['first']);
    expect(hashes.count).toBe(4);
    const headers = new Map((await untar(tar)).map((item) => [item.header.name, item.header]));
    expect(headers.get('copy')).toMatchObject({ type: 'link', linkname: 'first' });
    expect(headers.get('copy-again')).toMatchObject({ type: 'link', linkname: 'first' });
    expect(headers.get('other')).toMatchObject({ type: 'file', size: 40 * KiB });
    expect(tar.equals(await tarOf(files(specs, false, [])))).toBe(true);
  });
});
