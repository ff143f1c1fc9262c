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
 * and a flood of bad credentials costs no bcrypt. The map of addresses is bounded. An IPv6
 * client counts by its /64: one host is given a whole /64 to pick addresses from. A login that
 * succeeds clears nothing: it proves one account's password, and a guesser holding an account
 * of its own would otherwise reset its count between guesses at another's.
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

  /** Seconds until `client` may try again, or null when it may try now. */
  retryAfterSeconds(client: string): number | null {
    const address = throttleKey(client);
    const entry = this.failures.get(address);
    if (entry === undefined) return null;
    const left = entry.windowEnds - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return null;
    }
    return entry.count >= this.maxFailures ? Math.ceil(left / 1000) : null;
  }

  failed(client: string): void {
    const address = throttleKey(client);
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
}

/**
 * The key an address is counted under: an IPv4 address (also written IPv4-mapped, `::ffff:a.b.c.d`)
 * as it is, an IPv6 address by its first 64 bits, anything else (a test's name) as it is.
 */
export function throttleKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('%')[0]?.split('::') ?? [];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  if (groups.length !== 8 || groups.some((group) => !/^[0-9a-f]{1,4}$/.test(group))) return address;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
