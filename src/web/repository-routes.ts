import type { FastifyInstance, FastifyRequest } from 'fastify';
import { nameProblem } from '../oci/reference.js';
import { RegistryError } from '../registry/registry-error.js';
import { describePushedRepository, type PushedRepositoryView } from './repository-view.js';
import type { Permission, WebDeps } from './web-deps.js';

const MAX_NAMES = 200;

export interface PushedRepositoryAnswer extends PushedRepositoryView {
  readonly registry: string;
  /** Whether the registry's DELETE route would let this caller delete the repository's tags. */
  readonly deletes: Permission;
}

/**
 * Pushed repositories, as the UI shows them:
 *   GET /api/v1/repositories?last=      names of pushed repositories, ascending, a page at a time
 *   GET /api/v1/repositories/<name>?last=  its tags (100 a page, after `last`; `nextTag` asks the
 *                                       next) with digest, media type, platforms, size and push
 *                                       time, and `deletes`: whether the credentials sent may delete
 * Deleting is the registry's own `DELETE /v2/<name>/manifests/<tag>`; `deletes` only tells the page
 * whether to offer it (route-permission.ts decides as that route's access control does).
 */
export function registerRepositoryRoutes(app: FastifyInstance, deps: WebDeps): void {
  // What pulls could learn (tags/list, manifests): readable by whoever may pull.
  const readRoute = { config: { access: 'read' as const } };

  app.get<{ Querystring: { last?: string } }>('/api/v1/repositories', readRoute, async (request) => {
    // Only names the caller may pull, as the catalog lists them.
    const names = await deps.permissions.pullableNames(request, (after, limit) => deps.repositories.names(after, limit), request.query.last, MAX_NAMES + 1);
    const page = names.slice(0, MAX_NAMES);
    return { repositories: page, next: names.length > MAX_NAMES ? (page[page.length - 1] ?? null) : null };
  });

  app.get<{ Params: { '*': string }; Querystring: { last?: string } }>('/api/v1/repositories/*', readRoute, async (request) => {
    const name = request.params['*'];
    const answer = await pushedRepositoryAnswer(deps, request, name, request.query.last);
    if (answer === null) throw new RegistryError('NAME_UNKNOWN', `nothing has been pushed to ${name}`, { name });
    return answer;
  });
}

/**
 * The pushed repository `name` as the page shows it, or null when nothing was pushed there.
 * @throws RegistryError DENIED when the caller may not pull it (as its `/v2/` routes refuse).
 */
export async function pushedRepositoryAnswer(deps: WebDeps, request: FastifyRequest, name: string, lastTag?: string): Promise<PushedRepositoryAnswer | null> {
  if (nameProblem(name) !== null) return null;
  // Before looking: whether a private name exists is itself not for the caller to learn.
  deps.permissions.assertMayPull(request, name);
  // Something was pushed, and the registry serves the name from pushes (not a package list
  // that was pushed to before it became one: that name is built).
  if (!(await deps.repositories.isPushed(name)) || !(await deps.servedFromPushes(name))) return null;
  const view = await describePushedRepository(deps.repositories, name, lastTag);
  return { ...view, registry: deps.publicHost || request.host, deletes: await deps.permissions.mayDelete(request, name) };
}
