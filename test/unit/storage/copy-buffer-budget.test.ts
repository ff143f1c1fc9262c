import { randomBytes } from 'node:crypto';
import { mkdtemp, open, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CopyBufferBudget } from '../../../src/storage/copy-buffer-budget.js';
import { FileRangeStream } from '../../../src/storage/fs-blob-stream.js';

const SMALL = 16 * 1024;
const BIG = 64 * 1024;

/** A destination that keeps a copy of each chunk and completes its write only when told to. */
class HeldSink extends Writable {
  readonly chunks: Buffer[] = [];
  private held: (() => void)[] = [];
  constructor() {
    super({ highWaterMark: 1 });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    this.held.push(() => callback());
  }
  /** Completes every write so far and lets the copy run freely from then on. */
  letGo(): void {
    this._write = (chunk: Buffer, _encoding, callback) => {
      this.chunks.push(Buffer.from(chunk));
      setImmediate(callback);
    };
    for (const complete of this.held.splice(0)) complete();
  }
}

async function copyOf(data: Buffer, budget: CopyBufferBudget): Promise<{ stream: FileRangeStream; sink: HeldSink; done: Promise<void> }> {
  const path = join(await mkdtemp(join(tmpdir(), 'stowage-copy-budget-')), 'blob');
  await writeFile(path, data);
  const stream = new FileRangeStream(await open(path, 'r'), 0, data.length, SMALL, undefined, budget);
  const sink = new HeldSink();
  const done = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  stream.reuseBuffersFor(sink);
  stream.pipe(sink);
  // The copy takes its buffers at once and then waits for its first write.
  await new Promise((resolve) => setImmediate(resolve));
  return { stream, sink, done };
}

describe('CopyBufferBudget', () => {
  it('gives big buffers to as many copies as the limit holds, small ones beyond, and takes them back when a copy ends', async () => {
    const budget = new CopyBufferBudget(BIG, SMALL, 4 * BIG);
    const data = randomBytes(10 * BIG + 3);
    const first = await copyOf(data, budget);
    const second = await copyOf(data, budget);
    const third = await copyOf(data, budget);
    expect([first, second, third].map(({ stream }) => stream.bytesAllocated)).toEqual([2 * BIG, 2 * BIG, 2 * SMALL]);
    expect(budget.inUse).toBe(4 * BIG);

    first.sink.letGo();
    await first.done;
    expect(Buffer.concat(first.sink.chunks).equals(data)).toBe(true);
    expect(budget.inUse).toBe(2 * BIG);
    const fourth = await copyOf(data, budget);
    expect(fourth.stream.bytesAllocated).toBe(2 * BIG);

    // A copy cut short (the client went away) gives its buffers back too.
    second.stream.destroy();
    await second.done;
    expect(budget.inUse).toBe(2 * BIG);
    for (const copy of [third, fourth]) {
      copy.sink.letGo();
      await copy.done;
      expect(Buffer.concat(copy.sink.chunks).equals(data)).toBe(true);
    }
    expect(budget.inUse).toBe(0);
  });

  it('sizes the buffers of a blob smaller than a big buffer to the blob', async () => {
    const budget = new CopyBufferBudget(BIG, SMALL, 4 * BIG);
    const data = randomBytes(BIG / 2);
    const copy = await copyOf(data, budget);
    expect(copy.stream.bytesAllocated).toBe(BIG);
    copy.sink.letGo();
    await copy.done;
    expect(Buffer.concat(copy.sink.chunks).equals(data)).toBe(true);
    expect(budget.inUse).toBe(0);
  });
});
