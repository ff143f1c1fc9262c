export interface LoginThrottleOptions {
  /** Failed logins allowed per client address within one window (default 10). */
  readonly maxFailures?: number;
  /** Length of the window, from an address's first failure (default 60 s). */
  readonly windowMs?: number;
  /** Addresses tracked at once; the oldest are forgotten first (default 10,000). */
  readonly maxClients?: number;
  /** Milliseconds since some epoch; injectable for tests. */
  readonly now?: () => number;
}

/**
 * Rate limit on failed logins, per client address: after `maxFailures` failures within a window
 * the address is refused without a password check until the window ends, so guessing is slow
 * and a flood of bad credentials costs no bcrypt. The map of addresses is bounded.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; windowEnds: number }>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(options: LoginThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Addresses currently tracked. */
  get trackedClients(): number {
    return this.failures.size;
  }

  /** Seconds until `address` may try again, or null when it may try now. */
  retryAfterSeconds(address: string): number | null {
    const entry = this.failures.get(address);
    if (entry === undefined) return null;
    const left = entry.windowEnds - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return null;
    }
    return entry.count >= this.maxFailures ? Math.ceil(left / 1000) : null;
  }

  failed(address: string): void {
    const now = this.now();
    const entry = this.failures.get(address);
    if (entry !== undefined && entry.windowEnds > now) {
      entry.count += 1;
      return;
    }
    this.failures.delete(address);
    this.failures.set(address, { count: 1, windowEnds: now + this.windowMs });
    while (this.failures.size > this.maxClients) this.failures.delete(this.failures.keys().next().value as string);
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}
