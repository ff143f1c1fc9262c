/**
 * The decoder thread of NarDecoderStream (protocol in nar-decoder-protocol.ts; why it exists in
 * src/sources/binary-cache/nar-decoder-worker.ts). The worker decodes only while it holds
 * output credit, in steps of one 128 KiB zstd output buffer or XZ_STEP bytes of xz input, and
 * fails once the output passes `maxOutput`. It hashes what it outputs.
 */
import { createHash, type Hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import type * as Zstd from 'zstd-napi/binding.js';
import type { DecoderMessage, DecoderRequest, StartJob, WorkerCompression } from './nar-decoder-protocol.js';

/**
 * The part of lzma-native's native stream used here, called synchronously: its handler gets
 * the output (then null at the end of the stream) or an error before code() returns.
 * lzma-native ships no types; these are its C++ binding's methods.
 */
interface NativeLzmaStream {
  streamDecoder_(memlimit: number, flags: number): void;
  setBufsize(bytes: number): void;
  code(input: Buffer | null, async: boolean): void;
  resetUnderlying(): void;
  bufferHandler: (buffer: Buffer | null | undefined, processed: unknown, error: Error | null | undefined) => void;
}

interface LzmaNative {
  readonly Stream: new () => NativeLzmaStream;
}

interface XzState {
  readonly stream: NativeLzmaStream;
  outputs: Buffer[];
  error: Error | null;
  ended: boolean;
}

interface Job {
  readonly id: number;
  readonly compression: WorkerCompression;
  readonly maxOutput: number;
  readonly inputs: Buffer[];
  readonly hash: Hash;
  credit: number;
  ending: boolean;
  size: number;
  batch: Buffer[];
  batchBytes: number;
  readonly dctx: Zstd.DCtx | null;
  zstdInFrame: boolean;
  zstdMore: boolean;
  readonly xz: XzState | null;
}

const require = createRequire(import.meta.url);
// Native CommonJS modules: required, not imported, as their own packages do.
const binding = require('zstd-napi/binding') as typeof Zstd;
const ZSTD_OUT = binding.dStreamOutSize();
const XZ_STEP = 16 * 1024;
const OUTPUT_BATCH = 256 * 1024;
let lzma: LzmaNative | null = null;
let job: Job | null = null;

function post(message: DecoderMessage, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

function drop(): void {
  job?.xz?.stream.resetUnderlying();
  job = null;
}

function fail(message: string): void {
  const id = job ? job.id : -1;
  drop();
  post({ type: 'error', id, message });
}

function required(value: number | undefined, name: string): number {
  if (value === undefined) throw new Error(`${name} is required for this compression`);
  return value;
}

function start(message: StartJob): void {
  drop();
  let dctx: Zstd.DCtx | null = null;
  let xz: XzState | null = null;
  if (message.compression === 'zstd') {
    dctx = new binding.DCtx();
    dctx.setParameter(binding.DParameter.windowLogMax, required(message.windowLogMax, 'windowLogMax'));
  } else if (message.compression === 'xz') {
    lzma ??= require('lzma-native') as LzmaNative;
    const state: XzState = { stream: new lzma.Stream(), outputs: [], error: null, ended: false };
    state.stream.streamDecoder_(required(message.xzMemlimit, 'xzMemlimit'), 0);
    state.stream.setBufsize(required(message.xzOutputBytes, 'xzOutputBytes'));
    state.stream.bufferHandler = (buffer, _processed, error) => {
      if (error) state.error = error;
      else if (buffer === null) state.ended = true;
      else if (buffer) state.outputs.push(buffer);
    };
    xz = state;
  }
  job = {
    id: message.id,
    compression: message.compression,
    maxOutput: message.maxOutput,
    inputs: [],
    hash: createHash('sha256'),
    credit: 0,
    ending: false,
    size: 0,
    batch: [],
    batchBytes: 0,
    dctx,
    zstdInFrame: false,
    zstdMore: false,
    xz,
  };
}

function emit(current: Job, piece: Buffer): void {
  if (piece.length === 0) return;
  current.size += piece.length;
  if (current.size > current.maxOutput) throw new Error(`decompresses to more than its NarSize ${current.maxOutput}`);
  current.hash.update(piece);
  current.credit -= piece.length;
  current.batch.push(piece);
  current.batchBytes += piece.length;
  if (current.batchBytes >= OUTPUT_BATCH) flushBatch(current);
}

function flushBatch(current: Job): void {
  if (current.batchBytes === 0) return;
  const single = current.batch.length === 1 ? current.batch[0] : undefined;
  const whole = single !== undefined && single.byteOffset === 0 && single.length === single.buffer.byteLength;
  // A fresh ArrayBuffer of exactly the batch (Buffer.concat may hand out a slice of the pool).
  let out = single && whole && single.buffer instanceof ArrayBuffer ? single.buffer : null;
  if (!out) {
    const copy = new Uint8Array(current.batchBytes);
    let offset = 0;
    for (const piece of current.batch) {
      copy.set(piece, offset);
      offset += piece.length;
    }
    out = copy.buffer;
  }
  current.batch = [];
  current.batchBytes = 0;
  post({ type: 'output', id: current.id, chunk: out }, [out]);
}

function consumed(current: Job): void {
  current.inputs.shift();
  post({ type: 'consumed', id: current.id });
}

function xzCode(current: Job, xz: XzState, input: Buffer | null): void {
  if (xz.ended && input !== null && input.length > 0) throw new Error('data after the end of the xz stream');
  xz.outputs = [];
  xz.stream.code(input, false);
  if (xz.error) throw xz.error;
  for (const output of xz.outputs) emit(current, output);
}

/** One bounded step of decoding; false when there is nothing to do without more input. */
function step(current: Job): boolean {
  const input = current.inputs[0];
  if (current.dctx) {
    if (!input && !current.zstdMore) return false;
    const out = Buffer.allocUnsafeSlow(ZSTD_OUT);
    const [ret, produced, used] = current.dctx.decompressStream(out, input ?? Buffer.alloc(0));
    current.zstdInFrame = ret !== 0;
    current.zstdMore = produced === out.length;
    if (input) {
      const rest = input.subarray(used);
      current.inputs[0] = rest;
      if (rest.length === 0) consumed(current);
    }
    emit(current, out.subarray(0, produced));
    return true;
  }
  if (!input) return false;
  if (current.xz) {
    const slice = input.subarray(0, XZ_STEP);
    const rest = input.subarray(slice.length);
    current.inputs[0] = rest;
    if (rest.length === 0) consumed(current);
    xzCode(current, current.xz, slice);
    return true;
  }
  consumed(current);
  emit(current, input);
  return true;
}

function pump(current: Job): void {
  // `job` changes only through messages, which wait for this loop; a failed step throws.
  while (current.credit > 0 && step(current)) {
    /* decode while credit lasts */
  }
  flushBatch(current);
  if (!current.ending || current.inputs.length > 0 || current.zstdMore) return;
  if (current.zstdInFrame) throw new Error('the stream ends in the middle of a zstd frame (truncated)');
  if (current.xz) {
    xzCode(current, current.xz, null);
    if (!current.xz.ended) throw new Error('the xz stream is truncated');
    current.xz.stream.resetUnderlying();
    flushBatch(current);
  }
  const digest = new Uint8Array(current.hash.digest());
  job = null;
  post({ type: 'done', id: current.id, digest: digest.buffer, size: current.size });
}

parentPort?.on('message', (message: DecoderRequest) => {
  try {
    if (message.type === 'start') {
      start(message);
      return;
    }
    const current = job;
    if (!current || message.id !== current.id) return;
    if (message.type === 'abort') return drop();
    if (message.type === 'data') current.inputs.push(Buffer.from(message.chunk));
    else if (message.type === 'more') current.credit += message.bytes;
    else current.ending = true;
    pump(current);
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
});
