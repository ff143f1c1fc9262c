import type { FastifyRequest } from 'fastify';
import type { CredentialVerifier } from '../auth/credential-verifier.js';
import { LoginQueueFullError } from '../auth/bcrypt-workers.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { RegistryError } from './registry-error.js';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/**
 * Check a user's Basic credentials: refused while the address is throttled, 429 while too many
 * checks wait for bcrypt, false for a wrong password (counted against the address). Used by the
 * access control for Basic on `/v2/*` and by the token endpoint. The address is `request.ip`:
 * the socket's, or behind a proxy named in `server.trustProxy` the client it forwards for.
 */
export async function checkLogin(request: FastifyRequest, credentials: Credentials, verifier: CredentialVerifier | null, throttle: LoginThrottle): Promise<boolean> {
  if (verifier === null) return false;
  const wait = throttle.retryAfterSeconds(request.ip);
  if (wait !== null) {
    request.raw.resume();
    throw new RegistryError('LOGIN_THROTTLED', `too many failed logins from this address; retry in ${wait} s`, undefined, { 'retry-after': String(wait) });
  }
  let valid: boolean;
  try {
    valid = await verifier.verify(credentials.user, credentials.password);
  } catch (error) {
    if (!(error instanceof LoginQueueFullError)) throw error;
    request.raw.resume();
    throw new RegistryError('TOOMANYREQUESTS', 'too many logins are being checked; retry shortly', undefined, { 'retry-after': '1' });
  }
  if (!valid) throttle.failed(request.ip);
  return valid;
}

export function basicCredentials(header: string | undefined): Credentials | 'malformed' | null {
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

/** The token of an `Authorization: Bearer` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = header === undefined ? null : /^Bearer\s+([A-Za-z0-9_.=-]+)\s*$/i.exec(header);
  return match ? (match[1] as string) : null;
}
