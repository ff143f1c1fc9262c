/** Counters of a {@link BlockBudget}, for tests and metrics. */
export interface BlockBudgetStats {
  readonly limit: number;
  /** Blocks holding a place now. */
  readonly held: number;
  /** Most places held at once so far. */
  readonly peakHeld: number;
  /** Streams waiting for a place now. */
  readonly waiting: number;
}

/**
 * The places for gzip blocks that every layer being built shares: a block takes one when it
 * leaves its stream for a compressor thread and gives it back once its output has been
 * written out in order. A block's memory (its input buffer, then its output) is held exactly
 * that long, so the blocks in flight across all layers together never exceed `limit`, however
 * many layers are built at once. Places are granted first come, first served.
 */
export class BlockBudget {
  private held = 0;
  private peakHeld = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`block budget must be a positive integer, got ${limit}`);
  }

  get stats(): BlockBudgetStats {
    return { limit: this.limit, held: this.held, peakHeld: this.peakHeld, waiting: this.waiters.length };
  }

  /** Wait for a place; resolves with the function that gives it back (calling it again does nothing). */
  async reserve(): Promise<() => void> {
    if (this.held >= this.limit || this.waiters.length > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    else this.take();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.give();
    };
  }

  private take(): void {
    this.held += 1;
    this.peakHeld = Math.max(this.peakHeld, this.held);
  }

  /** A freed place goes straight to the first waiter, so a later caller cannot overtake it. */
  private give(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held -= 1;
  }
}
