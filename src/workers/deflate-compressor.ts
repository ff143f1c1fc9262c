/**
 * A compressor thread of the parallel gzip layer stream (protocol in
 * deflate-compressor-protocol.ts). Blocks are independent jobs: the thread keeps no state
 * between them, so any block may go to any thread and the output is the same.
 */
import { parentPort } from 'node:worker_threads';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import type { DeflateRequest, DeflateResponse } from './deflate-compressor-protocol.js';

/** Output chunk size inside zlib: a block's output is gathered from chunks of this size. */
const OUTPUT_CHUNK_BYTES = 256 * 1024;

function post(message: DeflateResponse, transfer: ArrayBuffer[]): void {
  parentPort?.postMessage(message, transfer);
}

/** An ArrayBuffer holding exactly `bytes`, which can be transferred (not a pool slice). */
function ownBuffer(bytes: Buffer): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  if (whole && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
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
    const out = ownBuffer(output);
    post({ type: 'done', output: out, crc: crc32(input), input: request.buffer }, [out, request.buffer]);
  } catch (error) {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) }, []);
  }
});
