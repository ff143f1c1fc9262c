/** An HTTP proxy in front of the test S3 server that fails requests on demand: throttling, resets, silence. */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultProxy {
  readonly url: string;
  /** Fail this many of the next requests. */
  failNext: number;
  failAll: boolean;
  /** 503 SlowDown (throttling), a reset connection (network error), or no answer at all. */
  kind: '503' | 'reset' | 'stall';
  requests: number;
  failures: number;
  close(): Promise<void>;
}

/** An HTTP proxy in front of s3rver that fails requests on demand. */
export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const proxy: Omit<FaultProxy, 'url' | 'close'> = { failNext: 0, failAll: false, kind: '503', requests: 0, failures: 0 };
  const server: Server = createServer((req, res) => {
    proxy.requests += 1;
    if (proxy.failAll || proxy.failNext > 0) {
      proxy.failNext = Math.max(0, proxy.failNext - 1);
      proxy.failures += 1;
      req.resume();
      // A frozen S3: the connection stays open and nothing comes back.
      if (proxy.kind === 'stall') return;
      if (proxy.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
