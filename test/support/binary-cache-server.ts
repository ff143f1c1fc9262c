import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

/** Decides what to do with a request before the file is served; return true when it answered. */
export type Fault = (request: IncomingMessage, response: ServerResponse, path: string) => boolean | Promise<boolean>;

export interface CacheServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Paths requested, in order. */
  readonly requests: string[];
  /** Requests waiting for their answer right now (during `delayMs`), and the most at once. */
  readonly inFlight: { now: number; max: number };
  fault: Fault | undefined;
  /** Hold every response this long before answering (for concurrency tests). */
  delayMs: number;
  close(): Promise<void>;
}

/** Serve a binary-cache directory over HTTP on a free loopback port, as a static file server would. */
export async function startCacheServer(root: string): Promise<CacheServer> {
  const state: CacheServer = {
    url: '',
    requests: [],
    inFlight: { now: 0, max: 0 },
    fault: undefined,
    delayMs: 0,
    close: async () => undefined,
  };
  const server = createServer((request, response) => {
    void (async () => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
      state.requests.push(path);
      // Counted while held before answering: what the client has outstanding, not socket teardown.
      state.inFlight.now += 1;
      state.inFlight.max = Math.max(state.inFlight.max, state.inFlight.now);
      if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
      state.inFlight.now -= 1;
      if (state.fault && (await state.fault(request, response, path))) return;
      const file = normalize(join(root, path));
      const info = file.startsWith(root) ? await stat(file).catch(() => null) : null;
      if (!info?.isFile()) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-length': info.size, 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(response);
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
