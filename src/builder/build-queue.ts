import { AdmissionQueue } from '../cache/admission-queue.js';
import { BuildQueueFullError, ClientBuildsFullError } from './errors.js';

/**
 * Bounds how many builds run at once and how many may wait, in all and per client. A build past
 * the waiting limit is refused at once (429 with Retry-After) rather than queued for minutes
 * behind the others; so is one whose client already has `maxPerClient` builds running or
 * waiting, so that one client sending names nobody else asks for cannot fill the queue.
 */
export class BuildQueue {
  private readonly queue: AdmissionQueue;
  private readonly perClient = new Map<string, number>();

  constructor(
    concurrency: number,
    maxQueued: number,
    private readonly maxPerClient = Number.POSITIVE_INFINITY,
  ) {
    this.queue = new AdmissionQueue(concurrency, maxQueued);
  }

  /** Builds running and waiting, for status pages and metrics. */
  get stats(): { running: number; queued: number } {
    return this.queue.stats;
  }

  /** Whether a build started now would be refused (every slot busy, the waiting list full). */
  get full(): boolean {
    return this.queue.full;
  }

  /**
   * Runs `fn` in the queue, counted against `client` (a client address; none for the CLI).
   * @throws BuildQueueFullError when the queue is full, ClientBuildsFullError when the client's share is
   */
  async run<T>(fn: () => Promise<T>, client?: string): Promise<T> {
    if (client === undefined) return this.queue.run(fn, () => new BuildQueueFullError(30));
    const held = this.perClient.get(client) ?? 0;
    if (held >= this.maxPerClient) throw new ClientBuildsFullError(this.maxPerClient, 30);
    this.perClient.set(client, held + 1);
    try {
      return await this.queue.run(fn, () => new BuildQueueFullError(30));
    } finally {
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left === 0) this.perClient.delete(client);
      else this.perClient.set(client, left);
    }
  }
}
