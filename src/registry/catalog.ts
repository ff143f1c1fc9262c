import type { FastifyReply, FastifyRequest } from 'fastify';
import { policyOf } from './access-control.js';
import { RegistryError } from './registry-error.js';
import { mayPullEverySpelling } from './image-spellings.js';
import type { RegistryDeps } from './registry-deps.js';

/** The most names one catalog page holds, whatever `n` asks: a page is always bounded. */
export const MAX_CATALOG_PAGE = 1000;

/** Pushed names read from the store at a time while looking for ones the caller may read. */
const SCAN_CHUNK = 1000;

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
  const pushed = await readableNames((after, limit) => deps.repositories.names(after, limit), last, n + 1, readable);
  // A built image is listed only when every spelling of it is readable (image-spellings.ts).
  const built = builtNames(await deps.images.all()).filter((name) => (last === undefined || name > last) && mayPullEverySpelling(policy, deps.imageNames, request.caller, name));
  const merged = [...new Set([...pushed, ...built])].sort();
  const repositories = merged.slice(0, n);
  if (merged.length > n) {
    const next = new URLSearchParams({ n: String(n), last: repositories[repositories.length - 1] ?? '' });
    reply.header('link', `</v2/_catalog?${next}>; rel="next"`);
  }
  return reply.send({ repositories });
}

/**
 * Up to `limit` names after `last` that `readable` accepts, read from `names` (ascending, like
 * PushedRepositoryStore.names) a chunk at a time: a page of what the caller may read is full
 * however many names it may not read sort in between.
 */
export async function readableNames(names: (after: string | undefined, limit: number) => Promise<string[]>, last: string | undefined, limit: number, readable: (name: string) => boolean, chunkSize = SCAN_CHUNK): Promise<string[]> {
  const found: string[] = [];
  let cursor = last;
  for (;;) {
    const chunk = await names(cursor, chunkSize);
    for (const name of chunk) if (readable(name) && found.push(name) === limit) return found;
    if (chunk.length < chunkSize) return found;
    cursor = chunk[chunk.length - 1];
  }
}

function pageSize(raw: string | undefined): number {
  if (raw === undefined) return MAX_CATALOG_PAGE;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) {
    throw new RegistryError('BAD_REQUEST', 'query parameter "n" must be a non-negative integer', { n: raw });
  }
  return Math.min(n, MAX_CATALOG_PAGE);
}

/** Image names from the read model's `<name>:<tag>` entries (a tag never holds ':'). */
function builtNames(images: readonly string[]): string[] {
  return images.map((image) => {
    const colon = image.lastIndexOf(':');
    return colon < 0 ? image : image.slice(0, colon);
  });
}
