import type { FastifyInstance } from 'fastify';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { parseScopes } from '../auth/token-scopes.js';
import type { AuthOptions, TokenAuth } from './access-control.js';
import { basicCredentials, checkLogin } from './basic-login.js';
import { RegistryError } from './registry-error.js';
import { refreshTokenFor, type TokenGrant } from './token-oauth-route.js';

/**
 * The token endpoint of the distribution token spec: `GET /token?service=&scope=...`, with
 * Basic credentials for a user's token or none for an anonymous one. It grants what the caller
 * may have of the scopes asked (see token-scopes.ts) and refuses only wrong credentials, so
 * `docker login` fails on a wrong password. With `offline_token=true` a user also gets a
 * refresh token. The OAuth2 `POST` form is token-oauth-route.ts.
 */
export function registerTokenRoute(app: FastifyInstance, auth: AuthOptions, tokens: TokenAuth, throttle: LoginThrottle, grantAccess: TokenGrant): void {
  const config = { access: 'public' as const, repeatableQuery: ['scope'] };
  app.get('/token', { config }, async (request, reply) => {
    const query = request.query as { service?: string; scope?: string | string[]; account?: string; offline_token?: string };
    if (query.service !== undefined && query.service !== tokens.service) {
      throw new RegistryError('BAD_REQUEST', `this registry issues tokens for service "${tokens.service}", not "${query.service}"`, { service: query.service });
    }
    const credentials = basicCredentials(request.headers.authorization);
    const refuse = (message: string): RegistryError => new RegistryError('UNAUTHORIZED', message, undefined, { 'www-authenticate': `Basic realm="${auth.realm}", charset="UTF-8"` });
    if (credentials === 'malformed') throw refuse('the Authorization header is not valid Basic credentials');
    let user: string | null = null;
    if (credentials !== null) {
      if (!(await checkLogin(request, credentials, auth.verifier, throttle))) throw refuse('invalid username or password');
      user = credentials.user;
    }
    const scopes = query.scope === undefined ? [] : typeof query.scope === 'string' ? [query.scope] : query.scope;
    const requested = parseScopes(scopes);
    const access = await grantAccess(requested, user);
    const bind = user === null ? null : ((await auth.verifier?.fingerprint(user)) ?? null);
    const { token, claims } = tokens.signer.issue(user ?? '', access, bind ?? undefined);
    // `offline_token=true` (docker login asks it): a refresh token, which docker keeps as its
    // identity token and later spends with the OAuth2 form (POST, grant_type=refresh_token).
    const refreshToken = user !== null && query.offline_token === 'true' ? await refreshTokenFor(auth, tokens, user) : null;
    reply.header('cache-control', 'no-store');
    return {
      token,
      access_token: token,
      expires_in: tokens.signer.ttlSeconds,
      issued_at: new Date(claims.iat * 1000).toISOString(),
      ...(refreshToken !== null ? { refresh_token: refreshToken } : {}),
    };
  });
}
