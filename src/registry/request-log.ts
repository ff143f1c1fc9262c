import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Why a request was refused (code and reason), added to its one log line. */
const refusals = new WeakMap<FastifyRequest, { readonly code: string | undefined; readonly reason: string }>();

/** Remember a refusal for the request's log line, rather than writing a second line. */
export function noteRefusal(request: FastifyRequest, code: string | undefined, reason: string): void {
  refusals.set(request, { code, reason });
}

/** Probes polled by load balancers and Prometheus: logged at debug so they do not drown the rest. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One log line per request, when its response is done: method, URL, status and duration, at info
 * (probes at debug). fastify's own request lines are off (server-options.ts).
 */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const fields = { method: request.method, url: request.url, status: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 10) / 10, ...refusals.get(request) };
    if (PROBES.has(path)) request.log.debug(fields, 'request');
    else request.log.info(fields, 'request');
  });
}
