import { randomBytes } from 'node:crypto';
import { mkdtemp, open, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { FileRangeStream } from '../../../src/storage/fs-blob-stream.js';

const READ = 64 * 1024;

async function fileWith(data: Buffer): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'stowage-range-stream-')), 'blob');
  await writeFile(path, data);
  return path;
}

/** A destination that copies what it is given (the source may reuse its buffers) and completes writes later. */
class SlowSink extends Writable {
  readonly chunks: Buffer[] = [];
  constructor(private readonly failAfter = Number.POSITIVE_INFINITY) {
    super({ highWaterMark: 1 });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    const failed = this.chunks.length > this.failAfter;
    setImmediate(() => callback(failed ? new Error('the client went away') : null));
  }
}

function finished(stream: FileRangeStream): Promise<Error | null> {
  return new Promise((resolve) => {
    stream.once('error', resolve);
    stream.once('close', () => resolve(null));
  });
}

describe('FileRangeStream', () => {
  it('piped, sends the exact range through two reused buffers, whatever its length', async () => {
    const data = randomBytes(10 * READ + 300);
    const path = await fileWith(data);
    const stream = new FileRangeStream(await open(path, 'r'), 100, data.length - 200, READ);
    const sink = new SlowSink();
    const ended = new Promise((resolve) => stream.once('end', resolve));
    const sunk = new Promise((resolve) => sink.once('finish', resolve));
    stream.reuseBuffersFor(sink);
    stream.pipe(sink);
    await Promise.all([ended, sunk]);
    expect(Buffer.concat(sink.chunks).equals(data.subarray(100, data.length - 100))).toBe(true);
    expect(sink.chunks.length).toBe(11);
    expect(stream.buffersAllocated).toBe(2);
    expect(await finished(stream)).toBeNull();
  });

  it('piped through a Transform that passes chunks on (as pipeline() into a hashing stage does), gives the exact bytes and reuses nothing', async () => {
    // A Transform calls back as soon as it pushed a chunk, which then waits in its readable
    // buffer: a reused buffer would be read into while its bytes were still on their way.
    const data = randomBytes(12 * READ + 7);
    const stream = new FileRangeStream(await open(await fileWith(data), 'r'), 0, data.length, READ);
    const passOn = new Transform({ transform: (chunk: Buffer, _encoding, callback) => callback(null, chunk) });
    const sink = new SlowSink();
    await pipeline(stream, passOn, sink);
    expect(Buffer.concat(sink.chunks).equals(data)).toBe(true);
    expect(stream.buffersAllocated).toBe(13);
  });

  it('read by iteration, yields the same bytes', async () => {
    const data = randomBytes(3 * READ + 5);
    const stream = new FileRangeStream(await open(await fileWith(data), 'r'), 0, data.length, READ);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('stops and closes the file when the destination fails mid-copy, and when destroyed', async () => {
    const data = randomBytes(20 * READ);
    const path = await fileWith(data);
    for (const how of ['write fails', 'destroyed'] as const) {
      const handle = await open(path, 'r');
      let closes = 0;
      const close = handle.close.bind(handle);
      handle.close = () => ((closes += 1), close());
      const stream = new FileRangeStream(handle, 0, data.length, READ);
      const sink = new SlowSink(how === 'write fails' ? 3 : Number.POSITIVE_INFINITY);
      sink.on('error', () => undefined);
      const done = finished(stream);
      stream.reuseBuffersFor(sink);
      stream.pipe(sink);
      if (how === 'destroyed') await new Promise((resolve) => sink.once('drain', resolve)).then(() => stream.destroy());
      const error = await done;
      expect(how === 'write fails' ? error?.message : error).toBe(how === 'write fails' ? 'the client went away' : null);
      expect(closes).toBe(1);
      expect(sink.chunks.length).toBeLessThan(20);
    }
  });
});
