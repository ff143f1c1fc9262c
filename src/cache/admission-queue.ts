/**
 * At most `concurrency` tasks run at once and at most `maxWaiting` more wait; past that a task
 * is refused at once (the caller's error, a 429 with Retry-After), rather than queued for minutes
 * behind the others. Builds and package-set evaluations are each bounded by one of these, so
 * neither the work in flight nor the list of waiters grows with what clients ask.
 */
export class AdmissionQueue {
  private running = 0;
  private readonly waiting: Array<{ start: () => void; abandon: () => void }> = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  /** Tasks running and waiting, for status pages and metrics. */
  get stats(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }

  /** Whether a task started now would be refused (every slot busy, the waiting list full). */
  get full(): boolean {
    return this.running >= this.concurrency && this.waiting.length >= this.maxWaiting;
  }

  /**
   * Runs `work` once a slot is free. A waiter whose `signal` aborts leaves the list and gets the
   * signal's reason.
   * @throws the error `refuse` makes when every slot and waiting place is taken
   */
  async run<T>(work: () => Promise<T>, refuse: () => Error, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw refuse();
      await new Promise<void>((resolve, reject) => {
        const entry = {
          start: () => {
            signal?.removeEventListener('abort', entry.abandon);
            resolve();
          },
          abandon: () => {
            this.waiting.splice(this.waiting.indexOf(entry), 1);
            reject(signal?.reason);
          },
        };
        signal?.addEventListener('abort', entry.abandon, { once: true });
        this.waiting.push(entry);
      });
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter, so `running` never dips below the limit.
      const next = this.waiting.shift();
      if (next) next.start();
      else this.running -= 1;
    }
  }
}
