import type { FastifyReply, FastifyRequest } from 'fastify';
import { policyOf } from './access-control.js';
import { RegistryError } from './registry-error.js';
import { mayPullEverySpelling } from './image-spellings.js';
import type { RegistryDeps } from './registry-deps.js';
import { filteredPage } from '../storage/sorted-page.js';

/** The most names one catalog page holds, whatever `n` asks: a page is always bounded. */
export const MAX_CATALOG_PAGE = 1000;

/**
 * `GET /v2/_catalog`: the names of pushed repositories and of built images the caller may pull
 * (the access rules decide, as on the repository's own routes), ascending, paged with the spec's
 * `n` and `last`. A page cut short (by `n` or by the page bound) carries a
 * `Link: <...>; rel="next"` header to the next one, so a client that follows links sees every
 * name it may read once; a name it may not read is never sent, not even in a Link.
 */
export async function serveCatalog(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const query = request.query as { n?: string; last?: string };
  const n = pageSize(query.n);
  const { last } = query;
  if (n === 0) return reply.send({ repositories: [] });
  const policy = policyOf(deps.auth);
  const readable = (name: string): boolean => policy.allows(request.caller, name, 'pull');
  // One more than the page asks, to know whether there is a next page.
  const pushed = await filteredPage((after, limit) => deps.repositories.names(after, limit), last, n + 1, readable);
  // A built image is listed only when every spelling of it is readable (image-spellings.ts).
  const built = await filteredPage((after, limit) => deps.images.names(after, limit), last, n + 1, (name) => mayPullEverySpelling(policy, deps.imageNames, request.caller, name));
  // Each holds the first n + 1 names of its kind, so the first n of both are among them.
  const merged = [...new Set([...pushed, ...built])].sort();
  const repositories = merged.slice(0, n);
  if (merged.length > n) {
    const next = new URLSearchParams({ n: String(n), last: repositories[repositories.length - 1] ?? '' });
    reply.header('link', `</v2/_catalog?${next}>; rel="next"`);
  }
  return reply.send({ repositories });
}

function pageSize(raw: string | undefined): number {
  if (raw === undefined) return MAX_CATALOG_PAGE;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new RegistryError('BAD_REQUEST', 'query parameter "n" must be a non-negative integer', { n: raw });
  }
  return Math.min(n, MAX_CATALOG_PAGE);
}
