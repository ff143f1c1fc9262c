/** Event streams open at once, whoever follows them. */
export const MAX_EVENT_STREAMS = 256;
/** Event streams one client address may have open at once (a page follows one build). */
export const MAX_EVENT_STREAMS_PER_CLIENT = 16;

/**
 * How many build event streams are open, in all and per client address. Each open stream gets
 * every log line of the build it follows and may hold MAX_UNREAD_BYTES unread, so without a
 * bound a client opening thousands stalled every other request and held gigabytes.
 */
export class EventStreamLimit {
  private total = 0;
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly maxTotal = MAX_EVENT_STREAMS,
    private readonly maxPerClient = MAX_EVENT_STREAMS_PER_CLIENT,
  ) {}

  /** A release function for a stream `client` may open now, or null when it may not. */
  open(client: string): (() => void) | null {
    const held = this.perClient.get(client) ?? 0;
    if (this.total >= this.maxTotal || held >= this.maxPerClient) return null;
    this.total += 1;
    this.perClient.set(client, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left === 0) this.perClient.delete(client);
      else this.perClient.set(client, left);
    };
  }

  /** Streams open now. */
  get size(): number {
    return this.total;
  }
}
