import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BlobStore, MetadataStore } from '../storage/types.js';
import type { ImageBuilder } from '../builder/image-builder.js';
import { parseImageName, type ImageNameOptions } from '../builder/image-name.js';
import { MetadataKeys } from '../builder/records.js';
import { readBlob } from '../storage/blob-io.js';
import { isValidDigest, looksLikeDigest } from '../oci/digest.js';
import { isValidTag, nameProblem } from '../oci/reference.js';
import { MediaType } from '../oci/media-types.js';
import { indexFormatFor, manifestFormatFor } from './accept.js';
import type { BuiltImage } from '../builder/image-builder.js';
import type { ManifestRef } from '../builder/records.js';
import { parseRangeHeader } from './http-range.js';
import { RegistryError } from './registry-error.js';
import { parseV2Path } from './route-path.js';
import { listTags } from './tags.js';

export interface RegistryDeps {
  readonly builder: Pick<ImageBuilder, 'buildWithin' | 'tracker'>;
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly imageNames: ImageNameOptions;
  /** How long a manifest request waits for a running build before 503 with Retry-After. */
  readonly requestWaitMs: number;
}

/**
 * The pull side of the OCI distribution API under `/v2/`. Repository names contain `/`, so one
 * wildcard route per method takes the rest of the path and `parseV2Path` splits it. HEAD routes
 * are declared explicitly: fastify's automatic HEAD would read a whole blob stream.
 */
export function registerV2Routes(app: FastifyInstance, deps: RegistryDeps): void {
  const handler = (head: boolean) => async (request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
    const route = parseV2Path(request.params['*']);
    switch (route.kind) {
      case 'base':
        return reply.header('content-type', 'application/json').send(head ? undefined : '{}');
      case 'manifest':
        return serveManifest(deps, request, reply, route.name, route.reference, head);
      case 'blob':
        return serveBlob(deps, request, reply, route.name, route.digest, head);
      case 'tags':
        if (head) throw new RegistryError('UNSUPPORTED', 'HEAD is not supported on tags/list', undefined, {}, 405);
      {
        const page = await listTags(deps, route.name, request.query as { n?: string; last?: string });
        if (page.link !== null) reply.header('link', page.link);
        return reply.send(page.body);
      }
      case 'upload':
        throw new RegistryError('UNSUPPORTED', 'this registry builds images from packages and does not accept pushes', { name: route.name });
      case 'unknown':
        throw new RegistryError('NAME_UNKNOWN', `no such endpoint: ${request.method} ${request.url}`, undefined, {}, 404);
    }
  };
  app.route({
    method: ['POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/v2/*',
    handler: async (request) => {
      throw new RegistryError('UNSUPPORTED', `${request.method} is not supported: this registry builds images from packages and does not accept pushes or deletes`);
    },
  });
  app.head('/v2/*', handler(true));
  app.get('/v2/*', handler(false));
  app.head('/v2', (_request, reply) => reply.header('content-type', 'application/json').send());
  app.get('/v2', (_request, reply) => reply.header('content-type', 'application/json').send('{}'));
}

async function serveManifest(
  deps: RegistryDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  reference: string,
  head: boolean,
): Promise<FastifyReply> {
  let digest: string;
  let mediaType: string;
  let body: Buffer;
  if (looksLikeDigest(reference) || reference.includes(':')) {
    if (!isValidDigest(reference)) throw new RegistryError('DIGEST_INVALID', `"${reference}" is not a valid digest`);
    const image = parseImageName(name, 'latest', deps.imageNames);
    const known = await deps.metadata.members(MetadataKeys.manifests(image.canonicalName));
    if (!known.includes(reference)) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is not known for ${image.canonicalName}`, { name: image.canonicalName, digest: reference });
    }
    body = await readBlob(deps.blobs, reference).catch(() => {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is no longer stored`, { digest: reference });
    });
    digest = reference;
    mediaType = manifestMediaType(body);
  } else {
    if (!isValidTag(reference)) throw new RegistryError('TAG_INVALID', `"${reference}" is not a valid tag`);
    const image = parseImageName(name, reference, deps.imageNames);
    const built = await deps.builder.buildWithin(image, deps.requestWaitMs);
    const ref = chooseManifest(built, request.headers.accept);
    if (ref === null) {
      throw new RegistryError('MANIFEST_UNKNOWN', 'this image has zstd layers, which only OCI manifests can describe; the client accepts only Docker schema 2', { name: image.canonicalName });
    }
    body = await readBlob(deps.blobs, ref.digest);
    digest = ref.digest;
    mediaType = ref.mediaType;
  }
  reply.header('content-type', mediaType).header('docker-content-digest', digest).header('etag', `"${digest}"`);
  if (etagMatches(request, digest)) return reply.code(304).send();
  reply.header('content-length', body.length);
  return reply.send(head ? undefined : body);
}

async function serveBlob(
  deps: RegistryDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  digest: string,
  head: boolean,
): Promise<FastifyReply> {
  const problem = nameProblem(name);
  if (problem !== null) throw new RegistryError('NAME_INVALID', `invalid repository name: ${problem}`);
  if (!isValidDigest(digest)) throw new RegistryError('DIGEST_INVALID', `"${digest}" is not a valid digest`);
  const info = await deps.blobs.stat(digest);
  if (info === null) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not known`, { digest });
  const redirect = await deps.blobs.redirectUrl(digest);
  if (redirect !== null) return reply.redirect(redirect, 307);

  reply
    .header('content-type', 'application/octet-stream')
    .header('docker-content-digest', digest)
    .header('etag', `"${digest}"`)
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'public, max-age=31536000, immutable');
  if (etagMatches(request, digest)) return reply.code(304).send();
  const range = parseRangeHeader(request.headers.range, info.size);
  if (range) {
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${info.size}`);
  }
  reply.header('content-length', range ? range.end - range.start + 1 : info.size);
  if (head) return reply.send();
  return reply.send(await deps.blobs.open(digest, range ?? undefined));
}

/** The index when there is one and the client takes it, else the default platform's manifest. */
function chooseManifest(built: BuiltImage, accept: string | string[] | undefined): ManifestRef | null {
  if (built.index !== null) {
    const indexFormat = indexFormatFor(accept);
    if (indexFormat === 'oci') return built.index.oci;
    if (indexFormat === 'docker' && built.index.docker !== null) return built.index.docker;
  }
  return manifestFormatFor(accept) === 'docker' ? built.primary.docker : built.primary.oci;
}

function etagMatches(request: FastifyRequest, digest: string): boolean {
  const header = request.headers['if-none-match'];
  return typeof header === 'string' && header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === `"${digest}"`);
}

function manifestMediaType(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: unknown };
    if (typeof parsed.mediaType === 'string') return parsed.mediaType;
  } catch {
    // fall through: a stored manifest that is not JSON is served as an OCI manifest
  }
  return MediaType.ociManifest;
}
