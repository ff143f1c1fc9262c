import type { ServerResponse } from 'node:http';

/**
 * Bytes a client may leave unread before its stream is cut: Node keeps whatever a response is
 * sent in memory until the client reads it, so a client that never reads would otherwise hold
 * every status and log line of every build it follows. A reader cut off reconnects (the
 * `retry` below) and is sent the build's state and kept log lines again.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;

/**
 * A Server-Sent Events stream on a raw response: `send(event, data)` writes one event with
 * JSON data; comments keep proxies from timing the connection out. Writes after the client
 * went away are dropped; a client that stops reading is cut off (MAX_UNREAD_BYTES).
 */
export class EventStream {
  private nextId = 1;
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

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
    this.write(`id: ${this.nextId++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    if (!this.response.writableEnded) this.response.end();
  }

  private write(text: string): void {
    if (this.closed || this.response.writableEnded || this.response.destroyed) return;
    if (this.response.writableLength > MAX_UNREAD_BYTES) {
      // Closed as any stream is, then destroyed: ending alone would keep the unread bytes queued.
      this.close();
      this.response.destroy();
      return;
    }
    this.response.write(text);
  }
}
