import type { FastifyInstance } from 'fastify';
import { RegistryError } from './registry-error.js';

/**
 * A host name or IPv4 address, or a bracketed IPv6 address (with a zone, RFC 6874), with an
 * optional port, empty as RFC 3986 allows (RFC 9110 §7.2). Labels may hold '_': not a DNS host
 * name, but what docker compose names its services and a resolver answers for them.
 */
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const AUTHORITY = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*\\.?|\\[[0-9A-Fa-f:.]+(?:%25[A-Za-z0-9._~-]+)?\\])(?::\\d{0,5})?$`);

/** Whether `host` is what a Host header (or HTTP/2 :authority) may hold. */
export function isAuthority(host: string): boolean {
  return host.length <= 255 + 6 && AUTHORITY.test(host);
}

/**
 * A request whose Host is not a host and port is answered 400 before anything reads it: the
 * host is written into answers (the token realm of a challenge, the pull commands the UI
 * shows), where a quote or comma in it would add parameters of the client's choosing.
 * An HTTP/1.0 request without a Host has none to check.
 */
export function registerHostCheck(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const host = request.host;
    if (host === '' || host === undefined || isAuthority(host)) return;
    request.raw.resume();
    throw new RegistryError('BAD_REQUEST', 'the Host header is not a host name or address with an optional port');
  });
}
