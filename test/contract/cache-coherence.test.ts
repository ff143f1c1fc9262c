import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { CacheCoherence } from '../../src/storage/types.js';
import { CoherentCache } from '../../src/storage/coherent-cache.js';
import { LocalCacheCoherence } from '../../src/storage/local-cache-coherence.js';
import { RedisCacheCoherence } from '../../src/storage/redis-cache-coherence.js';
import { useRedisServer } from '../support/redis-server.js';

const redis = useRedisServer();
const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

/** Polls until `condition` holds (a bound on waiting, not a timing assertion). */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A load that counts its calls and answers `value`. */
function counted<V>(value: V): { load: () => Promise<V>; calls: () => number } {
  let calls = 0;
  return {
    load: async () => {
      calls += 1;
      return value;
    },
    calls: () => calls,
  };
}

/**
 * `replicas(count)` gives `count` participants sharing one metadata space: the same instance
 * for in-process coherence, one per simulated replica (own connections) for distributed ones.
 */
function describeCacheCoherenceContract(name: string, replicas: (count: number) => Promise<CacheCoherence[]>): void {
  describe(`CacheCoherence contract: ${name}`, () => {
    const ready = async (count: number): Promise<Array<CoherentCache<string>>> => {
      const participants = await replicas(count);
      await eventually(() => participants.every((participant) => participant.generation() !== null), 'every participant may serve');
      return participants.map((participant) => new CoherentCache<string>(participant, 100));
    };

    it('serves a remembered answer without loading it again', async () => {
      const [cache] = await ready(1);
      const source = counted('v1');
      expect(await cache?.read('k', source.load, () => true)).toBe('v1');
      expect(await cache?.read('k', source.load, () => true)).toBe('v1');
      expect(source.calls()).toBe(1);
    });

    it('remembers only what `keep` accepts', async () => {
      const [cache] = await ready(1);
      const source = counted('absent');
      await cache?.read('k', source.load, () => false);
      await cache?.read('k', source.load, () => false);
      expect(source.calls()).toBe(2);
    });

    it('has every participant forget a key before invalidate returns', async () => {
      const caches = await ready(3);
      for (let round = 0; round < 20; round += 1) {
        const key = `key-${round}`;
        for (const cache of caches) await cache.read(key, async () => 'old', () => true);
        expect(caches.every((cache) => cache.get(key) === 'old')).toBe(true);
        await caches[round % caches.length]?.invalidate(key);
        expect(caches.map((cache) => cache.get(key))).toEqual(caches.map(() => undefined));
      }
    });

    it('does not remember a read that was under way while a key was invalidated', async () => {
      const caches = await ready(2);
      let answer!: (value: string) => void;
      const pending = caches[1]?.read('slow', () => new Promise<string>((resolve) => (answer = resolve)), () => true);
      await caches[0]?.invalidate('slow');
      answer('read before the change');
      expect(await pending).toBe('read before the change');
      expect(caches[1]?.get('slow')).toBeUndefined();
    });
  });
}

describeCacheCoherenceContract('in-process', async (count) => {
  const shared = new LocalCacheCoherence();
  return Array.from({ length: count }, () => shared);
});

let channels = 0;
async function redisReplicas(count: number, options: { leaseMs?: number; maxUnpublished?: number } = {}): Promise<Array<{ coherence: RedisCacheCoherence; subscriber: Redis; publisher: Redis }>> {
  channels += 1;
  const channel = `test-${channels}-coherence`;
  return Promise.all(
    Array.from({ length: count }, async () => {
      const publisher = new Redis(redis().url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      const subscriber = new Redis(redis().url, { autoResubscribe: false });
      const coherence = new RedisCacheCoherence({ publisher, subscriber, channel, heartbeatMs: 20, ...options });
      closers.push(async () => {
        await coherence.close();
        publisher.disconnect();
      });
      return { coherence, subscriber, publisher };
    }),
  );
}

describeCacheCoherenceContract('redis pub/sub', async (count) => (await redisReplicas(count)).map((replica) => replica.coherence));

describe('RedisCacheCoherence', () => {
  it('waits for a peer heard within the lease to acknowledge, and returns once it has', async () => {
    const [changer] = await redisReplicas(1, { leaseMs: 2_000 });
    if (!changer) throw new Error('no replica');
    // A peer that heartbeats like a replica and acknowledges only when told to.
    const channel = `test-${channels}-coherence`;
    const peer = { publisher: new Redis(redis().url), subscriber: new Redis(redis().url) };
    closers.push(async () => {
      peer.publisher.disconnect();
      peer.subscriber.disconnect();
    });
    const nonces: string[] = [];
    peer.subscriber.on('message', (_channel: string, raw: string) => {
      const message = JSON.parse(raw) as { t: string; nonce?: string };
      if (message.t === 'inv' && message.nonce) nonces.push(message.nonce);
    });
    await peer.subscriber.subscribe(channel);
    const beat = setInterval(() => void peer.publisher.publish(channel, JSON.stringify({ t: 'hb', from: 'peer', seq: 1 })), 20);
    closers.push(async () => clearInterval(beat));
    // Known peers are trusted only after a whole lease on one subscription.
    await eventually(() => changer.coherence.generation() !== null, 'leased');
    await new Promise((resolve) => setTimeout(resolve, 2_100));

    let returned = false;
    const invalidation = changer.coherence.invalidate('k').then(() => (returned = true));
    await eventually(() => nonces.length === 1, 'the peer heard the invalidation');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(returned).toBe(false);
    await peer.publisher.publish(channel, JSON.stringify({ t: 'ack', from: 'peer', nonce: nonces[0] }));
    await invalidation;
    expect(returned).toBe(true);
  }, 20_000);

  it('serves nothing remembered before its subscription was cut, even once leased again', async () => {
    const [changer, other] = await redisReplicas(2);
    if (!changer || !other) throw new Error('no replicas');
    await eventually(() => changer.coherence.generation() !== null && other.coherence.generation() !== null, 'leased');
    const cache = new CoherentCache<string>(other.coherence, 10);
    await cache.read('k', async () => 'old', () => true);
    expect(cache.get('k')).toBe('old');
    const before = other.coherence.generation();

    // The invalidation is published while `other` is not subscribed: it never hears it.
    other.subscriber.disconnect(false);
    await eventually(() => other.coherence.generation() === null, 'not serving while unsubscribed');
    await changer.coherence.invalidate('k');
    await other.subscriber.connect();
    await eventually(() => other.coherence.generation() !== null, 'leased again');
    expect(other.coherence.generation()).not.toBe(before);
    expect(cache.get('k')).toBeUndefined();
  });

  it('stops serving when its heartbeats stop coming back', async () => {
    const [replica] = await redisReplicas(1, { leaseMs: 200 });
    if (!replica) throw new Error('no replica');
    await eventually(() => replica.coherence.generation() !== null, 'leased');
    // Heartbeats are published but the subscription hears nothing more: no lease renews.
    await replica.subscriber.unsubscribe();
    await eventually(() => replica.coherence.generation() === null, 'the lease ran out');
  });

  it('fails a change notice still awaiting other replicas when it closes, rather than report it heard', async () => {
    // A long lease: the notice waits a lease and a half, since no peer is known yet.
    const [replica] = await redisReplicas(1, { leaseMs: 60_000 });
    if (!replica) throw new Error('no replica');
    await eventually(() => replica.coherence.generation() !== null, 'leased');
    const invalidation = replica.coherence.invalidate('k');
    await replica.coherence.close();
    await expect(invalidation).rejects.toThrow(/stopped before other replicas/);
  });

  it('fails a change notice Redis does not take', async () => {
    const [replica] = await redisReplicas(1);
    if (!replica) throw new Error('no replica');
    replica.publisher.disconnect(false);
    await expect(replica.coherence.invalidate(randomUUID())).rejects.toThrow(/other replicas/);
  });

  it('sends refused notices again once Redis answers; past its bound, one notice that has every replica forget everything', async () => {
    const [changer, other] = await redisReplicas(2, { maxUnpublished: 3 });
    if (!changer || !other) throw new Error('no replicas');
    await eventually(() => changer.coherence.generation() !== null && other.coherence.generation() !== null, 'leased');
    const cache = new CoherentCache<string>(other.coherence, 100);
    const remember = async (...keys: string[]) => {
      for (const key of keys) await cache.read(key, async () => `old ${key}`, () => true);
    };
    const outage = async (keys: string[]) => {
      changer.publisher.disconnect(false);
      await eventually(() => changer.publisher.status === 'end', 'the connection is closed');
      for (const key of keys) await expect(changer.coherence.invalidate(key)).rejects.toThrow(/sent again when Redis answers/);
      await changer.publisher.connect();
    };

    // Within the bound: each refused key is forgotten once Redis answers, nothing else.
    await remember('a', 'b', 'kept');
    await outage(['a', 'b']);
    await eventually(() => cache.get('a') === undefined && cache.get('b') === undefined, 'the refused keys were forgotten');
    expect(cache.get('kept')).toBe('old kept');

    // Past it (4 keys, 3 kept): the notices give way to one that forgets everything.
    await remember('c', 'kept');
    await outage(['k1', 'k2', 'k3', 'k4']);
    // (`get` answers nothing without a lease too: wait for one, so only forgetting can pass.)
    await eventually(() => other.coherence.generation() !== null && cache.get('kept') === undefined, 'everything remembered was forgotten');
    expect(cache.get('c')).toBeUndefined();
  });
});
