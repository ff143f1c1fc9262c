import type { FastifyInstance } from 'fastify';
import { mapError } from './error-mapping.js';
import { noSuchEndpoint } from './registry-error.js';
import { registerV2Routes, type RegistryDeps } from './v2-routes.js';
import { registerStatusRoutes } from './status-routes.js';
import { policyOf, registerAccessControl } from './access-control.js';
import { registerHealthRoutes, type HealthOptions } from './health-routes.js';
import { noteRefusal, registerRequestLog } from './request-log.js';
import { registerSingleQueryValues } from './single-query.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { registerTokenRoute } from './token-route.js';
import { registerOAuthTokenRoute, type TokenGrant } from './token-oauth-route.js';
import { grant } from '../auth/token-scopes.js';
import { DEFAULT_BODY_IDLE_TIMEOUT_MS, registerBodyTimeout } from './body-timeout.js';
import { registerHostCheck } from './host-check.js';
import { routePermissions, type RoutePermissions } from './route-permission.js';
import { servedFromPushes } from './pull-handlers.js';
import { pullRefusedSpellings } from './image-spellings.js';

/**
 * Everything HTTP: the `/v2/` API, access control on every route, the error envelope for every
 * failure (including unknown routes and fastify's own client errors), one log line per request,
 * and the headers every response carries. Register it before other routes (web, metrics) so its
 * hooks and error handler cover them. Returns the permission checks the web UI asks before it
 * offers an action: the decider the routes' access control enforces.
 */
export function registerRegistry(app: FastifyInstance, deps: RegistryDeps, health: HealthOptions = { checks: [] }): { permissions: RoutePermissions; servedFromPushes: (name: string) => Promise<boolean> } {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('docker-distribution-api-version', 'registry/2.0');
    // Every answer is served as its Content-Type says (JSON, blobs), never sniffed as HTML.
    reply.header('x-content-type-options', 'nosniff');
  });
  registerRequestLog(app);

  app.setErrorHandler((error, request, reply) => {
    const mapped = mapError(error);
    if (mapped.unexpected) request.log.error({ err: error }, 'request failed unexpectedly');
    else noteRefusal(request, mapped.body.errors[0]?.code, (error as Error).message);
    // Once a body has started streaming, the status can no longer change: end the stream.
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    void reply.code(mapped.status).headers(mapped.headers).type('application/json').send(mapped.body);
  });

  registerBodyTimeout(app, deps.bodyIdleTimeoutMs ?? DEFAULT_BODY_IDLE_TIMEOUT_MS);
  registerHostCheck(app);
  // One failed-login count per address, whether the password came to /v2/ or to /token.
  const auth = { ...deps.auth, throttle: deps.auth.throttle ?? new LoginThrottle() };
  const decide = registerAccessControl(app, auth);
  registerSingleQueryValues(app);

  app.setNotFoundHandler((request, reply) => {
    request.raw.resume();
    const mapped = mapError(noSuchEndpoint(request.method, request.url));
    void reply.code(mapped.status).headers(mapped.headers).type('application/json').send(mapped.body);
  });

  registerV2Routes(app, deps);
  if (auth.tokens !== undefined) {
    // A token carries no pull the handlers would refuse under another spelling of the image.
    const policy = policyOf(auth);
    const grantAccess: TokenGrant = async (requested, caller) => {
      const names = requested.filter((entry) => entry.type === 'repository').map((entry) => entry.name);
      return grant(requested, caller, policy, await pullRefusedSpellings(policy, deps.imageNames, caller, names, (name) => servedFromPushes(deps, name)));
    };
    registerTokenRoute(app, auth, auth.tokens, auth.throttle, grantAccess);
    registerOAuthTokenRoute(app, auth, auth.tokens, auth.throttle, grantAccess);
  }
  registerHealthRoutes(app, health);
  const permissions = routePermissions(decide, policyOf(auth), deps.deletesEnabled, deps.imageNames);
  registerStatusRoutes(app, { tracker: deps.builder.tracker, imageNames: deps.imageNames, permissions });
  return { permissions, servedFromPushes: (name) => servedFromPushes(deps, name) };
}
