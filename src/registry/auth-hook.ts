import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Htpasswd } from '../auth/htpasswd.js';
import { RegistryError } from './registry-error.js';

export interface AuthOptions {
  /** Users allowed to push and delete (and to pull when anonymous pulls are off); null = nobody. */
  readonly users: Htpasswd | null;
  readonly anonymousPull: boolean;
  readonly realm: string;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Basic authentication on `/v2/`. Writes always need a valid user; reads need one only when
 * anonymous pulls are off. The `/v2/` ping carries the challenge even when it answers 200,
 * because clients (containers/image: skopeo, podman) decide from the ping whether to send
 * credentials at all.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const challenge = { 'www-authenticate': `Basic realm="${options.realm}", charset="UTF-8"` };

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v2')) return;
    // A refused request's body is read and dropped, so the client can retry with credentials on
    // the same keep-alive connection (containerd does exactly that after a 401).
    const refuse = (message: string): RegistryError => {
      request.raw.resume();
      return new RegistryError('UNAUTHORIZED', message, undefined, challenge);
    };
    const isPing = request.url === '/v2' || request.url === '/v2/' || request.url.startsWith('/v2/?');
    const credentials = basicCredentials(request);
    if (credentials === 'malformed') throw refuse('the Authorization header is not valid Basic credentials');
    if (credentials !== null) {
      if (options.users === null || !(await options.users.verify(credentials.user, credentials.password))) {
        throw refuse('invalid username or password');
      }
      return;
    }
    if (WRITE_METHODS.has(request.method)) {
      throw refuse(options.users === null ? 'pushing and deleting are disabled: no users are configured (auth.htpasswdFile)' : 'authentication required to push or delete');
    }
    if (!options.anonymousPull) throw refuse('authentication required');
    if (isPing && options.users !== null) reply.headers(challenge);
  });
}

function basicCredentials(request: FastifyRequest): { user: string; password: string } | 'malformed' | null {
  const header = request.headers.authorization;
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
