import { availableParallelism } from 'node:os';
import type { DeflateRequest, DeflateResponse } from '../../workers/deflate-compressor-protocol.js';
import { JobPool, type JobPoolStats, type Ticket } from '../../workers/job-pool.js';
import { startModuleWorker } from '../../workers/module-worker.js';

export type { DeflateRequest, DeflateResponse } from '../../workers/deflate-compressor-protocol.js';

/** Where gzip layer streams send their blocks; a fake in tests, {@link DeflateWorkers} otherwise. */
export interface DeflateCompressors {
  /** Compressor threads at most: the most blocks compressed at once. */
  readonly size: number;
  /** Wait for room, then queue one block; see JobPool.submit. */
  submit(request: DeflateRequest, transfer: ArrayBuffer[]): Promise<Ticket<DeflateResponse>>;
}

/**
 * The deflate compressor threads (src/workers/deflate-compressor.ts) every gzip layer shares:
 * `size` threads at most, and at most twice that many blocks admitted at once, however many
 * layers are being built, so compression memory is bounded by the pool and not by the layers.
 */
export class DeflateWorkers implements DeflateCompressors {
  private readonly pool: JobPool<DeflateRequest, DeflateResponse>;

  constructor(size: number = availableParallelism()) {
    this.pool = new JobPool({ size, spawn: () => startModuleWorker('deflate-compressor') });
  }

  get size(): number {
    return this.pool.size;
  }

  get stats(): JobPoolStats {
    return this.pool.stats;
  }

  submit(request: DeflateRequest, transfer: ArrayBuffer[]): Promise<Ticket<DeflateResponse>> {
    return this.pool.submit(request, transfer);
  }
}

let shared: DeflateWorkers | undefined;

/** One pool, sized by the machine's cores, for callers that bring none (tests, benchmarks). */
export function sharedDeflateWorkers(): DeflateWorkers {
  shared ??= new DeflateWorkers();
  return shared;
}
