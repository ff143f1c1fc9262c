import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { registerApiRoutes } from './api-routes.js';
import { registerBuildRoutes } from './build-routes.js';
import { registerRepositoryRoutes } from './repository-routes.js';
import type { WebDeps } from './web-deps.js';

export type { WebDeps } from './web-deps.js';

/**
 * Every page and asset is served from `public/` (no CDN: a registry behind a firewall has no
 * internet either), and the Content-Security-Policy forbids loading anything from elsewhere.
 *
 *   GET /                          landing page
 *   GET /images/<name>[:<tag>]     image explorer
 *   GET /static/*                  CSS, JavaScript modules, icons (@fastify/static)
 *
 * Pages are static HTML filled in by small scripts from the JSON API (api-routes.ts,
 * build-routes.ts), so the same data serves the pages and scripts.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export function registerWeb(app: FastifyInstance, deps: WebDeps): void {
  // @fastify/static takes no route config: its routes (all under /static/) are declared readable
  // here, as they are added. Every other web route declares its access itself.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/static/') && route.config?.access === undefined) route.config = { ...route.config, access: 'read' };
  });
  void app.register(fastifyStatic, {
    root: `${deps.publicDir}/static`,
    prefix: '/static/',
    index: false,
    maxAge: '5m',
    setHeaders: (response) => response.header('x-content-type-options', 'nosniff'),
  });

  const page = (file: string) => async (_request: unknown, reply: FastifyReply) =>
    reply
      .header('content-security-policy', CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('cache-control', 'no-cache')
      .sendFile(file, deps.publicDir);
  const readRoute = { config: { access: 'read' as const } };
  app.get('/', readRoute, page('index.html'));
  app.get('/images/*', readRoute, page('image.html'));
  app.get('/images', readRoute, async (_request, reply) => reply.redirect('/', 302));

  registerApiRoutes(app, deps);
  registerBuildRoutes(app, deps);
  registerRepositoryRoutes(app, deps);
}
