import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StowageMetrics } from './metrics.js';

/**
 * `GET /metrics` in Prometheus text format, and an onResponse hook counting every request by
 * route, method and status, and the bytes of blobs and manifests served. Routes are labelled by
 * their pattern, never by the raw URL, so label values stay few: `/v2/*` is split into the API
 * endpoint it serves (`/v2/<name>/blobs/<digest>`, ...), unknown URLs are `unmatched`.
 *
 * Bytes served are the Content-Length of successful GET responses: a client that disconnects
 * mid-blob is counted in full. `text` gives the body: this registry's metrics, or (in a cluster
 * of serving workers) every worker's, collected by the primary.
 */
export function registerMetrics(app: FastifyInstance, metrics: StowageMetrics, text: () => Promise<string> = () => metrics.registry.metrics()): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = routeLabel(request);
    const method = request.method;
    metrics.httpRequests.inc({ route, method, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route, method }, reply.elapsedTime / 1000);
    if (method === 'GET' && (reply.statusCode === 200 || reply.statusCode === 206)) {
      const kind = route === V2_BLOB ? 'blob' : route === V2_MANIFEST ? 'manifest' : null;
      const length = Number(reply.getHeader('content-length'));
      if (kind !== null && Number.isFinite(length)) metrics.servedBytes.inc({ kind }, length);
    }
  });

  // Metrics name images and request rates: readable by whoever may pull.
  app.get('/metrics', { config: { access: 'read' } }, async (_request, reply) => {
    const body = await text();
    return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(body);
  });
}

const V2_BLOB = '/v2/<name>/blobs/<digest>';
const V2_MANIFEST = '/v2/<name>/manifests/<reference>';

/** The route pattern a request matched, with the `/v2/*` wildcard resolved to its endpoint. */
export function routeLabel(request: Pick<FastifyRequest, 'url' | 'routeOptions'>): string {
  const pattern = request.routeOptions.url;
  if (pattern === undefined) return 'unmatched';
  if (!pattern.startsWith('/v2/')) return pattern;
  const path = request.url.split('?')[0] ?? '';
  if (/\/blobs\/uploads(\/|$)/.test(path)) return '/v2/<name>/blobs/uploads';
  if (/\/blobs\/[^/]+$/.test(path)) return V2_BLOB;
  if (/\/manifests\/[^/]+$/.test(path)) return V2_MANIFEST;
  if (/\/tags\/list$/.test(path)) return '/v2/<name>/tags/list';
  if (/^\/v2\/?$/.test(path)) return '/v2/';
  return '/v2/<other>';
}
