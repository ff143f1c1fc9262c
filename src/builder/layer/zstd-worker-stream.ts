import { createRequire } from 'node:module';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { WorkerPool } from '../../workers/worker-pool.js';

/**
 * zstd compression on a worker thread. zstd-napi compresses synchronously on the calling
 * thread; on the main thread that serialises compression with reading, tar encoding and
 * hashing, which `tar | zstd` runs on two cores. Moving it to a worker lets them overlap (gzip
 * gets the same from zlib's thread-pool work).
 *
 * The worker runs single-threaded zstd (`nbWorkers` 0) with the parameters given, so its
 * output is byte-identical to an in-thread `CompressStream`: single-threaded zstd output does
 * not depend on how the input is chunked.
 */

/** Chunks posted to the worker and not yet answered before the writable side pushes back. */
const MAX_IN_FLIGHT = 4;
/** Size of the buffers that carry input to the worker; larger chunks are sent in pieces. */
const TRANSFER_BYTES = 1024 * 1024;
/** Workers kept for reuse: starting one costs tens of milliseconds. */
const MAX_IDLE_WORKERS = 4;

/**
 * Worker source, CommonJS, evaluated as a string so it runs the same from `src/` and `dist/`.
 * Input buffers go back to the stream for reuse and output buffers are transferred out, so
 * the worker makes no garbage: a worker's heap is collected rarely, and transferred-in chunks
 * would pile up there (tens of MiB) until it is.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const binding = require(workerData.bindingPath);
const scratch = Buffer.allocUnsafeSlow(binding.cStreamOutSize());
const empty = new Uint8Array(0);
let cctx = null;

function compress(input, endOp) {
  const chunks = [];
  for (;;) {
    const [remaining, produced, consumed] = cctx.compressStream2(scratch, input, endOp);
    if (produced > 0) {
      const chunk = new Uint8Array(produced);
      chunk.set(scratch.subarray(0, produced));
      chunks.push(chunk.buffer);
    }
    input = input.subarray(consumed);
    if (input.length === 0 && (endOp === binding.EndDirective.continue || remaining === 0)) return chunks;
  }
}

parentPort.on('message', (message) => {
  try {
    if (message.type === 'start') {
      cctx = new binding.CCtx();
      for (const [name, value] of message.parameters) cctx.setParameter(binding.CParameter[name], value);
      return;
    }
    const last = message.type === 'end';
    const input = last ? empty : new Uint8Array(message.buffer, 0, message.length);
    const chunks = compress(input, last ? binding.EndDirective.end : binding.EndDirective.continue);
    if (last) cctx = null;
    const returned = last ? null : message.buffer;
    parentPort.postMessage({ type: 'output', chunks, input: returned, last }, returned ? [...chunks, returned] : chunks);
  } catch (error) {
    cctx = null;
    parentPort.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});
`;

/** zstd parameters by their zstd-napi `CParameter` names. */
export type ZstdParameters = ReadonlyArray<readonly [name: 'compressionLevel' | 'checksumFlag' | 'nbWorkers', value: number]>;

type WorkerMessage =
  | { readonly type: 'output'; readonly chunks: readonly ArrayBuffer[]; readonly input: ArrayBuffer | null; readonly last: boolean }
  | { readonly type: 'error'; readonly message: string };

/** A zstd-compressing transform whose compression runs on a pooled worker thread. */
export class ZstdWorkerStream extends Transform {
  private worker: Worker | undefined;
  private inFlight = 0;
  /** Write callback held back while MAX_IN_FLIGHT chunks are with the worker. */
  private held: TransformCallback | undefined;
  private flushed: TransformCallback | undefined;
  /** Transfer buffers the worker has handed back, for the next chunks. */
  private readonly spare: ArrayBuffer[] = [];

  constructor(parameters: ZstdParameters) {
    super();
    const worker = pool.acquire();
    this.worker = worker;
    worker.on('message', this.onMessage);
    worker.on('error', this.onFailure);
    worker.on('exit', this.onExit);
    worker.postMessage({ type: 'start', parameters });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Copied into buffers of our own, which can be transferred: the chunk may share memory
    // with other buffers (pools, file read buffers) that must stay usable here.
    for (let offset = 0; offset < chunk.length; offset += TRANSFER_BYTES) {
      const piece = chunk.subarray(offset, offset + TRANSFER_BYTES);
      const buffer = this.spare.pop() ?? new ArrayBuffer(TRANSFER_BYTES);
      new Uint8Array(buffer).set(piece);
      this.worker?.postMessage({ type: 'data', buffer, length: piece.length }, [buffer]);
      this.inFlight += 1;
    }
    if (this.inFlight < MAX_IN_FLIGHT) callback();
    else this.held = callback;
  }

  override _flush(callback: TransformCallback): void {
    this.flushed = callback;
    this.worker?.postMessage({ type: 'end' });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A worker torn away mid-frame holds compressor state nobody can use: end it.
    const worker = this.detach();
    if (worker) void worker.terminate();
    callback(error);
  }

  private readonly onMessage = (message: WorkerMessage): void => {
    if (message.type === 'error') {
      this.destroy(new Error(`zstd compression failed: ${message.message}`));
      return;
    }
    for (const chunk of message.chunks) this.push(Buffer.from(chunk));
    if (message.input) this.spare.push(message.input);
    if (message.last) {
      const worker = this.detach();
      if (worker) pool.release(worker);
      this.flushed?.();
      return;
    }
    this.inFlight -= 1;
    if (this.inFlight >= MAX_IN_FLIGHT || !this.held) return;
    const held = this.held;
    this.held = undefined;
    held();
  };

  private readonly onFailure = (error: Error): void => {
    this.detach();
    this.destroy(error);
  };

  private readonly onExit = (code: number): void => {
    this.detach();
    this.destroy(new Error(`zstd worker exited with code ${code}`));
  };

  private detach(): Worker | undefined {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      worker.off('message', this.onMessage);
      worker.off('error', this.onFailure);
      worker.off('exit', this.onExit);
      worker.unref();
    }
    return worker;
  }
}

const pool = new WorkerPool({
  maxIdle: MAX_IDLE_WORKERS,
  spawn: () => {
    const bindingPath = createRequire(import.meta.url).resolve('zstd-napi/binding');
    return new Worker(WORKER_SOURCE, { eval: true, workerData: { bindingPath } });
  },
});
