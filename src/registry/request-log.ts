import type { FastifyInstance } from 'fastify';

/** Probes polled by load balancers and Prometheus: logged at debug so they do not drown the rest. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One log line per request, when its response is done: method, URL, status and duration, at info
 * (probes at debug). fastify's own request lines are off (server-options.ts).
 */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const fields = { method: request.method, url: request.url, status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 10) / 10 };
    if (PROBES.has(path)) request.log.debug(fields, 'request');
    else request.log.info(fields, 'request');
  });
}
