import { isIP } from 'node:net';
import { z } from 'zod';

/** What fastify's `trustProxy` (proxy-addr) takes: an address, `address/prefix`, or a named range. */
function isProxySpec(value: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(value)) return true;
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** `server`: how stowage listens and serves (TLS, timeouts, proxies, processes, a front proxy that sends files). */
export const serverSchema = z
  .object({
    /** PEM certificate chain and key for HTTPS; both empty = plain HTTP. Reloaded when they change. */
    tlsCertFile: z.string().default(''),
    tlsKeyFile: z.string().default(''),
    /** With TLS, offer HTTP/2 (ALPN) besides HTTP/1.1. */
    http2: z.boolean().default(true),
    /** After SIGTERM: /readyz fails at once, requests are still served this long, then the server closes. */
    drainMs: z.number().int().min(0).default(5_000),
    /** Idle keep-alive HTTP connections are closed after this long (above common load-balancer idle timeouts of 60 s). */
    keepAliveTimeoutMs: z.number().int().min(1_000).default(72_000),
    /** A request body that sends nothing for this long is answered 408 and the connection closed. */
    bodyIdleTimeoutMs: z.number().int().min(100).default(60_000),
    /**
     * Proxies whose X-Forwarded-For is believed: addresses, CIDR ranges, or `loopback`,
     * `linklocal`, `uniquelocal`. A request from one of them has as its client address (logs,
     * the failed-login limit) the nearest X-Forwarded-For hop that is not one of them; empty =
     * the header is never believed and the socket's address is the client's.
     */
    trustProxy: z.array(z.string().refine(isProxySpec, 'must be an IP address, a CIDR range (10.0.0.0/8), loopback, linklocal or uniquelocal')).default([]),
    /**
     * Serving processes sharing the port (node:cluster). More than one needs metadata and
     * build locks shared between them: `metadata.backend: redis`.
     */
    workers: z.number().int().min(1).max(64).default(1),
    /**
     * Behind nginx (deploy/nginx): the internal location under which nginx maps the fs blob
     * store, e.g. `/_stowage_blobs/`. A blob GET that carries `X-Stowage-Accel: 1` (which the
     * proxy sets) is authorized and checked by stowage, then answered with `X-Accel-Redirect`
     * to the blob's file, which nginx sends. Empty = stowage sends every blob itself.
     */
    accelRedirectPrefix: z.union([z.literal(''), z.string().regex(/^\/[A-Za-z0-9._~/-]*\/$/, 'must be a path that starts and ends with /')]).default(''),
  })
  .strict()
  .superRefine((value, context) => {
    if ((value.tlsCertFile === '') !== (value.tlsKeyFile === '')) {
      context.addIssue({ code: 'custom', path: [value.tlsCertFile === '' ? 'tlsCertFile' : 'tlsKeyFile'], message: 'tlsCertFile and tlsKeyFile go together' });
    }
  });
