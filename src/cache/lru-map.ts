/**
 * A bounded map that forgets least recently used entries once their total weight passes
 * `capacity`, or their number passes `maxEntries`. Weight is 1 per entry unless `weigh` says
 * otherwise (e.g. bytes of a buffer, or of a key and its value); an entry heavier than the
 * whole capacity is not kept. Every in-process cache that grows with client input is one of
 * these, so memory stays bounded whatever names clients send.
 *
 * An entry's weight is taken when it is `set`: a caller that changes a value in place (adds to
 * a cached set) sets it again so the weight follows.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private totalWeight = 0;
  private evictionCount = 0;

  constructor(
    private readonly capacity: number,
    private readonly weigh: (value: V, key: K) => number = () => 1,
    private readonly maxEntries = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    if (maxEntries !== Number.POSITIVE_INFINITY && (!Number.isInteger(maxEntries) || maxEntries < 1)) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /** Sum of the kept entries' weights (bytes, for byte-weighed caches). */
  get weight(): number {
    return this.totalWeight;
  }

  /** Entries forgotten to stay within the bounds, since construction. */
  get evictions(): number {
    return this.evictionCount;
  }

  /** The value under `key` (marking it recently used), or undefined. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.weigh(value, key);
    if (weight > this.capacity) return;
    this.entries.set(key, { value, weight });
    this.totalWeight += weight;
    while (this.totalWeight > this.capacity || this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
      this.evictionCount += 1;
    }
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.totalWeight -= entry.weight;
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.totalWeight = 0;
  }
}

/** Approximate bytes a string costs in a cache: UTF-16 code units plus a per-entry overhead. */
export function stringBytes(value: string | null): number {
  return 48 + (value === null ? 0 : value.length * 2);
}

/** Approximate bytes of a cached set of strings. */
export function setBytes(members: ReadonlySet<string>): number {
  let bytes = 64;
  for (const member of members) bytes += stringBytes(member);
  return bytes;
}
