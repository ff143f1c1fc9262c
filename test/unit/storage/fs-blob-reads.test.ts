import type { EventEmitter } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../../src/storage/fs-blob-store.js';
import { COPY_BUFFER_LIMIT_BYTES, COPY_READ_BYTES, STREAM_READ_BYTES, WHOLE_READ_MAX_BYTES, nodeBlobFileSystem, type BlobFileSystem } from '../../../src/storage/fs-blob-read.js';
import { FileRangeStream } from '../../../src/storage/fs-blob-stream.js';
import { putBlob, readBlob } from '../../../src/storage/blob-io.js';
import { RangeNotSatisfiableError } from '../../../src/storage/errors.js';

/** The node file system, counting the calls that look at a file's size. */
function countingFs(): BlobFileSystem & { calls: { stat: number; fstat: number; open: number } } {
  const calls = { stat: 0, fstat: 0, open: 0 };
  return {
    calls,
    stat: (path) => ((calls.stat += 1), nodeBlobFileSystem.stat(path)),
    open: (path, flags, mode) => ((calls.open += 1), nodeBlobFileSystem.open(path, flags, mode)),
    fstat: (handle) => ((calls.fstat += 1), nodeBlobFileSystem.fstat(handle)),
  };
}

async function storeWith(fs: BlobFileSystem): Promise<FsBlobStore> {
  const store = new FsBlobStore(await mkdtemp(join(tmpdir(), 'stowage-reads-')), fs);
  await store.init();
  return store;
}

async function drain(body: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('FsBlobStore reads', () => {
  it('reads a small blob whole into a buffer of exactly its size, with one open and one fstat', async () => {
    const fs = countingFs();
    const store = await storeWith(fs);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [] }));
    const { digest } = await putBlob(store, manifest);
    fs.calls.stat = fs.calls.fstat = fs.calls.open = 0;

    const opened = await store.openSized(digest, () => null);
    expect(Buffer.isBuffer(opened?.body)).toBe(true);
    expect((opened?.body as Buffer).length).toBe(manifest.length);
    expect(opened?.body).toEqual(manifest);
    expect(await readBlob(store, digest)).toEqual(manifest);
    expect(fs.calls).toEqual({ stat: 0, fstat: 2, open: 2 });
  });

  it('streams a large blob in reads of STREAM_READ_BYTES, and serves a range of it', async () => {
    const fs = countingFs();
    const store = await storeWith(fs);
    const data = Buffer.alloc(2 * STREAM_READ_BYTES + 17, 7);
    data.write('tail', data.length - 4);
    const { digest } = await putBlob(store, data);
    fs.calls.stat = fs.calls.fstat = fs.calls.open = 0;

    const whole = await store.openSized(digest, () => null);
    expect(whole?.body).toBeInstanceOf(Readable);
    expect((whole?.body as Readable).readableHighWaterMark).toBe(STREAM_READ_BYTES);
    expect((await drain(whole?.body as Readable)).equals(data)).toBe(true);

    const ranged = await store.openSized(digest, (size) => ({ start: size - 4, end: size - 1 }));
    expect(ranged?.range).toEqual({ start: data.length - 4, end: data.length - 1 });
    expect((await drain(ranged?.body as Buffer)).toString()).toBe('tail');
    expect(fs.calls).toEqual({ stat: 0, fstat: 2, open: 2 });
  });

  it('reads whole exactly at the threshold and streams one byte above it', async () => {
    const store = await storeWith(nodeBlobFileSystem);
    const at = await putBlob(store, Buffer.alloc(WHOLE_READ_MAX_BYTES, 1));
    const above = await putBlob(store, Buffer.alloc(WHOLE_READ_MAX_BYTES + 1, 2));
    expect(Buffer.isBuffer((await store.openSized(at.digest, () => null))?.body)).toBe(true);
    const streamed = await store.openSized(above.digest, () => null);
    expect(streamed?.body).toBeInstanceOf(Readable);
    expect((await drain(streamed?.body as Readable)).length).toBe(WHOLE_READ_MAX_BYTES + 1);
  });

  it('answers null for a missing blob and closes the file when the range is refused', async () => {
    const root = await mkdtemp(join(tmpdir(), 'stowage-reads-'));
    const store = new FsBlobStore(root);
    await store.init();
    expect(await store.openSized(`sha256:${'0'.repeat(64)}`, () => null)).toBeNull();
    const { digest } = await putBlob(store, Buffer.from('abc'));
    const closed: string[] = [];
    const fs: BlobFileSystem = {
      ...nodeBlobFileSystem,
      open: async (path, flags) => {
        const handle = await nodeBlobFileSystem.open(path, flags);
        (handle as unknown as EventEmitter).once('close', () => closed.push(path));
        return handle;
      },
    };
    const watched = new FsBlobStore(root, fs);
    await expect(
      watched.openSized(digest, (size) => {
        throw new RangeNotSatisfiableError(size);
      }),
    ).rejects.toBeInstanceOf(RangeNotSatisfiableError);
    expect(closed).toHaveLength(1);
  });

  it('copies a large blob to a vouched destination through two buffers of COPY_READ_BYTES, for as many copies at once as the limit holds', async () => {
    const store = await storeWith(nodeBlobFileSystem);
    const data = Buffer.alloc(3 * COPY_READ_BYTES + 5, 3);
    const { digest } = await putBlob(store, data);
    const copies = COPY_BUFFER_LIMIT_BYTES / (2 * COPY_READ_BYTES) + 1;
    const held: (() => void)[] = [];
    const streams: FileRangeStream[] = [];
    for (let i = 0; i < copies; i += 1) {
      const body = (await store.openSized(digest, () => null))?.body;
      if (!(body instanceof FileRangeStream)) throw new Error('expected a FileRangeStream');
      // Never completes a write, so every copy keeps its buffers until destroyed.
      const sink = new Writable({ write: (_chunk, _encoding, callback) => held.push(() => callback()) });
      body.reuseBuffersFor(sink);
      body.pipe(sink);
      streams.push(body);
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(streams.map((stream) => stream.bytesAllocated)).toEqual([...Array(copies - 1).fill(2 * COPY_READ_BYTES), 2 * STREAM_READ_BYTES]);
    for (const stream of streams) stream.destroy();
  });
});
