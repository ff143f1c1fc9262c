import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { noSuchEndpoint, RegistryError } from './registry-error.js';
import { parseV2Path } from './route-path.js';
import type { Access } from './access-control.js';
import type { RegistryDeps } from './registry-deps.js';
import { serveCatalog } from './catalog.js';
import { serveBlob, serveManifest, serveReferrers, serveTags, serveUploadStatus } from './pull-handlers.js';
import { cancelUpload, deleteBlob, deleteManifest, finishUpload, patchUpload, putManifest, startUpload } from './push-handlers.js';
import { wasCutForStalledBody } from './body-timeout.js';

export type { RegistryDeps } from './registry-deps.js';

type Handler = (request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => Promise<FastifyReply>;

/**
 * The OCI distribution API under `/v2/`. Repository names contain `/`, so one wildcard route
 * per method takes the rest of the path and `parseV2Path` splits it. HEAD routes are declared
 * explicitly: fastify's automatic HEAD would read a whole blob stream. The routes live in their
 * own plugin scope whose content-type parser passes every body through untouched: blobs and
 * manifests are read from the raw request stream by the handlers.
 */
export function registerV2Routes(app: FastifyInstance, deps: RegistryDeps): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));

    const read = (head: boolean): Handler => async (request, reply) => {
      const route = parseV2Path(request.params['*']);
      switch (route.kind) {
        case 'base':
          return reply.header('content-type', 'application/json').send(head ? undefined : '{}');
        // HEAD of a listing answers as its GET does, without the body (RFC 9110: a resource
        // that serves GET serves HEAD; Node drops the body of a HEAD response).
        case 'catalog':
          return serveCatalog(deps, request, reply);
        case 'manifest':
          return serveManifest(deps, request, reply, route.name, route.reference, head);
        case 'blob':
          return serveBlob(deps, request, reply, route.name, route.digest, head);
        case 'upload':
          return serveUploadStatus(deps, request, reply, route.name, route.id);
        case 'tags':
          return serveTags(deps, request, reply, route.name);
        case 'referrers':
          return serveReferrers(deps, request, reply, route.name, route.digest);
        default:
          break;
      }
      throw noSuchEndpoint(request.method, request.url);
    };

    const write: Handler = async (request, reply) => {
      try {
        return await dispatchWrite(request, reply);
      } catch (error) {
        // Answered 408 and cut (its body stalled, body-timeout.ts): the failure is the cut
        // itself, expected, and what the handler staged is discarded. Not an error of ours.
        if (!wasCutForStalledBody(request)) throw error;
        request.log.info({ reason: (error as Error).message }, 'a request cut off after its answer failed as expected');
        return reply;
      }
    };

    const dispatchWrite: Handler = async (request, reply) => {
      const route = parseV2Path(request.params['*']);
      const method = request.method;
      if (route.kind === 'uploads' && method === 'POST') return startUpload(deps, request, reply, route.name);
      if (route.kind === 'upload' && method === 'PATCH') return patchUpload(deps, request, reply, route.name, route.id);
      if (route.kind === 'upload' && method === 'PUT') return finishUpload(deps, request, reply, route.name, route.id);
      if (route.kind === 'upload' && method === 'DELETE') return cancelUpload(deps, request, reply, route.name, route.id);
      if (route.kind === 'manifest' && method === 'PUT') return putManifest(deps, request, reply, route.name, route.reference);
      if (route.kind === 'manifest' && method === 'DELETE') return deleteManifest(deps, reply, route.name, route.reference);
      if (route.kind === 'blob' && method === 'DELETE') return deleteBlob(deps, reply, route.name, route.digest);
      request.raw.resume();
      if (route.kind === 'unknown') throw noSuchEndpoint(method, request.url);
      throw new RegistryError('METHOD_NOT_ALLOWED', `${method} is not supported on this endpoint`);
    };

    const writeRoute = { config: { access: 'write' as const } };
    const readRoute = { config: { access: readAccess } };
    const ping = { config: { access: 'login' as const } };
    scope.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE'], url: '/v2/*', ...writeRoute, handler: write });
    scope.head('/v2/*', readRoute, read(true));
    scope.get('/v2/*', readRoute, read(false));
    scope.head('/v2', ping, (_request, reply) => reply.header('content-type', 'application/json').send());
    scope.get('/v2', ping, (_request, reply) => reply.header('content-type', 'application/json').send('{}'));
  });
}

/**
 * GET and HEAD under `/v2/`, from the path as the router decoded it: the ping is a login check,
 * an upload's status belongs to its pusher, everything else (the catalog included) is a read.
 */
function readAccess(request: FastifyRequest): Access {
  const kind = parseV2Path((request.params as { '*'?: string })['*'] ?? '').kind;
  if (kind === 'base') return 'login';
  if (kind === 'upload') return 'write';
  return 'read';
}
