import { Duplex } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../workers/module-worker.js';
import type { DecoderMessage, DecoderRequest, WorkerCompression } from '../../workers/nar-decoder-protocol.js';
import { WorkerPool } from '../../workers/worker-pool.js';

export type { WorkerCompression } from '../../workers/nar-decoder-protocol.js';

/**
 * NAR decompression (zstd, xz) and hashing on a worker thread. On the main thread they would
 * be serialised with NAR parsing, tar encoding and the layer's own hashing; on a worker they
 * overlap with them, as layer compression already does (ZstdWorkerStream), and the decoder runs
 * ahead of the parser. The worker hashes what it outputs, so the NAR's SHA-256 and size are
 * known when the stream ends and the main thread does not hash the NAR again.
 *
 * Memory stays bounded even for a decompression bomb: the worker decodes in small steps (one
 * 128 KiB zstd output buffer, or 16 KiB of xz input, at a time), only while it holds credit,
 * which the reading side grants as it consumes output, and it fails as soon as the output
 * exceeds the NAR's declared size. (zstd-napi's and lzma-native's own streams decode a whole
 * input chunk regardless of backpressure; lzma-native's async mode also idles the decoder for
 * a main-thread round trip per chunk.)
 *
 * Used for `zstd`, `xz` and `none` NARs; gzip and brotli decoders (Node's zlib) run on libuv's
 * pool with backpressure, and bzip2 (rare, pure JS) stays on the main thread.
 */

/** Input batches with the worker before the writable side pushes back. */
const MAX_IN_FLIGHT = 4;
const MAX_IDLE_WORKERS = 4;
/** Input gathered into one message to the worker. */
const BATCH_BYTES = 256 * 1024;
/** Output the worker may produce ahead of the reader, granted this much at a time. */
const CREDIT_BYTES = 2 * 1024 * 1024;


/** Job ids: a pooled worker's messages for an earlier, aborted job are told apart by them. */
let nextJobId = 0;

/** Memory bounds of the decoders. */
export interface DecoderLimits {
  readonly zstdWindowLogMax: number;
  readonly xzMemlimit: number;
  readonly xzOutputBytes: number;
}

/** What the worker measured of the decoded NAR. */
export interface DecodedNarDigest {
  readonly sha256: Buffer;
  readonly size: number;
}

/**
 * A duplex from a zstd, xz or uncompressed NAR (written) to the NAR (read), decoding and
 * hashing on a worker thread; it fails when the output exceeds `maxOutput` (the NarSize).
 */
export class NarDecoderStream extends Duplex {
  private worker: Worker | undefined;
  private inFlight = 0;
  private heldWrite: ((error?: Error | null) => void) | undefined;
  private finalCallback: ((error?: Error | null) => void) | undefined;
  private result: DecodedNarDigest | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Output credit granted to the worker and not yet received. */
  private outstanding = 0;
  private readonly id = nextJobId++;

  constructor(compression: WorkerCompression, limits: DecoderLimits & { readonly maxOutput: number }) {
    super({ readableHighWaterMark: 256 * 1024 });
    const worker = pool.acquire();
    this.worker = worker;
    worker.on('message', this.onMessage);
    worker.on('error', this.onFailure);
    worker.on('exit', this.onExit);
    send(worker, {
      type: 'start',
      id: this.id,
      compression,
      maxOutput: limits.maxOutput,
      windowLogMax: limits.zstdWindowLogMax,
      xzMemlimit: limits.xzMemlimit,
      xzOutputBytes: limits.xzOutputBytes,
    });
  }

  /** The NAR's SHA-256 and size; available once the stream has ended. */
  get digest(): DecodedNarDigest | undefined {
    return this.result;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Small chunks (HTTP bodies arrive in 16-64 KiB pieces) are batched into one message: the
    // copy into a transferable buffer is made anyway, so batching costs nothing.
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < BATCH_BYTES) {
      callback();
      return;
    }
    this.post();
    if (this.inFlight < MAX_IN_FLIGHT) callback();
    else this.heldWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.pendingBytes > 0) this.post();
    this.finalCallback = callback;
    this.send({ type: 'end', id: this.id });
  }

  override _read(): void {
    if (this.outstanding > CREDIT_BYTES / 2) return;
    this.outstanding += CREDIT_BYTES;
    this.send({ type: 'more', id: this.id, bytes: CREDIT_BYTES });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Torn away mid-stream: the worker drops the job and goes back to the pool. It is never
    // terminated while it may be decoding: lzma-native's finalizers throw (and abort the
    // process) when a worker is torn down in the middle of its native code.
    const worker = this.detach();
    if (worker) {
      send(worker, { type: 'abort', id: this.id });
      pool.release(worker);
    }
    callback(error);
  }

  private post(): void {
    const copy = new Uint8Array(this.pendingBytes);
    let offset = 0;
    for (const piece of this.pending) {
      copy.set(piece, offset);
      offset += piece.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.send({ type: 'data', id: this.id, chunk: copy.buffer }, [copy.buffer]);
    this.inFlight += 1;
  }

  private send(message: DecoderRequest, transfer: ArrayBuffer[] = []): void {
    if (this.worker) send(this.worker, message, transfer);
  }

  private readonly onMessage = (message: DecoderMessage): void => {
    if (message.id !== this.id) return;
    switch (message.type) {
      case 'error':
        this.destroy(new Error(message.message));
        return;
      case 'consumed': {
        this.inFlight -= 1;
        const held = this.heldWrite;
        this.heldWrite = undefined;
        held?.();
        return;
      }
      case 'output':
        this.outstanding -= message.chunk.byteLength;
        if (this.push(Buffer.from(message.chunk))) this._read();
        return;
      case 'done': {
        this.result = { sha256: Buffer.from(message.digest), size: message.size };
        const worker = this.detach();
        if (worker) pool.release(worker);
        this.push(null);
        this.finalCallback?.();
      }
    }
  };

  private readonly onFailure = (error: Error): void => {
    this.detach();
    this.destroy(error);
  };

  private readonly onExit = (code: number): void => {
    this.detach();
    this.destroy(new Error(`NAR decoder worker exited with code ${code}`));
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

/** One pool of decoder threads (src/workers/nar-decoder.ts) for every NAR stream. */
const pool = new WorkerPool({ maxIdle: MAX_IDLE_WORKERS, spawn: () => startModuleWorker('nar-decoder'), retire: retireWhenDrained });

/** Ends a worker beyond the pool's size once it has processed everything it was sent. */
function retireWhenDrained(worker: Worker): void {
  // An empty job answered means every earlier message was handled: the worker is idle.
  const onMessage = (message: DecoderMessage): void => {
    if (message.id !== -1) return;
    worker.off('message', onMessage);
    void worker.terminate();
  };
  worker.on('message', onMessage);
  send(worker, { type: 'start', id: -1, compression: 'none', maxOutput: 0 });
  send(worker, { type: 'end', id: -1 });
}

function send(worker: Worker, message: DecoderRequest, transfer: ArrayBuffer[] = []): void {
  worker.postMessage(message, transfer);
}
