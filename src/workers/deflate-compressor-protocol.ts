/**
 * Messages between the gzip layer stream (builder/layer/parallel-gzip-stream.ts) and its
 * compressor threads (deflate-compressor.ts). Each request is one block, compressed on its own
 * into raw deflate: `buffer` holds `dictionaryLength` bytes of preset dictionary (the input just
 * before the block) followed by `length` bytes of input. A block that is not `last` ends with a
 * sync flush (byte aligned, no final bit), so the blocks' outputs concatenate into one deflate
 * stream. The answer carries the output (`outputLength` bytes at `outputOffset` of `output`:
 * the buffer zlib wrote into, moved rather than copied), the block's CRC-32 and the input
 * buffer, handed back for reuse.
 */

export interface DeflateRequest {
  readonly buffer: ArrayBuffer;
  readonly dictionaryLength: number;
  readonly length: number;
  readonly level: number;
  readonly last: boolean;
}

export type DeflateResponse =
  | {
      readonly type: 'done';
      readonly output: ArrayBuffer;
      readonly outputOffset: number;
      readonly outputLength: number;
      readonly crc: number;
      readonly input: ArrayBuffer;
    }
  | { readonly type: 'error'; readonly message: string };
