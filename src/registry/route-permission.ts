import type { FastifyRequest } from 'fastify';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { allows } from '../auth/token-scopes.js';
import { policyOf, type AuthOptions } from './access-control.js';
import { basicCredentials, bearerToken, checkLogin } from './basic-login.js';
import { RegistryError } from './registry-error.js';

/** What the web UI may offer a caller, decided as the registry's own routes decide it. */
export interface RoutePermissions {
  /**
   * Whether the credentials this request carries would be let through by the access control of
   * `DELETE /v2/<name>/manifests/<reference>` (access `write`, scope `repository:<name>:delete`)
   * and deletes are enabled: a Bearer token allowing `delete` on `name`, or a user's valid Basic
   * credentials. Anything else, anonymous callers included, is refused (deny by default).
   */
  mayDelete(request: FastifyRequest, name: string): Promise<Permission>;
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
 * The permission checks behind the UI's Delete buttons. They repeat the decision access-control.ts
 * makes for a `write` route, from the same parts (token verification, `allows`, `checkLogin`
 * with the same failed-login throttle); test/unit/registry/route-permission.test.ts holds the
 * two to the same answers for every kind of caller.
 */
export function routePermissions(auth: AuthOptions & { readonly throttle: LoginThrottle }, deletesEnabled: boolean): RoutePermissions {
  return {
    async mayDelete(request, name) {
      if (!deletesEnabled) return denied('deleting is turned off on this registry (push.deletes)', false);
      if (auth.verifier === null) return denied('no users are configured (auth.htpasswdFile), so nobody may delete', false);
      const header = request.headers.authorization;
      const token = auth.tokens === undefined ? null : bearerToken(header);
      if (auth.tokens !== undefined && token !== null) {
        const claims = auth.tokens.signer.verify(token);
        if (claims === null) return denied('the token is invalid or expired');
        return allows(claims.access, 'repository', name, 'delete') ? { allowed: true } : denied(`the token does not allow delete on ${name}`);
      }
      const credentials = basicCredentials(header);
      if (credentials === null) return denied('sign in to delete');
      if (credentials === 'malformed') return denied('the credentials are not valid Basic credentials');
      try {
        if (!(await checkLogin(request, credentials, auth.verifier, auth.throttle))) return denied('invalid username or password');
        // The access rules (auth.access) decide for a valid user as they do on the route itself.
        return policyOf(auth).allows(credentials.user, name, 'delete') ? { allowed: true } : denied(`${credentials.user} may not delete ${name} (auth.access)`, false);
      } catch (error) {
        if (error instanceof RegistryError) return denied(error.message);
        throw error;
      }
    },
  };
}
