import { createHash, randomFillSync } from 'node:crypto';
import { truncate } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStorePathLayer, type LayerCompression } from '../../../../src/builder/layer/index.js';
import { LocalStoreReader } from '../../../../src/sources/local-store-reader.js';
import type { StoreEntry, StoreReader } from '../../../../src/sources/types.js';
import type { BlobInfo, BlobStore, BlobWriter } from '../../../../src/storage/types.js';
import { makeStore, type TempStore } from './layer-test-support.js';

const FILE_BYTES = 50 * 1024 * 1024;
/** Most bytes that may sit between the file being read and the blob writer at any time. */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** Counts the bytes read and written and the peak gap between them. */
class Meter {
  read = 0;
  written = 0;
  maxGap = 0;

  sample(): void {
    this.maxGap = Math.max(this.maxGap, this.read - this.written);
  }
}

/** A blob store whose writer hashes and drops bytes, slowly, so back-pressure must hold. */
function slowStore(meter: Meter): BlobStore & { committed: BlobInfo[] } {
  const committed: BlobInfo[] = [];
  return {
    committed,
    stat: async () => null,
    open: async () => Readable.from([]),
    redirectUrl: async () => null,
    writer: async (): Promise<BlobWriter> => {
      const hash = createHash('sha256');
      let size = 0;
      let writes = 0;
      const stream = new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          meter.written += chunk.length;
          meter.sample();
          // A slow consumer: a timer turn every few writes.
          if (++writes % 8 === 0) setTimeout(callback, 1);
          else setImmediate(callback);
        },
      });
      return {
        stream,
        get size() {
          return size;
        },
        commit: async () => {
          const info = { digest: `sha256:${hash.digest('hex')}`, size };
          committed.push(info);
          return info;
        },
        abort: async () => undefined,
      };
    },
  };
}

/** Wraps a reader so that every byte read from a file is counted. */
function metered(reader: StoreReader, meter: Meter): StoreReader {
  return {
    list: (directory, signal) => reader.list(directory, signal),
    async *entries(storePath, signal) {
      for await (const entry of reader.entries(storePath, signal)) {
        if (entry.kind !== 'file') {
          yield entry;
          continue;
        }
        const counted: StoreEntry = {
          ...entry,
          open: (openSignal) =>
            entry.open(openSignal).pipe(
              new Transform({
                transform(chunk: Buffer, _encoding, callback) {
                  meter.read += chunk.length;
                  meter.sample();
                  callback(null, chunk);
                },
              }),
            ),
        };
        yield counted;
      }
    },
  };
}

/**
 * A reader with one store path holding one file of incompressible bytes: a 4 MiB random block
 * repeated, which zstd level 1 (512 KiB window) cannot find again.
 */
function randomReader(size: number): StoreReader {
  const block = randomFillSync(Buffer.alloc(4 * 1024 * 1024));
  const chunkSize = 256 * 1024;
  return {
    list: async () => null,
    async *entries(storePath) {
      yield {
        kind: 'file',
        path: storePath,
        size,
        executable: false,
        open: () =>
          Readable.from(
            (function* () {
              for (let offset = 0; offset < size; offset += chunkSize) {
                const start = offset % block.length;
                yield block.subarray(start, start + Math.min(chunkSize, size - offset));
              }
            })(),
          ),
      };
    },
  };
}

describe('back-pressure', () => {
  let fake: TempStore;

  beforeAll(async () => {
    fake = await makeStore({ 'aaa-sparse': { data: { file: '' } } });
    await truncate(path.join(fake.dir, 'aaa-sparse', 'data'), FILE_BYTES);
    // Start the zstd and store walker threads now, so the measured runs reuse them.
    await writeStorePathLayer({ reader: randomReader(1024), storePaths: ['/nix/store/aaa-warm'], compression: 'zstd', store: slowStore(new Meter()) });
    for await (const entry of new LocalStoreReader(fake.dir).entries('/nix/store/aaa-sparse')) void entry;
  });
  afterAll(() => fake.cleanup());

  it.each<[LayerCompression, number, () => StoreReader]>([
    // gzip level 0 stores: the slow writer sees all 50 MiB, as from a sparse file on disk.
    ['gzip', 0, () => new LocalStoreReader(fake.dir)],
    // zstd barely shrinks random bytes, so the writer's pace reaches back through the worker.
    ['zstd', 1, () => randomReader(FILE_BYTES)],
  ])('a %s layer of 50 MiB never has much of it in flight', async (compression, level, makeReader) => {
    const meter = new Meter();
    const store = slowStore(meter);
    const reader = metered(makeReader(), meter);
    const blob = await writeStorePathLayer({ reader, storePaths: ['/nix/store/aaa-sparse'], compression, level, store });
    expect(meter.read).toBe(FILE_BYTES);
    expect(blob.uncompressedSize).toBeGreaterThan(FILE_BYTES);
    expect(blob.size).toBeGreaterThan(FILE_BYTES * 0.99);
    expect(store.committed).toHaveLength(1);
    // Bytes in flight, counted: what the layer can hold in memory at once, whatever the heap does.
    expect(meter.maxGap).toBeLessThan(MAX_BUFFERED);
  });
});
