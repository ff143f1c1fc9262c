import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { parseScopes, type AccessEntry } from '../auth/token-scopes.js';
import type { AuthOptions, TokenAuth } from './access-control.js';
import { checkLogin } from './basic-login.js';
import { RegistryError } from './registry-error.js';

/** A form body is a few hundred bytes; anything near this is not a token request. */
const FORM_LIMIT_BYTES = 16 * 1024;
const DEFAULT_REFRESH_TTL_SECONDS = 7 * 86_400;
const FIELDS = ['grant_type', 'service', 'client_id', 'access_type', 'scope', 'refresh_token', 'username', 'password'] as const;
type Field = (typeof FIELDS)[number];

/**
 * What a token for `caller` carries of `requested`: what the access rules grant on each name as
 * spelled, less pull on a package-list spelling of an image another spelling of which the rules
 * refuse (image-spellings.ts). Shared by both forms of the token endpoint.
 */
export type TokenGrant = (requested: readonly AccessEntry[], caller: string | null) => Promise<AccessEntry[]>;

/**
 * The OAuth2 form of the token endpoint (distribution's token spec, "oauth"): `POST /token`
 * with an `application/x-www-form-urlencoded` body. containerd (ctr, the CRI behind Kubernetes'
 * imagePullSecrets) uses it whenever it has credentials: `grant_type=password` with a user's
 * password, `grant_type=refresh_token` with an identity token. `access_type=offline` adds a
 * refresh token: signed by the token key, bound to the user's htpasswd entry, expiring after
 * `auth.token.refreshTtlSeconds`. A refresh grant answers with the same refresh token.
 *
 * Errors, in the OCI envelope with the OAuth2 error code as `detail.error`: 400 for a request
 * missing a required field or naming an unknown grant type, access type or service; 401 for
 * wrong credentials or a refresh token that is invalid, expired, or whose user is gone.
 */
export function registerOAuthTokenRoute(app: FastifyInstance, auth: AuthOptions, tokens: TokenAuth, throttle: LoginThrottle, grantAccess: TokenGrant): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES }, (_request, body, done) => {
      done(null, new URLSearchParams(body as string));
    });
    scope.post('/token', { config: { access: 'public' } }, async (request, reply) => {
      const form = formOf(request);
      const grantType = form.required('grant_type');
      const service = form.required('service');
      form.required('client_id');
      if (service !== tokens.service) throw invalid('invalid_request', `this registry issues tokens for service "${tokens.service}", not "${service}"`, { service });
      const accessType = form.optional('access_type') ?? 'online';
      if (accessType !== 'online' && accessType !== 'offline') throw invalid('invalid_request', `access_type must be "online" or "offline", not "${accessType}"`);

      let user: string;
      let refreshToken: string | null = null;
      if (grantType === 'password') {
        user = form.required('username');
        const password = form.required('password');
        if (!(await checkLogin(request, { user, password }, auth.verifier, throttle))) throw refused(auth, 'invalid username or password');
      } else if (grantType === 'refresh_token') {
        refreshToken = form.required('refresh_token');
        const claims = tokens.signer.verifyRefresh(refreshToken);
        const current = claims === null ? null : ((await auth.verifier?.fingerprint(claims.sub)) ?? null);
        if (claims === null || current === null || current !== claims.bind) throw refused(auth, 'the refresh token is invalid, expired, or its user no longer exists');
        user = claims.sub;
      } else {
        throw invalid('unsupported_grant_type', `grant_type must be "password" or "refresh_token", not "${grantType}"`);
      }

      const requested = parseScopes([form.optional('scope') ?? '']);
      const access = await grantAccess(requested, user);
      const bind = (await auth.verifier?.fingerprint(user)) ?? null;
      if (bind === null) throw refused(auth, 'the user no longer exists');
      const { token, claims } = tokens.signer.issue(user, access, bind);
      if (refreshToken === null && accessType === 'offline') refreshToken = await refreshTokenFor(auth, tokens, user);
      reply.header('cache-control', 'no-store');
      return {
        access_token: token,
        token,
        scope: access.map(scopeString).join(' '),
        expires_in: tokens.signer.ttlSeconds,
        issued_at: new Date(claims.iat * 1000).toISOString(),
        ...(refreshToken !== null ? { refresh_token: refreshToken } : {}),
      };
    });
  });
}

/** A refresh token for `user`, bound to their htpasswd entry; null when the user does not exist. */
export async function refreshTokenFor(auth: AuthOptions, tokens: TokenAuth, user: string): Promise<string | null> {
  const binding = (await auth.verifier?.fingerprint(user)) ?? null;
  return binding === null ? null : tokens.signer.issueRefresh(user, binding, tokens.refreshTtlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS);
}

interface Form {
  required(field: Field): string;
  optional(field: Field): string | null;
}

function formOf(request: FastifyRequest): Form {
  const body = request.body;
  if (!(body instanceof URLSearchParams)) throw invalid('invalid_request', 'the body must be application/x-www-form-urlencoded');
  const optional = (field: Field): string | null => {
    const values = body.getAll(field);
    if (values.length > 1) throw invalid('invalid_request', `${field} is given more than once`, { field });
    return values[0] === undefined || values[0] === '' ? null : values[0];
  };
  return {
    optional,
    required(field) {
      const value = optional(field);
      if (value === null) throw invalid('invalid_request', `${field} is required`, { field });
      return value;
    },
  };
}

function invalid(error: string, message: string, more: Record<string, unknown> = {}): RegistryError {
  return new RegistryError('BAD_REQUEST', message, { error, ...more });
}

function refused(auth: AuthOptions, message: string): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, { error: 'invalid_grant' }, { 'www-authenticate': `Basic realm="${auth.realm}", charset="UTF-8"` });
}

/** A granted entry as the spec's scope list writes it. */
function scopeString(entry: AccessEntry): string {
  return `${entry.type}:${entry.name}:${entry.actions.join(',')}`;
}
