import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CredentialVerifier } from '../auth/credential-verifier.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import type { TokenSigner } from '../auth/token-signer.js';
import { AccessPolicy } from '../auth/access-policy.js';
import { RegistryError } from './registry-error.js';
import { accessDecider, type AccessDecider, type RefusalKind } from './access-decision.js';
import { routeScope, type RouteScope } from './route-scope.js';

/**
 * What a route needs from its caller. Every route declares one in its config
 * (`{ config: { access: 'read' } }`); a route without one is refused.
 * - `public`: anyone; credentials are never looked at (health probes, the token endpoint).
 * - `read`: anyone when anonymous pulls are on, and then credentials sent along are ignored, not
 *   checked: a public read never waits on bcrypt. Otherwise a valid user or token.
 * - `login`: the `/v2/` ping: credentials sent are checked, so `docker login` reports a wrong
 *   password. With tokens on, an anonymous ping gets the Bearer challenge (docker then fetches
 *   a token, with the password it has, before it pushes).
 * - `write`: a valid user, or a token allowing the action on the repository, always.
 */
export type Access = 'public' | 'read' | 'login' | 'write';

/** A fixed access, or one chosen from the matched route's (router-decoded) parameters. */
export type AccessRule = Access | ((request: FastifyRequest) => Access);

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
  interface FastifyRequest {
    /** Who the access control let through: a user, or null (anonymous, or not checked). */
    caller: string | null;
  }
}

/** The Docker token flow (auth.token). */
export interface TokenAuth {
  readonly signer: TokenSigner;
  readonly service: string;
  /** The token endpoint's URL in challenges; empty = `/token` on the host the client named. */
  readonly realm: string;
  /** Lifetime of refresh tokens (OAuth2 `POST /token`, `access_type=offline`); default a week. */
  readonly refreshTtlSeconds?: number;
  /** Challenge anonymous `/v2/*` reads too (as Docker Hub does): clients fetch anonymous tokens. */
  readonly challengeAnonymousReads: boolean;
}

export interface AuthOptions {
  /** Checks users' passwords; null when no users are configured (nobody may push). */
  readonly verifier: CredentialVerifier | null;
  readonly anonymousPull: boolean;
  readonly realm: string;
  /** Failed-login limit per client address (a default one when absent). */
  readonly throttle?: LoginThrottle;
  /** Bearer tokens; Basic only when absent. */
  readonly tokens?: TokenAuth;
  /** Who may do what where (auth.access); absent = no rules: users may do everything. */
  readonly policy?: AccessPolicy;
}

/** The policy the options name, or the one without rules. */
export function policyOf(options: AuthOptions): AccessPolicy {
  return options.policy ?? new AccessPolicy({ anonymousPull: options.anonymousPull, usersConfigured: options.verifier !== null });
}

/**
 * Authorization decided from the route that matched, never from the raw URL: the router has
 * already decoded and matched the path, so `/%762/...` is the `/v2/*` route with its declared
 * access. Requests no route matched need what a read needs (they learn only "no such endpoint").
 * It runs at `onRequest`, before any body is read; a refused body is drained so the client can
 * retry on the same connection. The decision itself is access-decision.ts; the decider is
 * returned so the web UI asks it too (route-permission.ts).
 */
export function registerAccessControl(app: FastifyInstance, options: AuthOptions): AccessDecider {
  const basic = `Basic realm="${options.realm}", charset="UTF-8"`;
  const tokens = options.tokens;
  const decide = accessDecider({ ...options, throttle: options.throttle ?? new LoginThrottle(), policy: policyOf(options) });

  const challengeOf = (request: FastifyRequest, scope: RouteScope | null, error?: string): Record<string, string> => {
    // Outside the API (web UI, status, metrics) a browser must be able to ask for the user: Basic.
    const api = request.routeOptions.url === '/v2/*' || request.routeOptions.url === '/v2';
    if (tokens === undefined || !api) return { 'www-authenticate': basic };
    const realm = tokens.realm !== '' ? tokens.realm : `${request.protocol}://${request.host}/token`;
    const parts = [`realm="${realm}"`, `service="${tokens.service}"`];
    if (scope !== null) parts.push(`scope="${scope.challenge}"`);
    if (error !== undefined) parts.push(`error="${error}"`);
    return { 'www-authenticate': `Bearer ${parts.join(',')}` };
  };

  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (request, reply) => {
    const access = accessOf(request);
    if (access === 'public') return;
    const scope = routeScope(request);
    const decision = await decide(request, { access, scope, v2: request.routeOptions.url === '/v2/*' });
    if (decision.allowed) {
      request.caller = decision.caller;
      if (decision.basicChallenge) reply.headers(challengeOf(request, null));
      return;
    }
    request.raw.resume();
    if (decision.code === 'DENIED' && scope !== null) {
      throw new RegistryError('DENIED', `${decision.user ?? ''} may not ${scope.action} ${scope.name} (auth.access)`, { user: decision.user, repository: scope.name, action: scope.action });
    }
    throw new RegistryError('UNAUTHORIZED', refusalMessage(decision.kind, scope, access), undefined, challengeOf(request, scope, decision.tokenError));
  });
  return decide;
}

/** The API's words for a refusal (the UI has its own, route-permission.ts). */
function refusalMessage(kind: RefusalKind, scope: RouteScope | null, access: Access): string {
  switch (kind) {
    case 'invalid-token':
      return 'the bearer token is invalid or expired';
    case 'token-scope':
      return `the token does not allow ${scope?.action ?? 'this'} on ${scope?.name ?? 'this endpoint'}`;
    case 'no-users':
      return 'pushing and deleting are disabled: no users are configured (auth.htpasswdFile)';
    case 'fetch-token':
      return 'authentication required: fetch a token from the realm';
    case 'malformed':
      return 'the Authorization header is not valid Basic credentials';
    case 'wrong-password':
      return 'invalid username or password';
    case 'rules':
      return 'the access rules refuse this';
    case 'no-credentials':
      return access === 'write' ? 'authentication required to push or delete' : 'authentication required';
    case 'anonymous-token':
      return 'authentication required';
  }
}

/** The access the matched route declares; undeclared routes are refused (deny by default). */
function accessOf(request: FastifyRequest): Access {
  if (request.is404) return 'read';
  const rule = request.routeOptions.config.access;
  if (rule === undefined) {
    request.raw.resume();
    throw new RegistryError('DENIED', 'this endpoint declares no access rule and is refused');
  }
  return typeof rule === 'function' ? rule(request) : rule;
}
