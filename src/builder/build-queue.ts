import { BuildQueueFullError } from './errors.js';

/**
 * Bounds how many builds run at once and how many may wait. A build past the waiting limit is
 * refused at once (429 with Retry-After) rather than queued for minutes behind the others.
 */
export class BuildQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {}

  /** Builds running and waiting, for status pages and metrics. */
  get stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  /** Whether a build started now would be refused (every slot busy, the waiting list full). */
  get full(): boolean {
    return this.running >= this.concurrency && this.waiting.length >= this.maxQueued;
  }

  /** @throws BuildQueueFullError when the queue is full. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) throw new BuildQueueFullError(30);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter, so `running` never dips below the limit.
      if (next) next();
      else this.running -= 1;
    }
  }
}
