import { AdmissionQueue } from '../cache/admission-queue.js';
import { BuildQueueFullError } from './errors.js';

/**
 * Bounds how many builds run at once and how many may wait. A build past the waiting limit is
 * refused at once (429 with Retry-After) rather than queued for minutes behind the others.
 */
export class BuildQueue {
  private readonly queue: AdmissionQueue;

  constructor(concurrency: number, maxQueued: number) {
    this.queue = new AdmissionQueue(concurrency, maxQueued);
  }

  /** Builds running and waiting, for status pages and metrics. */
  get stats(): { running: number; queued: number } {
    return this.queue.stats;
  }

  /** Whether a build started now would be refused (every slot busy, the waiting list full). */
  get full(): boolean {
    return this.queue.full;
  }

  /** @throws BuildQueueFullError when the queue is full. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn, () => new BuildQueueFullError(30));
  }
}
