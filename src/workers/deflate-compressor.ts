/**
 * A compressor thread of the parallel gzip layer stream (protocol in
 * deflate-compressor-protocol.ts). Blocks are independent jobs: the thread keeps no state
 * between them, so any block may go to any thread and the output is the same.
 */
import { parentPort } from 'node:worker_threads';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import type { DeflateRequest, DeflateResponse } from './deflate-compressor-protocol.js';

/**
 * Output buffer size inside zlib: more than a block can grow to (stored blocks add 5 bytes per
 * 16 KiB), so a block's output is written into one buffer, which is handed to the main thread
 * whole. Smaller chunks would leave the chunks and their concatenation behind as garbage on this
 * thread, which allocates too few JS objects to be collected often: tens of MB of dead output
 * per thread piled up before a collection (peak RSS of a 1.1 GB build: 262 MB with 256 KiB
 * chunks, 228 MB with them collected every 8 blocks).
 */
const OUTPUT_CHUNK_BYTES = 1024 * 1024 + 64 * 1024;

function post(message: DeflateResponse, transfer: ArrayBuffer[]): void {
  parentPort?.postMessage(message, transfer);
}

/**
 * `bytes` as an ArrayBuffer that can be transferred, and where in it the bytes are: the buffer
 * zlib wrote into when it is its own (not a slice of Node's small-buffer pool), else a copy.
 */
function transferable(bytes: Buffer): { readonly buffer: ArrayBuffer; readonly offset: number } {
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && buffer.byteLength > Buffer.poolSize) return { buffer, offset: bytes.byteOffset };
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return { buffer: copy.buffer, offset: 0 };
}

parentPort?.on('message', (request: DeflateRequest) => {
  try {
    const input = new Uint8Array(request.buffer, request.dictionaryLength, request.length);
    const output = deflateRawSync(input, {
      level: request.level,
      chunkSize: OUTPUT_CHUNK_BYTES,
      finishFlush: request.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      ...(request.dictionaryLength > 0 ? { dictionary: new Uint8Array(request.buffer, 0, request.dictionaryLength) } : {}),
    });
    const out = transferable(output);
    const response = { type: 'done', output: out.buffer, outputOffset: out.offset, outputLength: output.byteLength, crc: crc32(input), input: request.buffer } as const;
    post(response, [out.buffer, request.buffer]);
  } catch (error) {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) }, []);
  }
});
