import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { StorageUnavailableError } from './errors.js';
import type { CacheCoherence } from './types.js';

export interface RedisCacheCoherenceOptions {
  /** Publishes heartbeats, invalidations and acknowledgements (the shared command connection). */
  readonly publisher: Redis;
  /** A connection of its own, put in subscriber mode here; closed by `close`. */
  readonly subscriber: Redis;
  /** One channel per deployment (the metadata key prefix's). */
  readonly channel: string;
  readonly heartbeatMs?: number;
  /** How long after a heartbeat was sent its return lets this process serve what it remembers. */
  readonly leaseMs?: number;
  /** A monotonic clock in milliseconds (tests move it). */
  readonly now?: () => number;
  /** Change notices Redis refused that are kept to send again, at most (see `unpublished`). */
  readonly maxUnpublished?: number;
  readonly logger?: Logger;
}

type Message =
  | { readonly t: 'hb'; readonly from: string; readonly seq: number }
  | { readonly t: 'inv'; readonly from: string; readonly nonce: string; readonly key: string }
  | { readonly t: 'ack'; readonly from: string; readonly nonce: string }
  /** Forget everything: stands for more refused notices than were kept. */
  | { readonly t: 'reset'; readonly from: string };

interface Waiter {
  /** Peers that acknowledged before this process saw its own invalidation come back. */
  readonly early: Set<string>;
  /** Peers still to acknowledge; null until the invalidation came back (then the peers are known). */
  pending: Set<string> | null;
  /** `abandoned`: this process closed first, so the peers' forgetting is not known. */
  finish(abandoned?: boolean): void;
}

/** Heartbeats whose return is awaited, at most (older ones cannot give a lease any more). */
const MAX_HEARTBEATS = 64;
/** Peers remembered, at most: replicas of one deployment, never client input. */
const MAX_PEERS = 4096;

/**
 * Coherence of what replicas remember, over Redis pub/sub. Every replica publishes a heartbeat
 * each `heartbeatMs` and serves remembered answers only while its lease holds: until `leaseMs`
 * after sending a heartbeat it has received back on its current subscription. Messages on one
 * subscription arrive in the order Redis handled them, so a replica holding a lease has
 * applied every invalidation Redis handled before that heartbeat.
 *
 * `invalidate` publishes the key and resolves when every peer heard within the last lease
 * (counted when the invalidation comes back to this process, after every earlier heartbeat)
 * has acknowledged it, or when a lease and a half has passed since Redis took it: a replica that
 * did not acknowledge by then cannot hold a lease that predates the invalidation. A process
 * subscribed for less than a lease may not know every peer yet, so it waits the full time.
 * A reconnected subscription may have missed messages: it starts a new generation, and what
 * was remembered before is stale.
 */
export class RedisCacheCoherence implements CacheCoherence {
  private readonly id = randomUUID();
  private readonly heartbeatMs: number;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly listeners: Array<(key: string) => void> = [];
  private readonly heartbeats = new Map<number, { readonly sentAt: number; readonly generation: number }>();
  private readonly peers = new Map<string, number>();
  private readonly waiters = new Map<string, Waiter>();
  /**
   * Per key, the last notice Redis refused to take; published again with each heartbeat. Keyed
   * by key, so DELETEs retried during an outage add nothing: one notice per key forgets it.
   * Bounded: clients choose the keys (a tag per PUT), so past `maxUnpublished` the notices give
   * way to one that has every replica forget everything (`resetUnsent`).
   */
  private readonly unpublished = new Map<string, string>();
  private readonly maxUnpublished: number;
  private resetUnsent = false;
  /** Refused notices so far: a reset sent before the last of them does not stand for it. */
  private refusals = 0;
  private currentGeneration = 0;
  private subscribedAt: number | null = null;
  private leaseUntil = Number.NEGATIVE_INFINITY;
  private sequence = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: RedisCacheCoherenceOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 100;
    this.leaseMs = options.leaseMs ?? 400;
    this.now = options.now ?? (() => performance.now());
    this.maxUnpublished = options.maxUnpublished ?? 1024;
    const { subscriber } = options;
    subscriber.on('message', (channel: string, raw: string) => channel === options.channel && this.receive(raw));
    subscriber.on('close', () => this.unsubscribed());
    // Connection errors are the RedisConnection's to log; without a listener ioredis prints them.
    subscriber.on('error', () => undefined);
    subscriber.on('ready', () => this.subscribe());
    if (subscriber.status === 'ready') this.subscribe();
    this.timer = setInterval(() => this.tick(), this.heartbeatMs);
    this.timer.unref();
  }

  generation(): number | null {
    return this.subscribedAt !== null && this.now() < this.leaseUntil ? this.currentGeneration : null;
  }

  /**
   * This process answered from somewhere other than Redis (the outage memory): what it read may
   * predate a change already announced, so nothing remembered so far or read under way is kept.
   */
  answeredFromMemory(): void {
    this.currentGeneration += 1;
  }

  onInvalidate(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  async invalidate(key: string): Promise<void> {
    this.apply(key);
    const nonce = randomUUID();
    const message = JSON.stringify({ t: 'inv', from: this.id, nonce, key } satisfies Message);
    let refused = false;
    const done = new Promise<boolean>((resolve) => {
      let deadline: NodeJS.Timeout | undefined;
      this.waiters.set(nonce, {
        early: new Set(),
        pending: null,
        finish: (abandoned = false) => {
          clearTimeout(deadline);
          this.waiters.delete(nonce);
          resolve(abandoned);
        },
      });
      this.publish(message).then(
        () => {
          if (this.waiters.has(nonce)) deadline = setTimeout(() => this.waiters.get(nonce)?.finish(), this.leaseMs * 1.5);
        },
        (error: unknown) => {
          refused = true;
          this.waiters.get(nonce)?.finish();
          this.keepUnpublished(key, message);
          this.options.logger?.warn({ reason: (error as Error).message }, 'could not tell other replicas of a change; retrying');
        },
      );
    });
    if (await done) {
      throw new StorageUnavailableError('this process stopped before other replicas were known to have heard of the change');
    }
    if (refused) {
      throw new StorageUnavailableError('Redis did not take the change notice for other replicas; it is sent again when Redis answers');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const waiter of [...this.waiters.values()]) waiter.finish(true);
    this.subscribedAt = null;
    this.options.subscriber.disconnect();
  }

  private keepUnpublished(key: string, message: string): void {
    this.refusals += 1;
    if (this.resetUnsent) return;
    this.unpublished.delete(key);
    this.unpublished.set(key, message);
    if (this.unpublished.size <= this.maxUnpublished) return;
    this.unpublished.clear();
    this.resetUnsent = true;
  }

  private subscribe(): void {
    if (this.closed) return;
    this.options.subscriber.subscribe(this.options.channel).then(
      () => {
        this.currentGeneration += 1;
        this.subscribedAt = this.now();
        this.heartbeats.clear();
        this.tick();
      },
      (error: unknown) => this.options.logger?.warn({ reason: (error as Error).message }, 'could not subscribe to replica change notices'),
    );
  }

  /** Messages may have been missed from now on: nothing remembered so far may be served again. */
  private unsubscribed(): void {
    this.currentGeneration += 1;
    this.subscribedAt = null;
    this.leaseUntil = Number.NEGATIVE_INFINITY;
    this.heartbeats.clear();
  }

  private tick(): void {
    if (this.closed) return;
    const now = this.now();
    for (const [peer, heard] of this.peers) if (now - heard > this.leaseMs) this.peers.delete(peer);
    if (this.resetUnsent) {
      const refusals = this.refusals;
      const sent = (): void => {
        if (this.refusals === refusals) this.resetUnsent = false;
      };
      this.publish(JSON.stringify({ t: 'reset', from: this.id } satisfies Message)).then(sent, () => undefined);
    }
    for (const [key, message] of this.unpublished) {
      this.publish(message).then(() => this.unpublished.get(key) === message && this.unpublished.delete(key), () => undefined);
    }
    if (this.subscribedAt === null) return;
    const seq = ++this.sequence;
    this.heartbeats.set(seq, { sentAt: now, generation: this.currentGeneration });
    for (const old of this.heartbeats.keys()) {
      if (this.heartbeats.size <= MAX_HEARTBEATS) break;
      this.heartbeats.delete(old);
    }
    this.publish(JSON.stringify({ t: 'hb', from: this.id, seq } satisfies Message)).catch(() => undefined);
  }

  private publish(message: string): Promise<number> {
    return this.options.publisher.publish(this.options.channel, message);
  }

  private receive(raw: string): void {
    const message = parseMessage(raw);
    if (message === null) return;
    const now = this.now();
    if (message.from !== this.id) {
      this.peers.delete(message.from);
      this.peers.set(message.from, now);
      if (this.peers.size > MAX_PEERS) this.peers.delete(this.peers.keys().next().value as string);
    }
    if (message.t === 'hb') {
      if (message.from === this.id) this.heartbeatReturned(message.seq);
    } else if (message.t === 'reset') {
      // Notices this process never heard: nothing remembered so far may be served again.
      if (message.from !== this.id) this.currentGeneration += 1;
    } else if (message.t === 'inv') {
      this.apply(message.key);
      if (message.from === this.id) this.invalidationReturned(message.nonce, now);
      else this.publish(JSON.stringify({ t: 'ack', from: this.id, nonce: message.nonce } satisfies Message)).catch(() => undefined);
    } else {
      this.acknowledged(message.nonce, message.from);
    }
  }

  private heartbeatReturned(seq: number): void {
    const sent = this.heartbeats.get(seq);
    if (sent === undefined || sent.generation !== this.currentGeneration || this.subscribedAt === null) return;
    for (const old of this.heartbeats.keys()) {
      this.heartbeats.delete(old);
      if (old === seq) break;
    }
    this.leaseUntil = Math.max(this.leaseUntil, sent.sentAt + this.leaseMs);
  }

  /** Every heartbeat Redis took before the invalidation has been heard: the peers are known. */
  private invalidationReturned(nonce: string, now: number): void {
    const waiter = this.waiters.get(nonce);
    if (waiter === undefined) return;
    const knowsPeers = this.subscribedAt !== null && now - this.subscribedAt >= this.leaseMs && this.generation() !== null;
    if (!knowsPeers) return; // the deadline decides
    waiter.pending = new Set([...this.peers].filter(([peer, heard]) => now - heard <= this.leaseMs && !waiter.early.has(peer)).map(([peer]) => peer));
    if (waiter.pending.size === 0) waiter.finish();
  }

  private acknowledged(nonce: string, peer: string): void {
    const waiter = this.waiters.get(nonce);
    if (waiter === undefined) return;
    if (waiter.pending === null) {
      waiter.early.add(peer);
      return;
    }
    waiter.pending.delete(peer);
    if (waiter.pending.size === 0) waiter.finish();
  }

  private apply(key: string): void {
    for (const listener of this.listeners) listener(key);
  }
}

function parseMessage(raw: string): Message | null {
  try {
    const value = JSON.parse(raw) as Partial<Record<string, unknown>>;
    if (typeof value.from !== 'string') return null;
    if (value.t === 'hb' && typeof value.seq === 'number') return { t: 'hb', from: value.from, seq: value.seq };
    if (value.t === 'inv' && typeof value.nonce === 'string' && typeof value.key === 'string') return { t: 'inv', from: value.from, nonce: value.nonce, key: value.key };
    if (value.t === 'ack' && typeof value.nonce === 'string') return { t: 'ack', from: value.from, nonce: value.nonce };
    if (value.t === 'reset') return { t: 'reset', from: value.from };
    return null;
  } catch {
    return null;
  }
}
