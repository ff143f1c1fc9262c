import type { FastifyInstance } from 'fastify';
import { mapError } from './error-mapping.js';
import { RegistryError } from './registry-error.js';
import { registerV2Routes, type RegistryDeps } from './v2-routes.js';
import { registerStatusRoutes } from './status-routes.js';
import { registerAuth } from './auth-hook.js';
import { registerHealthRoutes, type HealthOptions } from './health-routes.js';

/**
 * Everything HTTP: the `/v2/` API, the error envelope for every failure (including unknown
 * routes and fastify's own client errors), and the headers every response carries.
 */
export function registerRegistry(app: FastifyInstance, deps: RegistryDeps, health: HealthOptions = { checks: [] }): void {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('docker-distribution-api-version', 'registry/2.0');
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = mapError(error);
    if (mapped.unexpected) request.log.error({ err: error }, 'request failed unexpectedly');
    else request.log.info({ code: mapped.body.errors[0]?.code, status: mapped.status, reason: (error as Error).message }, 'request refused');
    // Once a body has started streaming, the status can no longer change: end the stream.
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    void reply.code(mapped.status).headers(mapped.headers).type('application/json').send(mapped.body);
  });

  registerAuth(app, deps.auth);

  app.setNotFoundHandler((request, reply) => {
    const error = new RegistryError('NAME_UNKNOWN', `no such endpoint: ${request.method} ${request.url.split('?')[0]}`, undefined, {}, 404);
    const mapped = mapError(error);
    void reply.code(mapped.status).type('application/json').send(mapped.body);
  });

  registerV2Routes(app, deps);
  registerHealthRoutes(app, health);
  registerStatusRoutes(app, { tracker: deps.builder.tracker, imageNames: deps.imageNames });
}
