import type { FastifyInstance } from 'fastify';
import { RegistryError } from './registry-error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Query parameters the route takes more than once (the token endpoint's `scope`). */
    repeatableQuery?: readonly string[];
  }
}

/**
 * Every query parameter of every route is a single value: none of the API's parameters
 * (`digest`, `mount`, `from`, `n`, `last`, `names`, `tag`, ...) is meant to repeat, and a repeat
 * would reach handlers as an array they do not expect. Refused with 400 before any handler runs.
 */
export function registerSingleQueryValues(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const query = request.query as Record<string, unknown> | undefined;
    if (query === undefined || query === null) return;
    const repeatable = request.is404 ? [] : (request.routeOptions.config.repeatableQuery ?? []);
    for (const [name, value] of Object.entries(query)) {
      if (Array.isArray(value) && !repeatable.includes(name)) {
        request.raw.resume();
        throw new RegistryError('BAD_REQUEST', `query parameter "${name}" is given ${value.length} times; it takes one value`, { parameter: name });
      }
    }
  });
}
