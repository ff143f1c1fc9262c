import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EventStream, MAX_UNREAD_BYTES } from '../../../src/web/sse.js';

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A real HTTP response on loopback whose client connects and then never reads a byte. */
async function unreadResponse(): Promise<ServerResponse> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const responded = new Promise<ServerResponse>((resolve) => server.once('request', (_request, response) => resolve(response)));
  const client: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.write('GET /api/v1/build-events/tool HTTP/1.1\r\nHost: x\r\n\r\n');
  client.pause();
  closers.push(() => {
    client.destroy();
    server.closeAllConnections();
    server.close();
  });
  return responded;
}

/**
 * A client following a build's events that never reads kept every event written to it in the
 * server's memory, without bound: each status and log line of the build (and of every build it
 * followed, over as many connections as it liked).
 */
describe('an event stream whose client does not read', () => {
  it('is cut off once MAX_UNREAD_BYTES wait unread, instead of buffering every event', async () => {
    const response = await unreadResponse();
    const stream = new EventStream(response, { heartbeatMs: 60_000 });
    const line = { image: 'tool', text: 'x'.repeat(400) };
    let sent = 0;
    while (!stream.isClosed && sent < 20_000) {
      stream.send('log', line);
      sent += 1;
      // Let the socket take what the kernel accepts, as time passing between log lines does.
      if (sent % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(stream.isClosed).toBe(true);
    expect(response.destroyed).toBe(true);
    expect(response.writableLength).toBeLessThanOrEqual(MAX_UNREAD_BYTES + 1024);
  });
});

describe('events sent in one turn of the event loop', () => {
  it('go out in one write, in order, and close() writes what is pending first', async () => {
    const response = await unreadResponse();
    const stream = new EventStream(response, { heartbeatMs: 60_000 });
    const written: string[] = [];
    const write = response.write.bind(response) as (chunk: string) => boolean;
    Object.assign(response, { write: (chunk: string) => (written.push(chunk), write(chunk)) });
    for (let i = 0; i < 100; i += 1) stream.send('log', { i });
    expect(written).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toHaveLength(1);
    expect([...(written[0] ?? '').matchAll(/data: \{"i":(\d+)\}/g)].map((match) => Number(match[1]))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    stream.send('done', { last: true });
    stream.close();
    expect(written).toHaveLength(2);
    expect(written[1]).toContain('event: done');
  });
});
