import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { constants, crc32, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockBudget } from '../../../../src/builder/layer/block-budget.js';
import { crc32Combine } from '../../../../src/builder/layer/crc32-combine.js';
import { DeflateWorkers, type DeflateCompressors, type DeflateRequest, type DeflateResponse } from '../../../../src/builder/layer/deflate-workers.js';
import { GZIP_BLOCK_BYTES, ParallelGzipStream } from '../../../../src/builder/layer/parallel-gzip-stream.js';
import { sha, split, throughStages } from '../../../support/stream-bytes.js';

/** Deterministic bytes, half of them compressible: AES-CTR noise alternating with text. */
function sample(length: number): Buffer {
  const noise = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16)).update(Buffer.alloc(length));
  const text = Buffer.from('the quick brown fox jumps over the lazy dog '.repeat(Math.ceil(length / 44) + 1));
  for (let offset = 0; offset < length; offset += 8192) text.copy(noise, offset, offset, Math.min(offset + 4096, length));
  return noise;
}

async function gzip(compressors: DeflateCompressors, chunks: readonly Buffer[], level = 6): Promise<Buffer> {
  return throughStages(chunks, [new ParallelGzipStream(compressors, level)]);
}

/**
 * Compresses in this thread, like the workers, and answers in an order of its own choosing:
 * `reverse` holds answers back and releases them last-first, so blocks finish out of order.
 */
class InThreadCompressors implements DeflateCompressors {
  submitted = 0;
  /** Input bytes of blocks submitted whose place is not given back yet, and the most at once. */
  outstandingBytes = 0;
  peakOutstandingBytes = 0;
  private held: Array<() => void> = [];

  constructor(
    readonly size: number,
    private readonly mode: 'reverse' | 'never' | 'fail' = 'reverse',
    readonly budget = new BlockBudget(1000),
  ) {}

  async reserve(): Promise<() => void> {
    const release = await this.budget.reserve();
    let given = false;
    return () => {
      // Every block buffer of a stream has the same size: dictionary and block.
      if (!given) this.outstandingBytes -= 32 * 1024 + GZIP_BLOCK_BYTES;
      given = true;
      release();
    };
  }

  async submit(request: DeflateRequest): Promise<{ result: Promise<DeflateResponse> }> {
    this.submitted += 1;
    this.outstandingBytes += request.buffer.byteLength;
    this.peakOutstandingBytes = Math.max(this.peakOutstandingBytes, this.outstandingBytes);
    const input = new Uint8Array(request.buffer, request.dictionaryLength, request.length);
    const dictionary = request.dictionaryLength > 0 ? { dictionary: new Uint8Array(request.buffer, 0, request.dictionaryLength) } : {};
    const flush = request.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH;
    const compressed = deflateRawSync(input, { level: request.level, finishFlush: flush, ...dictionary });
    // Answered at an offset inside a bigger buffer, as the threads answer.
    const output = new Uint8Array(compressed.length + 20);
    output.set(compressed, 7);
    const response: DeflateResponse =
      this.mode === 'fail'
        ? { type: 'error', message: 'disk on fire' }
        : { type: 'done', output: output.buffer, outputOffset: 7, outputLength: compressed.length, crc: crc32(input), input: request.buffer };
    const result = new Promise<DeflateResponse>((resolve) => this.held.push(() => resolve(response)));
    if (this.mode !== 'never' && (request.last || this.held.length >= this.size)) this.releaseAll();
    return { result };
  }

  private releaseAll(): void {
    const held = this.held.reverse();
    this.held = [];
    for (const release of held) release();
  }
}

const workers: DeflateWorkers[] = [];
function pool(size: number): DeflateWorkers {
  const created = new DeflateWorkers(size);
  workers.push(created);
  return created;
}
afterAll(() => workers.splice(0));

describe('ParallelGzipStream', () => {
  const input = sample(3.5 * GZIP_BLOCK_BYTES);

  it('gives the same bytes with 1 or 3 threads, any chunking and any completion order', async () => {
    const one = await gzip(pool(1), [input]);
    const three = await gzip(pool(3), split(input, 777_777));
    const reordered = await gzip(new InThreadCompressors(3), split(input, 65_536));
    expect(sha(three)).toBe(sha(one));
    expect(sha(reordered)).toBe(sha(one));
    expect(gunzipSync(one).equals(input)).toBe(true);
  });

  it.each([0, 1, GZIP_BLOCK_BYTES - 1, GZIP_BLOCK_BYTES, GZIP_BLOCK_BYTES + 1, 2 * GZIP_BLOCK_BYTES])(
    'writes one gzip member that gunzip restores, for %d bytes',
    async (length) => {
      const data = input.subarray(0, length);
      const out = await gzip(pool(2), split(data, 100_000));
      expect(gunzipSync(out).equals(data)).toBe(true);
      // The command line gunzip checks the CRC-32 and length trailer as well.
      expect(execFileSync('gzip', ['-dc'], { input: out, maxBuffer: 64 * 2 ** 20 }).equals(data)).toBe(true);
      expect(out.readUInt32LE(out.length - 8)).toBe(crc32(data));
    },
  );

  it('gives what a single zlib gzip stream gives for at most one block, at any level', async () => {
    const small = input.subarray(0, GZIP_BLOCK_BYTES);
    for (const level of [1, 6, 9]) {
      const expected = gzipSync(small, { level });
      expected[9] = 3;
      expect(sha(await gzip(pool(2), split(small, 50_000), level))).toBe(sha(expected));
    }
  });

  it('holds writes back while its blocks are with the threads: at most size + 1 in flight', async () => {
    const stuck = new InThreadCompressors(2, 'never');
    const stream = new ParallelGzipStream(stuck, 6);
    stream.resume();
    const chunks = split(sample(12 * GZIP_BLOCK_BYTES), GZIP_BLOCK_BYTES);
    let accepted = 0;
    for (const chunk of chunks) {
      const written = new Promise<void>((resolve) => stream.write(chunk, () => resolve()));
      const settled = await Promise.race([written.then(() => true), new Promise((resolve) => setImmediate(() => resolve(false)))]);
      if (!settled) break;
      accepted += 1;
    }
    expect(stuck.submitted).toBe(3);
    expect(accepted).toBeLessThan(chunks.length);
    stream.destroy();
  });

  it("gives the input's sha256 and size as diff_id, whatever the chunking and completion order", async () => {
    const input = sample(2 * GZIP_BLOCK_BYTES + 12_345);
    for (const [chunks, compressors] of [
      [split(input, 511), new InThreadCompressors(3)],
      [split(input, GZIP_BLOCK_BYTES + 1), new InThreadCompressors(2)],
      [[Buffer.alloc(0)], new InThreadCompressors(1)],
    ] as const) {
      const stream = new ParallelGzipStream(compressors, 1);
      expect(() => stream.diffId).toThrow('before the tar stream ended');
      await throughStages(chunks, [stream]);
      const whole = Buffer.concat(chunks);
      expect(stream.diffId).toBe(`sha256:${sha(whole)}`);
      expect(stream.size).toBe(whole.length);
    }
  });

  it('pushes no chunk that keeps alive a buffer much larger than itself, compressible input or not', async () => {
    const stream = new ParallelGzipStream(pool(2), 6);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));
    // Zeros compress to about 1 KiB per block; the noise does not compress.
    for (const piece of [Buffer.alloc(3 * GZIP_BLOCK_BYTES), sample(2 * GZIP_BLOCK_BYTES), Buffer.alloc(GZIP_BLOCK_BYTES + 9)]) stream.write(piece);
    stream.end();
    await done;
    expect(chunks.length).toBeGreaterThan(6);
    for (const chunk of chunks) expect(chunk.buffer.byteLength).toBeLessThanOrEqual(Math.max(2 * chunk.length, Buffer.poolSize));
  });

  it('fails the stream when a thread reports an error', async () => {
    await expect(gzip(new InThreadCompressors(2, 'fail'), [input])).rejects.toThrow('gzip compression failed: disk on fire');
  });
});

describe('the block budget shared by every stream', () => {
  /** Bytes a block holds while it has a place: its input buffer (dictionary and block). */
  const BLOCK_BUFFER_BYTES = 32 * 1024 + GZIP_BLOCK_BYTES;

  it('keeps the blocks in flight of all streams together within the budget, with the same bytes out', async () => {
    const budget = new BlockBudget(3);
    // Each stream alone may have threads + 1 = 4 blocks in flight; all four together only 3.
    const shared = new InThreadCompressors(3, 'reverse', budget);
    const inputs = [0, 1, 2, 3].map((i) => sample(4 * GZIP_BLOCK_BYTES + 1000 * i));
    const outputs = await Promise.all(inputs.map((data) => gzip(shared, split(data, 300_000))));
    const alone = await Promise.all(inputs.map((data) => gzip(new InThreadCompressors(1), [data])));
    outputs.forEach((out, i) => expect(sha(out)).toBe(sha(alone[i] as Buffer)));
    expect(budget.stats.peakHeld).toBe(3);
    expect(shared.peakOutstandingBytes).toBe(3 * BLOCK_BUFFER_BYTES);
    expect(shared.outstandingBytes).toBe(0);
    expect(budget.stats).toMatchObject({ held: 0, waiting: 0 });
    // 4 blocks for the first input, 5 for the others.
    expect(shared.submitted).toBe(19);
  });

  it('gives the places of a destroyed stream back, so a waiting stream goes on', async () => {
    const budget = new BlockBudget(2);
    const stuck = new ParallelGzipStream(new InThreadCompressors(2, 'never', budget), 6);
    stuck.resume();
    stuck.write(sample(3 * GZIP_BLOCK_BYTES + 5));
    await new Promise((resolve) => setImmediate(resolve));
    expect(budget.stats.held).toBe(2);
    const data = sample(2 * GZIP_BLOCK_BYTES + 3);
    const waiting = gzip(new InThreadCompressors(2, 'reverse', budget), [data]);
    await new Promise((resolve) => setImmediate(resolve));
    // The stuck stream's third block waits too, first in line: it gets a place and gives it back.
    expect(budget.stats.waiting).toBe(2);
    stuck.destroy();
    expect(gunzipSync(await waiting).equals(data)).toBe(true);
    expect(budget.stats).toMatchObject({ held: 0, waiting: 0 });
  });

  it('grants places first come, first served, and a place given back twice counts once', async () => {
    const budget = new BlockBudget(1);
    const first = await budget.reserve();
    const order: string[] = [];
    const second = budget.reserve().then((release) => (order.push('second'), release));
    const third = budget.reserve().then((release) => (order.push('third'), release));
    first();
    first();
    (await second)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    expect(budget.stats).toMatchObject({ held: 0, peakHeld: 1, waiting: 0 });
    expect(() => new BlockBudget(0)).toThrow(RangeError);
  });
});

describe('DeflateWorkers', () => {
  it('runs at most `size` blocks at once however many streams compress', async () => {
    const shared = pool(2);
    const inputs = [0, 1, 2, 3].map((i) => sample(3 * GZIP_BLOCK_BYTES + i));
    const outputs = await Promise.all(inputs.map((data) => gzip(shared, split(data, 256 * 1024))));
    outputs.forEach((out, i) => expect(gunzipSync(out).equals(inputs[i] as Buffer)).toBe(true));
    expect(shared.stats.workers).toBeLessThanOrEqual(2);
    expect(shared.stats.peakBusy).toBe(2);
    expect(shared.stats.peakAdmitted).toBeLessThanOrEqual(4);
    expect(shared.stats.admitted).toBe(0);
    expect(shared.budgetStats.peakHeld).toBeLessThanOrEqual(4);
    expect(shared.budgetStats.held).toBe(0);
  });
});

describe('crc32Combine', () => {
  it('is the CRC-32 of the concatenation', () => {
    const data = sample(100_000);
    for (const cut of [0, 1, 4096, 65_535, 99_999, 100_000]) {
      const [a, b] = [data.subarray(0, cut), data.subarray(cut)];
      expect(crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(data));
    }
  });
});
