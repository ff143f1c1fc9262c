/**
 * The code of NarDecoderStream's worker thread (see nar-decoder-worker.ts for the protocol's
 * purpose). Messages in: `start` {id, compression, maxOutput, limits}, `data` {id, chunk},
 * `more` {id, bytes of output credit}, `end` {id}, `abort` {id}. Messages out, each with the
 * job's id: `output` {chunk}, `consumed` (one `data` message fully read), `done` {digest, size},
 * `error` {message}. The worker decodes only while it holds output credit, in steps of one
 * 128 KiB zstd output buffer or XZ_STEP bytes of xz input, and fails once the output passes
 * `maxOutput`.
 */
/** Worker source, CommonJS, evaluated as a string so it runs the same from `src/` and `dist/`. */
export const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const binding = require(workerData.bindingPath);
const ZSTD_OUT = binding.dStreamOutSize();
const XZ_STEP = 16 * 1024;
const OUTPUT_BATCH = 256 * 1024;
let lzma = null;
let job = null;

function drop() {
  if (job && job.xz) job.xz.stream.resetUnderlying();
  job = null;
}

function fail(message) {
  const id = job ? job.id : -1;
  drop();
  parentPort.postMessage({ type: 'error', id, message });
}

function start(message) {
  drop();
  job = {
    id: message.id,
    compression: message.compression,
    maxOutput: message.maxOutput,
    inputs: [],
    credit: 0,
    ending: false,
    hash: createHash('sha256'),
    size: 0,
    batch: [],
    batchBytes: 0,
    dctx: null,
    zstdInFrame: false,
    zstdMore: false,
    xz: null,
  };
  if (job.compression === 'zstd') {
    job.dctx = new binding.DCtx();
    job.dctx.setParameter(binding.DParameter.windowLogMax, message.windowLogMax);
  } else if (job.compression === 'xz') {
    lzma ??= require(workerData.lzmaPath);
    // liblzma through lzma-native's native stream, called synchronously: its handler gets the
    // output (then null at the end of the stream) or an error before code() returns.
    const xz = { stream: new lzma.Stream(), outputs: [], error: null, ended: false };
    xz.stream.streamDecoder_(message.xzMemlimit, 0);
    xz.stream.setBufsize(message.xzOutputBytes);
    xz.stream.bufferHandler = (buffer, processed, error) => {
      if (error) xz.error = error;
      else if (buffer === null) xz.ended = true;
      else if (buffer) xz.outputs.push(buffer);
    };
    job.xz = xz;
  }
}

function emit(piece) {
  if (piece.length === 0) return;
  job.size += piece.length;
  if (job.size > job.maxOutput) throw new Error('decompresses to more than its NarSize ' + job.maxOutput);
  job.hash.update(piece);
  job.credit -= piece.length;
  job.batch.push(piece);
  job.batchBytes += piece.length;
  if (job.batchBytes >= OUTPUT_BATCH) flushBatch();
}

function flushBatch() {
  if (job.batchBytes === 0) return;
  const single = job.batch.length === 1 ? job.batch[0] : null;
  const whole = single && single.byteOffset === 0 && single.length === single.buffer.byteLength;
  // A fresh ArrayBuffer of exactly the batch (Buffer.concat may hand out a slice of the pool).
  let out = single && whole ? single.buffer : null;
  if (!out) {
    const copy = new Uint8Array(job.batchBytes);
    let offset = 0;
    for (const piece of job.batch) {
      copy.set(piece, offset);
      offset += piece.length;
    }
    out = copy.buffer;
  }
  job.batch = [];
  job.batchBytes = 0;
  parentPort.postMessage({ type: 'output', id: job.id, chunk: out }, [out]);
}

function consumed() {
  job.inputs.shift();
  parentPort.postMessage({ type: 'consumed', id: job.id });
}

function xzCode(input) {
  const xz = job.xz;
  if (xz.ended && input !== null && input.length > 0) throw new Error('data after the end of the xz stream');
  xz.outputs = [];
  xz.stream.code(input, false);
  if (xz.error) throw xz.error;
  for (const output of xz.outputs) emit(output);
}

/** One bounded step of decoding; false when there is nothing to do without more input. */
function step() {
  const input = job.inputs[0];
  if (job.compression === 'zstd') {
    if (!input && !job.zstdMore) return false;
    const out = Buffer.allocUnsafeSlow(ZSTD_OUT);
    const [ret, produced, used] = job.dctx.decompressStream(out, input || Buffer.alloc(0));
    job.zstdInFrame = ret !== 0;
    job.zstdMore = produced === out.length;
    if (input) {
      job.inputs[0] = input.subarray(used);
      if (job.inputs[0].length === 0) consumed();
    }
    emit(out.subarray(0, produced));
    return true;
  }
  if (!input) return false;
  if (job.compression === 'xz') {
    const slice = input.subarray(0, XZ_STEP);
    job.inputs[0] = input.subarray(slice.length);
    if (job.inputs[0].length === 0) consumed();
    xzCode(slice);
    return true;
  }
  consumed();
  emit(input);
  return true;
}

function pump() {
  while (job && job.credit > 0 && step()) {}
  if (!job) return;
  flushBatch();
  if (!job.ending || job.inputs.length > 0 || job.zstdMore) return;
  if (job.zstdInFrame) throw new Error('the stream ends in the middle of a zstd frame (truncated)');
  if (job.xz) {
    xzCode(null);
    if (!job.xz.ended) throw new Error('the xz stream is truncated');
    job.xz.stream.resetUnderlying();
    flushBatch();
  }
  const digest = job.hash.digest();
  const { id, size } = job;
  job = null;
  parentPort.postMessage({ type: 'done', id, digest: digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.length), size });
}

parentPort.on('message', (message) => {
  try {
    if (message.type === 'start') start(message);
    else if (!job || message.id !== job.id) return;
    else if (message.type === 'abort') return drop();
    else if (message.type === 'data') job.inputs.push(Buffer.from(message.chunk));
    else if (message.type === 'more') job.credit += message.bytes;
    else if (message.type === 'end') job.ending = true;
    if (message.type !== 'start') pump();
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
});
`;
