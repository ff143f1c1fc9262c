import { createHmac, randomBytes } from 'node:crypto';
import type { HtpasswdSource } from './htpasswd-file.js';
import type { PasswordCompare } from './bcrypt-workers.js';

/** One bcrypt comparison that ran: its outcome and the cost of the hash compared. */
export interface CredentialCheck {
  readonly outcome: 'valid' | 'invalid';
  readonly cost: number;
}

export interface CredentialVerifierOptions {
  /** The bcrypt comparison (on worker threads in the server). */
  readonly compare: PasswordCompare;
  /** Successful checks remembered, least recently used dropped first (default 1000). */
  readonly cacheEntries?: number;
  /** How long a successful check is remembered (default 60 s). */
  readonly cacheTtlMs?: number;
  /** Milliseconds since some epoch; injectable for tests. */
  readonly now?: () => number;
  /** Called once per bcrypt comparison actually run (tests and metrics count them). */
  readonly onCheck?: (check: CredentialCheck) => void;
}

/**
 * Checks a user's password against the htpasswd file (as it is now: see htpasswd-file.ts). Every check costs one bcrypt comparison of
 * the file's typical cost, existing user or not, so timing tells nothing; a success is then
 * remembered briefly, so a client sending the same credentials on every request (as Docker
 * does) pays bcrypt once. The cache is keyed by an HMAC of user and password under a key made at
 * start, so it holds no password nor a hash of one that could be attacked offline.
 */
export class CredentialVerifier {
  private readonly cache = new Map<string, number>();
  private readonly key = randomBytes(32);
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(
    private readonly users: HtpasswdSource,
    private readonly options: CredentialVerifierOptions,
  ) {
    this.maxEntries = options.cacheEntries ?? 1000;
    this.ttlMs = options.cacheTtlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Entries in the success cache (bounded by `cacheEntries`). */
  get cachedEntries(): number {
    return this.cache.size;
  }

  /** The user's entry fingerprint (see Htpasswd.fingerprint) in the file as it is now, or null when the user does not exist. */
  async fingerprint(user: string): Promise<string | null> {
    return (await this.users.current()).fingerprint(user);
  }

  /** @throws LoginQueueFullError from the comparison when too many checks wait. */
  async verify(user: string, password: string): Promise<boolean> {
    const { hash, known } = (await this.users.current()).hashFor(user);
    // The entry's hash is part of the key: once the file no longer has it (password changed,
    // user removed), what was remembered for it is never found again.
    const cacheKey = createHmac('sha256', this.key).update(user).update('\0').update(password).update('\0').update(hash).digest('base64');
    const expires = known ? this.cache.get(cacheKey) : undefined;
    if (expires !== undefined) {
      this.cache.delete(cacheKey);
      if (expires > this.now()) {
        this.cache.set(cacheKey, expires);
        return true;
      }
    }
    const ok = (await this.options.compare(password, hash)) && known;
    this.options.onCheck?.({ outcome: ok ? 'valid' : 'invalid', cost: Number(hash.slice(4, 6)) });
    if (ok) {
      this.cache.set(cacheKey, this.now() + this.ttlMs);
      while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    }
    return ok;
  }
}
