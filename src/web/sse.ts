import type { ServerResponse } from 'node:http';

/**
 * Bytes a client may leave unread before its stream is cut: Node keeps whatever a response is
 * sent in memory until the client reads it, so a client that never reads would otherwise hold
 * every status and log line of every build it follows. A reader cut off reconnects (the
 * `retry` below) and is sent the build's state and kept log lines again.
 */
export const MAX_UNREAD_BYTES = 256 * 1024;

/**
 * A Server-Sent Events stream on a raw response: `send(event, data)` writes one event with
 * JSON data; comments keep proxies from timing the connection out. Writes after the client
 * went away are dropped; a client that stops reading is cut off (MAX_UNREAD_BYTES). Events
 * sent in one turn of the event loop go out in one write: a build logs its tool's output a
 * line at a time, and a write per line per follower was what one chatty build cost.
 */
export class EventStream {
  private nextId = 1;
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;
  private pending: string[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;

  constructor(
    private readonly response: ServerResponse,
    options: { readonly heartbeatMs?: number; readonly retryMs?: number } = {},
  ) {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx would buffer the stream otherwise
      'x-accel-buffering': 'no',
    });
    response.write(`retry: ${options.retryMs ?? 3000}\n\n`);
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    response.once('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(event: string, data: unknown): void {
    this.sendJson(event, JSON.stringify(data));
  }

  /** `send` with the data already serialised (an event many streams send is serialised once). */
  sendJson(event: string, json: string): void {
    this.write(`id: ${this.nextId++}\nevent: ${event}\ndata: ${json}\n\n`);
  }

  /** Ends the stream once what was sent is written. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.heartbeat);
    if (!this.response.writableEnded) this.response.end();
  }

  private write(text: string): void {
    if (this.closed || this.response.writableEnded || this.response.destroyed) return;
    this.pendingBytes += Buffer.byteLength(text);
    if (this.response.writableLength + this.pendingBytes > MAX_UNREAD_BYTES) {
      // Closed as any stream is, then destroyed: ending alone would keep the unread bytes queued.
      this.pending = [];
      this.pendingBytes = 0;
      this.close();
      this.response.destroy();
      return;
    }
    this.pending.push(text);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.response.writableEnded && !this.response.destroyed) this.response.write(text);
  }
}
