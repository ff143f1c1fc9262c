import type { MetadataStore } from '../../src/storage/types.js';

/**
 * A MetadataStore decorator that counts calls and round trips, as a remote store (Redis) would
 * see them. Every call answers on a later turn of the event loop, so calls made side by side
 * overlap; a round trip is a call made while no other is in flight (a batch is one call).
 */
export class CountingMetadataStore implements MetadataStore {
  calls: string[] = [];
  roundTrips = 0;
  private inFlight = 0;

  constructor(private readonly inner: MetadataStore) {}

  reset(): void {
    this.calls = [];
    this.roundTrips = 0;
  }

  get(key: string): Promise<string | null> {
    return this.count(`get ${key}`, () => this.inner.get(key));
  }
  set(key: string, value: string): Promise<void> {
    return this.count(`set ${key}`, () => this.inner.set(key, value));
  }
  delete(key: string): Promise<void> {
    return this.count(`delete ${key}`, () => this.inner.delete(key));
  }
  addToSet(key: string, member: string): Promise<void> {
    return this.count(`addToSet ${key}`, () => this.inner.addToSet(key, member));
  }
  removeFromSet(key: string, member: string): Promise<void> {
    return this.count(`removeFromSet ${key}`, () => this.inner.removeFromSet(key, member));
  }
  members(key: string): Promise<string[]> {
    return this.count(`members ${key}`, () => this.inner.members(key));
  }
  membersAfter(key: string, after: string | undefined, limit: number): Promise<string[]> {
    return this.count(`membersAfter ${key}`, () => this.inner.membersAfter(key, after, limit));
  }
  isMember(key: string, member: string): Promise<boolean> {
    return this.count(`isMember ${key}`, () => this.inner.isMember(key, member));
  }
  getMany(keys: readonly string[]): Promise<Array<string | null>> {
    return this.count(`getMany ${keys.join(' ')}`, () => Promise.all(keys.map((key) => this.inner.get(key))));
  }
  areMembers(entries: ReadonlyArray<readonly [string, string]>): Promise<boolean[]> {
    return this.count(`areMembers ${entries.map(([key]) => key).join(' ')}`, () => Promise.all(entries.map(([key, member]) => this.inner.isMember(key, member))));
  }
  keys(signal?: AbortSignal): AsyncIterable<string> {
    if (!this.inner.keys) throw new Error('the inner store cannot list keys');
    return this.inner.keys(signal);
  }

  private async count<T>(call: string, fn: () => Promise<T>): Promise<T> {
    this.calls.push(call);
    if (this.inFlight === 0) this.roundTrips += 1;
    this.inFlight += 1;
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await fn();
    } finally {
      this.inFlight -= 1;
    }
  }
}
