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

  /**
   * @param readiness the list `/readyz` runs; the drain adds its failing `shutdown` check to it
   *   when it begins, so until then `/readyz` answers exactly as before.
   */
  constructor(private readonly readiness: ReadinessCheck[]) {}

  get draining(): boolean {
    return this.started;
  }

  begin(): void {
    if (this.started) return;
    this.started = true;
    this.readiness.push({
      name: 'shutdown',
      check: async () => {
        throw new Error('shutting down');
      },
    });
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
