import { randomBytes } from 'node:crypto';
import type { Transform } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CompressStream, decompress } from 'zstd-napi';
import { compressionLevel, createCompressor, type LayerCompression } from '../../../../src/builder/layer/compression.js';
import { ZstdWorkerStream } from '../../../../src/builder/layer/zstd-worker-stream.js';
import { sha, split, throughStages } from '../../../support/stream-bytes.js';

/** 1 MiB mixing compressible text and random bytes. */
const INPUT = Buffer.concat([Buffer.from('lorem ipsum dolor sit amet '.repeat(20_000)), randomBytes(300_000), Buffer.alloc(200_000)]);

const compress = (stages: Transform[], chunks: readonly Buffer[]): Promise<Buffer> => throughStages(chunks, stages);

describe('createCompressor', () => {
  it.each<LayerCompression>(['gzip', 'zstd'])('%s output does not depend on input chunking', async (compression) => {
    const whole = await compress(createCompressor(compression), [INPUT]);
    const small = await compress(createCompressor(compression), split(INPUT, 777));
    const large = await compress(createCompressor(compression), split(INPUT, 300_000));
    expect(sha(small)).toBe(sha(whole));
    expect(sha(large)).toBe(sha(whole));
    const restored = compression === 'gzip' ? gunzipSync(whole) : decompress(whole);
    expect(restored.equals(INPUT)).toBe(true);
  });

  it('pins the gzip header: no mtime, no name, OS 3', async () => {
    for (const level of [1, 6, 9]) {
      const out = await compress(createCompressor('gzip', level), [INPUT]);
      expect([...out.subarray(0, 4), ...out.subarray(4, 8)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
      expect(out[9]).toBe(3);
    }
  });

  it('compresses zstd on a worker with the same bytes as zstd-napi in-thread', async () => {
    const inThread = await compress([new CompressStream({ compressionLevel: 3, checksumFlag: true })], split(INPUT, 65_536));
    const worker = await compress(createCompressor('zstd', 3), split(INPUT, 65_536));
    expect(sha(worker)).toBe(sha(inThread));
  });

  it('uses the requested level', async () => {
    const fast = await compress(createCompressor('zstd', 1), [INPUT]);
    const best = await compress(createCompressor('zstd', 9), [INPUT]);
    expect(sha(fast)).not.toBe(sha(best));
    expect(decompress(best).equals(INPUT)).toBe(true);
  });

  it('validates levels', () => {
    expect(compressionLevel('gzip')).toBe(6);
    expect(compressionLevel('zstd')).toBe(3);
    expect(compressionLevel('gzip', 0)).toBe(0);
    expect(() => compressionLevel('gzip', 10)).toThrow(RangeError);
    expect(() => compressionLevel('gzip', 1.5)).toThrow(RangeError);
    expect(() => compressionLevel('zstd', 0)).toThrow(RangeError);
    expect(() => compressionLevel('zstd', 20)).toThrow(RangeError);
  });
});

describe('ZstdWorkerStream', () => {
  it('keeps working after a stream is destroyed mid-frame', async () => {
    const broken = new ZstdWorkerStream([['compressionLevel', 3]]);
    broken.write(INPUT.subarray(0, 100_000));
    broken.destroy(new Error('cancelled'));
    await expect(new Promise((_, reject) => broken.on('error', reject))).rejects.toThrow('cancelled');
    const out = await compress([new ZstdWorkerStream([['compressionLevel', 3]])], [INPUT]);
    expect(decompress(out).equals(INPUT)).toBe(true);
  });

  it('runs several streams at once', async () => {
    const inputs = [INPUT, INPUT.subarray(1000), Buffer.from('tiny')];
    const outputs = await Promise.all(inputs.map((input) => compress([new ZstdWorkerStream([['compressionLevel', 3]])], split(input, 50_000))));
    outputs.forEach((out, i) => expect(decompress(out).equals(inputs[i] ?? Buffer.alloc(0))).toBe(true));
  });
});
