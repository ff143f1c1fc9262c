import type { FastifyInstance } from 'fastify';
import type { BuildTracker } from '../builder/build-tracker.js';
import { parseImageName, type ImageNameOptions } from '../image-name/image-name.js';
import { isValidTag } from '../oci/reference.js';
import { RegistryError } from './registry-error.js';
import type { RoutePermissions } from './route-permission.js';

export interface StatusDeps {
  readonly tracker: BuildTracker;
  readonly imageNames: ImageNameOptions;
  /** The access rules' pull decision (auth.access), as the UI's lists ask it. */
  readonly permissions: Pick<RoutePermissions, 'mayPull' | 'assertMayPullImage'>;
}

/**
 * `GET /api/v1/builds`: every recent build's status; `GET /api/v1/builds/<name>?tag=T`: the
 * status of one image's build per system (phase, layers done of total, error), so a user whose
 * pull got "still building, retry" can watch it.
 */
export function registerStatusRoutes(app: FastifyInstance, deps: StatusDeps): void {
  // Build statuses name images and carry build logs: readable by whoever may pull the image.
  const readRoute = { config: { access: 'read' as const } };
  app.get('/api/v1/builds', readRoute, async (request) => ({ builds: deps.tracker.all().filter((status) => deps.permissions.mayPull(request, status.image)).reverse() }));
  app.get<{ Params: { '*': string }; Querystring: { tag?: string } }>('/api/v1/builds/*', readRoute, async (request) => {
    const tag = request.query.tag ?? 'latest';
    if (!isValidTag(tag)) throw new RegistryError('TAG_INVALID', `"${tag}" is not a valid tag`);
    const image = parseImageName(request.params['*'], tag, deps.imageNames);
    deps.permissions.assertMayPullImage(request, image);
    const builds = deps.tracker.get(image.canonicalName, tag);
    if (builds.length === 0) {
      throw new RegistryError('NAME_UNKNOWN', `no build of ${image.canonicalName}:${tag} is known to this replica`, { name: image.canonicalName, tag });
    }
    return { image: image.canonicalName, tag, builds };
  });
}
