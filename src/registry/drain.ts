import type { FastifyInstance } from 'fastify';
import type { ReadinessCheck } from './health-routes.js';

/**
 * The drain before a graceful shutdown. Once it begins, `/readyz` fails (so the load balancer
 * stops sending new clients) while requests are still served: clients that already have this
 * replica's address, such as a pull between its manifest and its blobs, finish here. HTTP/1.1
 * responses then carry `Connection: close`, so keep-alive clients reconnect elsewhere.
 */
export class Drain {
  private started = false;

  /** Fails once the drain has begun. */
  readonly readiness: ReadinessCheck = {
    name: 'shutdown',
    check: async () => {
      if (this.started) throw new Error('shutting down');
    },
  };

  get draining(): boolean {
    return this.started;
  }

  begin(): void {
    this.started = true;
  }

  register(server: FastifyInstance): void {
    server.addHook('onRequest', async (request, reply) => {
      if (this.started && request.raw.httpVersionMajor === 1) reply.header('connection', 'close');
    });
    // A response begun before the drain went out keep-alive; once it ends, its idle connection
    // is closed here, or the process would wait for the client to hang up before exiting.
    // (HTTP/2 sessions get a GOAWAY at close instead.)
    const http1 = server.server as { closeIdleConnections?: () => void };
    server.addHook('onResponse', async () => {
      if (this.started && typeof http1.closeIdleConnections === 'function') setImmediate(() => http1.closeIdleConnections?.());
    });
  }
}
