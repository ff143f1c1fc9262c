import { Transform, type TransformCallback } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../workers/module-worker.js';
import type { CompressorMessage, CompressorRequest, ZstdParameters } from '../../workers/zstd-compressor-protocol.js';
import { WorkerPool } from '../../workers/worker-pool.js';

export type { ZstdParameters } from '../../workers/zstd-compressor-protocol.js';

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
    this.send({ type: 'start', parameters });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Copied into buffers of our own, which can be transferred: the chunk may share memory
    // with other buffers (pools, file read buffers) that must stay usable here.
    for (let offset = 0; offset < chunk.length; offset += TRANSFER_BYTES) {
      const piece = chunk.subarray(offset, offset + TRANSFER_BYTES);
      const buffer = this.spare.pop() ?? new ArrayBuffer(TRANSFER_BYTES);
      new Uint8Array(buffer).set(piece);
      this.send({ type: 'data', buffer, length: piece.length }, [buffer]);
      this.inFlight += 1;
    }
    if (this.inFlight < MAX_IN_FLIGHT) callback();
    else this.held = callback;
  }

  override _flush(callback: TransformCallback): void {
    this.flushed = callback;
    this.send({ type: 'end' });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A worker torn away mid-frame holds compressor state nobody can use: end it.
    const worker = this.detach();
    if (worker) void worker.terminate();
    callback(error);
  }

  private send(message: CompressorRequest, transfer: ArrayBuffer[] = []): void {
    this.worker?.postMessage(message, transfer);
  }

  private readonly onMessage = (message: CompressorMessage): void => {
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

/** One pool of compressor threads (src/workers/zstd-compressor.ts) for every layer. */
const pool = new WorkerPool({ maxIdle: MAX_IDLE_WORKERS, spawn: () => startModuleWorker('zstd-compressor') });
