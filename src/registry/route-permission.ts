import type { FastifyRequest } from 'fastify';
import type { AccessPolicy } from '../auth/access-policy.js';
import type { AccessDecider, RefusalKind } from './access-decision.js';
import { filteredPage } from '../storage/sorted-page.js';
import { RegistryError } from './registry-error.js';
import { mayPullEverySpelling } from './image-spellings.js';
import { imageSpellings, type ImageNameOptions, type ParsedImageName } from '../image-name/image-name.js';

/** What the web UI may offer a caller, decided as the registry's own routes decide it. */
export interface RoutePermissions {
  /**
   * Whether the credentials this request carries would be let through by the access control of
   * `DELETE /v2/<name>/manifests/<reference>` (access `write`, scope `repository:<name>:delete`)
   * and deletes are enabled. Anything else, anonymous callers included, is refused (deny by default).
   */
  mayDelete(request: FastifyRequest, name: string): Promise<Permission>;
  /**
   * Whether the caller the access control let through this request (`request.caller`) may pull
   * the built image `name`, under every spelling of it (image-spellings.ts): which built images
   * the UI's lists show.
   */
  mayPull(request: FastifyRequest, name: string): boolean;
  /** @throws RegistryError DENIED (as the name's `/v2/` routes refuse) when the caller may not pull `name`. */
  assertMayPull(request: FastifyRequest, name: string): void;
  /** @throws RegistryError DENIED when the caller may not pull the built image under one of its spellings (image-spellings.ts). */
  assertMayPullImage(request: FastifyRequest, image: ParsedImageName): void;
  /** Up to `limit` names after `last` from `names` (ascending) the caller may pull: a page of a filtered list, as the catalog pages. */
  pullableNames(request: FastifyRequest, names: (after: string | undefined, limit: number) => Promise<string[]>, last: string | undefined, limit: number): Promise<string[]>;
}

export interface Permission {
  readonly allowed: boolean;
  /** Why not, for the page to say. */
  readonly reason?: string;
  /** Other credentials could change the answer (the page offers to sign in). */
  readonly signIn?: boolean;
}

const denied = (reason: string, signIn = true): Permission => ({ allowed: false, reason, signIn });

/**
 * The permission checks behind the UI's Delete buttons and lists. They ask the very decider the
 * onRequest hook enforces (access-decision.ts) for the target the DELETE route has, so only the
 * wording of a refusal is theirs.
 */
export function routePermissions(decide: AccessDecider, policy: AccessPolicy, deletesEnabled: boolean, imageNames: ImageNameOptions): RoutePermissions {
  const assertMayPull = (request: FastifyRequest, name: string): void => {
    if (!policy.allows(request.caller, name, 'pull')) throw new RegistryError('DENIED', `you may not pull ${name} (auth.access)`, { repository: name, action: 'pull' });
  };
  return {
    async mayDelete(request, name) {
      if (!deletesEnabled) return denied('deleting is turned off on this registry (push.deletes)', false);
      const scope = { type: 'repository', name, action: 'delete', challenge: `repository:${name}:delete`, blobHead: false } as const;
      try {
        const decision = await decide(request, { access: 'write', scope, v2: true });
        if (decision.allowed) return { allowed: true };
        if (!policy.usersConfigured) return denied('no users are configured (auth.htpasswdFile), so nobody may delete', false);
        if (decision.kind === 'rules') return denied(`${decision.user ?? 'this user'} may not delete ${name} (auth.access)`, false);
        return denied(REASONS[decision.kind].replace('<name>', name));
      } catch (error) {
        // Throttled or too many logins queued: the route would answer 429 now.
        if (error instanceof RegistryError) return denied(error.message);
        throw error;
      }
    },
    mayPull(request, name) {
      return mayPullEverySpelling(policy, imageNames, request.caller, name);
    },
    assertMayPull,
    assertMayPullImage(request, image) {
      for (const spelling of imageSpellings(image)) assertMayPull(request, spelling);
    },
    pullableNames(request, names, last, limit) {
      return filteredPage(names, last, limit, (name) => policy.allows(request.caller, name, 'pull'));
    },
  };
}

/** The page's words for why a Delete is not offered. */
const REASONS: Record<Exclude<RefusalKind, 'rules'>, string> = {
  'invalid-token': 'the token is invalid or expired',
  'token-scope': 'the token does not allow delete on <name>',
  'anonymous-token': 'sign in to delete',
  'no-users': 'no users are configured (auth.htpasswdFile), so nobody may delete',
  'no-credentials': 'sign in to delete',
  'fetch-token': 'sign in to delete',
  malformed: 'the credentials are not valid Basic credentials',
  'wrong-password': 'invalid username or password',
};
