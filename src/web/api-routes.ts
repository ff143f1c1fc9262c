import type { FastifyInstance } from 'fastify';
import { describeImage } from './image-explorer.js';
import { MAX_QUERY_LENGTH, MAX_QUERY_WORDS, queryWords, searchPackages } from './package-search.js';
import { imageFromRequest, requestSignal, type WebDeps } from './web-deps.js';
import { RegistryError } from '../registry/registry-error.js';
import { pushedRepositoryAnswer } from './repository-routes.js';
import { filteredPage } from '../storage/sorted-page.js';
import { nameOfEntry } from '../builder/built-names-backfill.js';

const MAX_SEARCH_RESULTS = 100;
const MAX_SIZE_NAMES = 50;
/** Built images one page of `/api/v1/images` lists at most. */
export const MAX_IMAGES = 1000;

/**
 * The JSON the UI pages are drawn from:
 *   GET /api/v1/info                  registry host, source, revisions, systems
 *   GET /api/v1/packages?q=&limit=    package search over the source's listing
 *   GET /api/v1/package-sizes?names=  closure sizes of packages already in the store
 *   GET /api/v1/images?last=          images built here (`name:tag`), MAX_IMAGES a page after `last`
 *   GET /api/v1/images/<name>?tag=    one image: manifest, config, layers and who shares them
 *                                     (`kind: 'built'`), or a pushed repository's tags (`kind:
 *                                     'pushed'`, repository-routes.ts): a pushed name is never built
 */
export function registerApiRoutes(app: FastifyInstance, deps: WebDeps): void {
  const defaultSystem = deps.imageNames.systems[0] as string;
  // Everything here is what a pull could learn: readable by whoever may pull.
  const readRoute = { config: { access: 'read' as const } };

  app.get('/api/v1/info', readRoute, async (request) => {
    const revisions = (await deps.source.revisions?.().catch(() => null)) ?? ['latest'];
    const packageSet = await deps.source.cacheKey({ packages: [], revision: revisions[0] ?? 'latest', system: defaultSystem }).catch(() => null);
    return {
      registry: deps.publicHost || request.host,
      source: deps.source.name,
      revisions,
      packageSet,
      systems: deps.imageNames.systems,
      shellPackages: deps.imageNames.shellPackages,
      compression: deps.imageNames.compression,
      maxPackages: deps.imageNames.maxPackages,
      search: deps.source.listPackages !== undefined,
    };
  });

  app.get<{ Querystring: { q?: string; limit?: string; tag?: string } }>('/api/v1/packages', readRoute, async (request, reply) => {
    const limit = clampInt(request.query.limit, 25, 1, MAX_SEARCH_RESULTS);
    const query = request.query.q ?? '';
    if (query.length > MAX_QUERY_LENGTH || queryWords(query).length > MAX_QUERY_WORDS) {
      throw new RegistryError('BAD_REQUEST', `a search holds at most ${MAX_QUERY_WORDS} words and ${MAX_QUERY_LENGTH} characters`, { words: MAX_QUERY_WORDS, characters: MAX_QUERY_LENGTH });
    }
    const revision = request.query.tag ?? 'latest';
    if (!deps.source.listPackages) return { supported: false, revision, total: 0, packages: [] };
    const all = await deps.source.listPackages({ revision, system: defaultSystem }, { signal: requestSignal(reply) });
    return { supported: true, revision, ...searchPackages(all, query, limit) };
  });

  app.get<{ Querystring: { names?: string; tag?: string } }>('/api/v1/package-sizes', readRoute, async (request, reply) => {
    const names = (request.query.names ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
    if (names.length > MAX_SIZE_NAMES) throw new RegistryError('BAD_REQUEST', `at most ${MAX_SIZE_NAMES} names per request`);
    const revision = request.query.tag ?? 'latest';
    if (!deps.source.closureSizes || names.length === 0) return { revision, sizes: Object.fromEntries(names.map((name) => [name, null])) };
    return { revision, sizes: await deps.source.closureSizes({ revision, system: defaultSystem }, names, { signal: requestSignal(reply) }) };
  });

  // `name:tag` entries, sorted, a page at a time (every pull of a new package list adds one);
  // only the names the caller may pull, as the catalog lists them.
  app.get<{ Querystring: { last?: string } }>('/api/v1/images', readRoute, async (request) => {
    // One more than a page, to know whether there is a next one.
    const found = await filteredPage((after, limit) => deps.images.images(after, limit), request.query.last, MAX_IMAGES + 1, (image) => deps.permissions.mayPull(request, nameOfEntry(image)));
    const images = found.slice(0, MAX_IMAGES);
    return { images, next: found.length > MAX_IMAGES ? (images[images.length - 1] ?? null) : null };
  });

  app.get<{ Params: { '*': string }; Querystring: { tag?: string } }>('/api/v1/images/*', readRoute, async (request, reply) => {
    const pushed = await pushedRepositoryAnswer(deps, request, request.params['*']);
    if (pushed !== null) return pushed;
    const image = imageFromRequest(request, deps.imageNames);
    deps.permissions.assertMayPullImage(request, image);
    const visible = (other: string): boolean => deps.permissions.mayPull(request, nameOfEntry(other));
    return { kind: 'built', registry: deps.publicHost || request.host, ...(await describeImage(deps, image, visible, requestSignal(reply))) };
  });
}

function clampInt(raw: string | undefined, fallback: number, min: number, max: number): number {
  const value = raw === undefined ? fallback : Number.parseInt(raw, 10);
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}
