import { setMaxListeners } from 'node:events';
import type { StorePathInfo } from '../types.js';
import type { BinaryCache } from './binary-cache.js';
import { toSriHash } from './nix-hash.js';
import { compareStorePaths } from './store-path.js';

/** Narinfo requests in flight while walking one closure (the cache's own limit applies too). */
const WALK_CONCURRENCY = 32;

/**
 * The closure of `roots` from the cache's narinfos: every store path reachable through
 * References, each with its NarSize, NarHash (in the SRI form `nix path-info --json` prints, so
 * that layer keys match the Nix source's) and references, sorted by path. Narinfos are fetched
 * breadth-first, up to {@link WALK_CONCURRENCY} at a time.
 * @throws the cache's errors (a missing, untrusted or malformed narinfo anywhere in the closure).
 */
export async function closureFromCache(cache: BinaryCache, roots: readonly string[], callerSignal: AbortSignal): Promise<StorePathInfo[]> {
  // One signal of the walk's own, listened to by every request in flight (more than the
  // default warning threshold of 10), following the caller's.
  const controller = new AbortController();
  setMaxListeners(4 * WALK_CONCURRENCY, controller.signal);
  const onAbort = (): void => controller.abort(callerSignal.reason);
  if (callerSignal.aborted) onAbort();
  else callerSignal.addEventListener('abort', onAbort, { once: true });
  try {
    return await walkClosure(cache, roots, controller.signal);
  } finally {
    callerSignal.removeEventListener('abort', onAbort);
  }
}

async function walkClosure(cache: BinaryCache, roots: readonly string[], signal: AbortSignal): Promise<StorePathInfo[]> {
  const infos = new Map<string, StorePathInfo>();
  const queued = new Set<string>(roots);
  const queue = [...queued];
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;

  const visit = async (storePath: string): Promise<void> => {
    const info = await cache.narInfo(storePath, signal);
    infos.set(storePath, {
      path: storePath,
      narSize: info.narSize,
      narHash: toSriHash(info.narHash),
      references: info.references,
    });
    for (const reference of info.references) {
      if (!queued.has(reference)) {
        queued.add(reference);
        queue.push(reference);
      }
    }
  };

  while ((queue.length > 0 || inFlight.size > 0) && !failure) {
    while (queue.length > 0 && inFlight.size < WALK_CONCURRENCY) {
      const task = visit(queue.shift() as string).catch((error: unknown) => {
        failure ??= { error };
      });
      const tracked = task.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    if (inFlight.size > 0) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
  return [...infos.values()].sort((a, b) => compareStorePaths(a.path, b.path));
}
