import type { FastifyRequest } from 'fastify';
import type { AccessPolicy } from '../auth/access-policy.js';
import type { CredentialVerifier } from '../auth/credential-verifier.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { allows } from '../auth/token-scopes.js';
import { basicCredentials, bearerToken, checkLogin } from './basic-login.js';
import type { RouteScope } from './route-scope.js';
import type { TokenSigner } from '../auth/token-signer.js';

/** What is asked of a caller: a route's access (see access-control.ts) and, under `/v2/*`, its scope. */
export interface AccessTarget {
  readonly access: 'read' | 'login' | 'write';
  /** The repository or registry scope of a `/v2/*` request; null for the ping and outside the API. */
  readonly scope: RouteScope | null;
  /** Whether the target is a `/v2/*` route (where token-aware clients are challenged to fetch a token). */
  readonly v2: boolean;
}

/** Why a caller is refused, for the hook and the UI to word each their own way. */
export type RefusalKind =
  | 'invalid-token'
  | 'token-scope'
  | 'anonymous-token'
  | 'no-users'
  | 'no-credentials'
  | 'fetch-token'
  | 'malformed'
  | 'wrong-password'
  | 'rules';

export type AccessDecision =
  | {
      readonly allowed: true;
      /** The user let through, or null (anonymous, or credentials not checked). */
      readonly caller: string | null;
      /** An anonymous ping where users exist: answered, with a Basic challenge so `docker login` sends its password. */
      readonly basicChallenge: boolean;
    }
  | {
      readonly allowed: false;
      readonly kind: RefusalKind;
      /** 401 (other credentials may do) or 403 (a valid user the access rules refuse). */
      readonly code: 'UNAUTHORIZED' | 'DENIED';
      /** The token error a Bearer challenge names. */
      readonly tokenError?: 'invalid_token' | 'insufficient_scope';
      /** The user refused by the rules (kind `rules`). */
      readonly user?: string;
    };

/** Decides whether a request's credentials may reach a target. @throws RegistryError while logins are throttled or queued. */
export type AccessDecider = (request: FastifyRequest, target: AccessTarget) => Promise<AccessDecision>;

export interface DeciderOptions {
  readonly verifier: CredentialVerifier | null;
  readonly anonymousPull: boolean;
  readonly throttle: LoginThrottle;
  readonly tokens?: { readonly signer: TokenSigner; readonly challengeAnonymousReads: boolean };
  readonly policy: AccessPolicy;
}

const allow = (caller: string | null, basicChallenge = false): AccessDecision => ({ allowed: true, caller, basicChallenge });
const refuse = (kind: RefusalKind, tokenError?: 'invalid_token' | 'insufficient_scope'): AccessDecision => ({ allowed: false, kind, code: 'UNAUTHORIZED', ...(tokenError ? { tokenError } : {}) });

/**
 * The one access decision: the onRequest hook enforces it on every route, and the web UI asks it
 * before offering an action (route-permission.ts), so the two cannot disagree.
 * - A Bearer token (tokens on) is verified and holds to the actions it grants; a user's token is
 *   as good as the user outside the API.
 * - Without credentials: anonymous reads when anonymous pulls are on (unless token-aware clients
 *   must be challenged), never a write.
 * - A public read ignores credentials sent along (it never waits on bcrypt). Otherwise Basic
 *   credentials are checked, then the access rules decide for a repository scope.
 */
export function accessDecider(options: DeciderOptions): AccessDecider {
  const { tokens, policy, throttle } = options;
  return async (request, { access, scope, v2 }) => {
    const header = request.headers.authorization;
    const anonymousRead = access === 'read' && options.anonymousPull;

    const token = tokens === undefined ? null : bearerToken(header);
    if (tokens !== undefined && token !== null) {
      const claims = tokens.signer.verify(token);
      if (claims === null) return refuse('invalid-token', 'invalid_token');
      const caller = claims.sub === '' ? null : claims.sub;
      // A user's token holds only while their htpasswd entry is the one it was issued for.
      if (caller !== null && !(await entryUnchanged(options.verifier, caller, claims.bind))) return refuse('invalid-token', 'invalid_token');
      if (access === 'login') return allow(caller);
      if (scope === null) return anonymousRead || caller !== null ? allow(caller) : refuse('anonymous-token');
      if (allows(claims.access, scope.type, scope.name, scope.action) || anonymousRead) return allow(caller);
      return refuse('token-scope', 'insufficient_scope');
    }

    const credentials = basicCredentials(header);
    if (credentials === null) {
      // An anonymous blob HEAD is challenged too: pushers ask it before uploading (containerd
      // would otherwise meet its first challenge on the manifest PUT, after streaming the body,
      // and wait forever), while pulls GET blobs. Token-aware clients answer with a token.
      const challengeReads = tokens !== undefined && v2 && (tokens.challengeAnonymousReads || scope?.blobHead === true);
      if (anonymousRead && !challengeReads) return allow(null);
      if (access === 'write') return refuse(options.verifier === null ? 'no-users' : 'no-credentials');
      if (!options.anonymousPull || challengeReads) return refuse('no-credentials');
      // The ping: with tokens, the challenge sends docker to the token endpoint with its password.
      if (tokens !== undefined) return refuse('fetch-token');
      return allow(null, options.verifier !== null);
    }
    if (anonymousRead) return allow(null);
    if (credentials === 'malformed') return refuse('malformed');
    if (!(await checkLogin(request, credentials, options.verifier, throttle))) return refuse('wrong-password');
    // A valid user, refused by the access rules: 403, as a token would never be granted it.
    if (scope?.type === 'repository' && scope.action !== '*' && !policy.allows(credentials.user, scope.name, scope.action)) {
      return { allowed: false, kind: 'rules', code: 'DENIED', user: credentials.user };
    }
    return allow(credentials.user);
  };
}

/** Whether `user`'s htpasswd entry is still the one a token was bound to (a removed user's is not). */
async function entryUnchanged(verifier: CredentialVerifier | null, user: string, bind: string | undefined): Promise<boolean> {
  if (verifier === null || bind === undefined) return false;
  return (await verifier.fingerprint(user)) === bind;
}
