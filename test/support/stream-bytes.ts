import { createHash } from 'node:crypto';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Feed `chunks` through `stages` and collect everything the last stage emits. */
export async function throughStages(chunks: readonly Buffer[], stages: readonly Transform[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline([Readable.from(chunks, { objectMode: false }), ...stages, sink]);
  return Buffer.concat(out);
}

/** `buffer` cut into chunks of `size` bytes (the last one shorter), as a stream would deliver it. */
export function split(buffer: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += size) chunks.push(buffer.subarray(offset, offset + size));
  return chunks;
}

/** Hex sha256 of `buffer`. */
export const sha = (buffer: Buffer): string => createHash('sha256').update(buffer).digest('hex');
