import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CredentialVerifier } from '../auth/credential-verifier.js';
import { LoginQueueFullError } from '../auth/bcrypt-workers.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { RegistryError } from './registry-error.js';

/**
 * What a route needs from its caller. Every route declares one in its config
 * (`{ config: { access: 'read' } }`); a route without one is refused.
 * - `public`: anyone; credentials are never looked at (health probes).
 * - `read`: anyone when anonymous pulls are on, and then credentials sent along are ignored, not
 *   checked: a public read never waits on bcrypt. Otherwise a valid user.
 * - `login`: the `/v2/` ping: like `read`, but credentials sent are checked, so `docker login`
 *   reports a wrong password; it carries the challenge even when it answers 200.
 * - `write`: a valid user, always.
 */
export type Access = 'public' | 'read' | 'login' | 'write';

/** A fixed access, or one chosen from the matched route's (router-decoded) parameters. */
export type AccessRule = Access | ((request: FastifyRequest) => Access);

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
}

export interface AuthOptions {
  /** Checks users' passwords; null when no users are configured (nobody may push). */
  readonly verifier: CredentialVerifier | null;
  readonly anonymousPull: boolean;
  readonly realm: string;
  /** Failed-login limit per client address (a default one when absent). */
  readonly throttle?: LoginThrottle;
}

/**
 * Authorization decided from the route that matched, never from the raw URL: the router has
 * already decoded and matched the path, so `/%762/...` is the `/v2/*` route with its declared
 * access. Requests no route matched need what a read needs (they learn only "no such endpoint").
 */
export function registerAccessControl(app: FastifyInstance, options: AuthOptions): void {
  const challenge = { 'www-authenticate': `Basic realm="${options.realm}", charset="UTF-8"` };
  const throttle = options.throttle ?? new LoginThrottle();

  app.addHook('onRequest', async (request, reply) => {
    // A refused request's body is read and dropped, so the client can retry with credentials on
    // the same keep-alive connection (containerd does exactly that after a 401).
    const refuse = (message: string): RegistryError => {
      request.raw.resume();
      return new RegistryError('UNAUTHORIZED', message, undefined, challenge);
    };
    const access = accessOf(request);
    if (access === 'public') return;
    if (access === 'read' && options.anonymousPull) return;
    const credentials = basicCredentials(request.headers.authorization);
    if (credentials === null) {
      if (access === 'write') {
        throw refuse(options.verifier === null ? 'pushing and deleting are disabled: no users are configured (auth.htpasswdFile)' : 'authentication required to push or delete');
      }
      if (!options.anonymousPull) throw refuse('authentication required');
      if (options.verifier !== null) reply.headers(challenge);
      return;
    }
    if (credentials === 'malformed') throw refuse('the Authorization header is not valid Basic credentials');
    if (options.verifier === null) throw refuse('invalid username or password');
    const wait = throttle.retryAfterSeconds(request.ip);
    if (wait !== null) {
      request.raw.resume();
      throw new RegistryError('LOGIN_THROTTLED', `too many failed logins from this address; retry in ${wait} s`, undefined, { 'retry-after': String(wait) });
    }
    let valid: boolean;
    try {
      valid = await options.verifier.verify(credentials.user, credentials.password);
    } catch (error) {
      if (!(error instanceof LoginQueueFullError)) throw error;
      request.raw.resume();
      throw new RegistryError('TOOMANYREQUESTS', 'too many logins are being checked; retry shortly', undefined, { 'retry-after': '1' });
    }
    if (!valid) {
      throttle.failed(request.ip);
      throw refuse('invalid username or password');
    }
    throttle.succeeded(request.ip);
  });
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

function basicCredentials(header: string | undefined): { user: string; password: string } | 'malformed' | null {
  if (header === undefined) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return 'malformed';
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  // containers/image (skopeo, podman) answers a challenge with empty credentials when it has none.
  if (decoded === ':') return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
