import { availableParallelism } from 'node:os';
import type { DeflateRequest, DeflateResponse } from '../../workers/deflate-compressor-protocol.js';
import { JobPool, type JobPoolStats, type Ticket } from '../../workers/job-pool.js';
import { startModuleWorker } from '../../workers/module-worker.js';
import { BlockBudget, type BlockBudgetStats } from './block-budget.js';

export type { DeflateRequest, DeflateResponse } from '../../workers/deflate-compressor-protocol.js';

/** Where gzip layer streams send their blocks; a fake in tests, {@link DeflateWorkers} otherwise. */
export interface DeflateCompressors {
  /** Compressor threads at most: the most blocks compressed at once. */
  readonly size: number;
  /**
   * Wait for a place in the budget every stream shares, taken by a block from the moment it is
   * sent until its output has been written out; resolves with the function that gives it back.
   */
  reserve(): Promise<() => void>;
  /** Wait for room, then queue one block; see JobPool.submit. */
  submit(request: DeflateRequest, transfer: ArrayBuffer[]): Promise<Ticket<DeflateResponse>>;
}

/**
 * The deflate compressor threads (src/workers/deflate-compressor.ts) every gzip layer shares:
 * `size` threads at most, and one budget of blocks in flight (at a thread, or compressed and
 * waiting to be written out in order) for every layer together, twice the threads by default:
 * compression memory is bounded by the pool, not by the number of layers built at once.
 */
export class DeflateWorkers implements DeflateCompressors {
  private readonly pool: JobPool<DeflateRequest, DeflateResponse>;
  private readonly budget: BlockBudget;

  constructor(size: number = availableParallelism(), maxBlocks = 2 * size) {
    this.pool = new JobPool({ size, maxAdmitted: maxBlocks, spawn: () => startModuleWorker('deflate-compressor') });
    // At least one block per thread, or a thread could never be kept busy.
    this.budget = new BlockBudget(Math.max(size, maxBlocks));
  }

  get size(): number {
    return this.pool.size;
  }

  get stats(): JobPoolStats {
    return this.pool.stats;
  }

  get budgetStats(): BlockBudgetStats {
    return this.budget.stats;
  }

  reserve(): Promise<() => void> {
    return this.budget.reserve();
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
