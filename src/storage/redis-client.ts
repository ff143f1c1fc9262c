import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { StorageUnavailableError } from './errors.js';

export interface RedisConnectionOptions {
  /** `redis://[user@]host:port[/db]` or `rediss://` for TLS. A password here is accepted but
   * better given as `password` (from a file), since URLs end up in config dumps. */
  readonly url: string;
  readonly password?: string;
  /** A command not answered within this time fails (then: StorageUnavailableError). */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
}

/**
 * One ioredis connection shared by the Redis metadata store and lock manager, set up to fail
 * fast: while disconnected, commands are refused at once (no offline queue) instead of waiting,
 * so the registry can answer from its caches or with 503 immediately; in the background it
 * reconnects forever with capped backoff. Connection loss and recovery are logged once each.
 */
export class RedisConnection {
  readonly client: Redis;
  /** `host:port`, for messages: never the URL, which may hold a password. */
  readonly where: string;
  private down = false;

  constructor(options: RedisConnectionOptions) {
    const parsed = new URL(options.url);
    this.where = `${parsed.hostname}:${parsed.port || '6379'}`;
    this.client = new Redis(options.url, {
      ...(options.password ? { password: options.password } : {}),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 2_000,
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2_000),
    });
    const log = options.logger;
    this.client.on('error', (error: Error) => {
      if (this.down) return;
      this.down = true;
      log?.warn({ redis: this.where, reason: error.message }, 'redis connection failed; serving cached metadata only');
    });
    this.client.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      log?.info({ redis: this.where }, 'redis connection restored');
    });
  }

  /** Connect now; when Redis is not reachable yet, keep trying in the background. */
  async connect(): Promise<boolean> {
    try {
      await this.client.connect();
      return true;
    } catch {
      return false;
    }
  }

  /** Run one Redis operation, turning any failure into StorageUnavailableError. */
  async run<T>(operation: string, call: (client: Redis) => Promise<T>): Promise<T> {
    try {
      return await call(this.client);
    } catch (error) {
      throw this.unavailable(operation, error);
    }
  }

  /** Throws StorageUnavailableError unless Redis answers PING (readiness probe). */
  async ping(): Promise<void> {
    await this.run('PING', (client) => client.ping());
  }

  unavailable(operation: string, error: unknown): StorageUnavailableError {
    const message = error instanceof Error ? error.message : String(error);
    // ioredis refuses commands while disconnected with a message about its offline queue.
    const reason = this.client.status !== 'ready' || message.includes('enableOfflineQueue') ? 'not connected' : message;
    return new StorageUnavailableError(
      `Redis at ${this.where} is unreachable (${operation}: ${reason}); images already served are still served, new builds are refused until it is back`,
      { cause: error },
    );
  }

  /**
   * A second connection to the same server with the same settings, for subscriber mode (a
   * subscribed connection takes no other commands). It connects now and reconnects as this one;
   * its owner subscribes on each 'ready' (no automatic resubscription, so the owner knows when
   * messages may have been missed).
   */
  subscriberConnection(): Redis {
    const subscriber = this.client.duplicate({ autoResubscribe: false, commandTimeout: undefined });
    subscriber.connect().catch(() => undefined);
    return subscriber;
  }

  /** Close the connection (at shutdown); pending commands fail. */
  async close(): Promise<void> {
    if (this.client.status === 'end') return;
    try {
      if (this.client.status === 'ready') await this.client.quit();
      else this.client.disconnect();
    } catch {
      this.client.disconnect();
    }
  }
}
