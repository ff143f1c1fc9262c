import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { constants, crc32, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
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
  private held: Array<() => void> = [];

  constructor(
    readonly size: number,
    private readonly mode: 'reverse' | 'never' | 'fail' = 'reverse',
  ) {}

  async submit(request: DeflateRequest): Promise<{ result: Promise<DeflateResponse> }> {
    this.submitted += 1;
    const input = new Uint8Array(request.buffer, request.dictionaryLength, request.length);
    const dictionary = request.dictionaryLength > 0 ? { dictionary: new Uint8Array(request.buffer, 0, request.dictionaryLength) } : {};
    const flush = request.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH;
    const output = Uint8Array.from(deflateRawSync(input, { level: request.level, finishFlush: flush, ...dictionary })).buffer;
    const response: DeflateResponse = this.mode === 'fail' ? { type: 'error', message: 'disk on fire' } : { type: 'done', output, crc: crc32(input), input: request.buffer };
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

  it('fails the stream when a thread reports an error', async () => {
    await expect(gzip(new InThreadCompressors(2, 'fail'), [input])).rejects.toThrow('gzip compression failed: disk on fire');
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
