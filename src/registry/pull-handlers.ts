import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ServerResponse } from 'node:http';
import { isBufferReusingBody, type ByteRange } from '../storage/types.js';
import { parseImageName, type ParsedImageName } from '../image-name/image-name.js';
import type { ManifestRef } from '../builder/records.js';
import type { BuiltImage } from '../builder/image-builder.js';
import type { Descriptor } from '../oci/manifest-validation.js';
import { readBlob } from '../storage/blob-io.js';
import { isValidDigest, looksLikeDigest } from '../oci/digest.js';
import { isValidTag, nameProblem } from '../oci/reference.js';
import { MediaType } from '../oci/media-types.js';
import { indexFormatFor, manifestFormatFor } from './accept.js';
import { parseRangeHeader } from './http-range.js';
import { RegistryError } from './registry-error.js';
import type { RegistryDeps } from './registry-deps.js';
import { paginateTags } from './tags.js';
import { assertSpellingsReadable } from './image-spellings.js';

/**
 * GET and HEAD handlers. A repository with pushed content is served from storage, when pushes
 * to it are allowed (see PushNamespaces); any other name is a package list, built on demand.
 */
export async function serveManifest(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string, reference: string, head: boolean): Promise<FastifyReply> {
  const byDigest = looksLikeDigest(reference) || reference.includes(':');
  // The spec: a reference that is neither a tag nor a digest names no manifest (404), it is not a bad request.
  if (byDigest ? !isValidDigest(reference) : !isValidTag(reference)) {
    throw new RegistryError('MANIFEST_UNKNOWN', `"${reference}" is neither a valid tag nor a valid digest`, { name, reference });
  }
  assertValidName(name);
  await assertSpellingsReadable(deps, request, name, (pushed) => servedFromPushes(deps, pushed));

  const manifest = (byDigest ? null : await recentlyVerifiedManifest(deps, request, name, reference)) ?? (await checkedManifest(deps, request, name, reference, byDigest));
  reply.header('content-type', manifest.mediaType).header('docker-content-digest', manifest.digest).header('etag', `"${manifest.digest}"`);
  if (etagMatches(request, manifest.digest)) return reply.code(304).send();
  reply.header('content-length', manifest.body.length);
  return reply.send(head ? undefined : manifest.body);
}

type ServedManifest = { digest: string; mediaType: string; body: Buffer };

/** The manifest from pushed storage, or the built one after the builder checked (or built) it. */
async function checkedManifest(deps: RegistryDeps, request: FastifyRequest, name: string, reference: string, byDigest: boolean): Promise<ServedManifest> {
  if (await servedFromPushes(deps, name)) {
    const stored = await deps.repositories.getManifest(name, reference);
    if (stored === null) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is not known in ${name}`, { name, reference });
    return stored;
  }
  if (byDigest) {
    const canonicalName = deps.images.canonicalName(name);
    if (!(await deps.images.hasManifest(canonicalName, reference))) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is not known for ${canonicalName}`, { name: canonicalName, digest: reference });
    }
    const body = await readBlob(deps.blobs, reference).catch(() => {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is no longer stored`, { digest: reference });
    });
    return { digest: reference, mediaType: declaredMediaType(body), body };
  }
  const image = parseImageName(name, reference, deps.imageNames);
  return builtManifest(deps, request, image, await deps.builder.buildWithin(image, deps.requestWaitMs, request.ip));
}

/**
 * The built manifest a pull by tag of the same name, tag and package-set state verified within
 * a short TTL (ImageBuilder.recentlyVerified): served without a metadata round trip or a stat.
 * Asked before whether the name is served from pushes, which it cannot be: it was built, so it
 * is a package list no push may take (PushNamespaces), and a reserved name is never built.
 * Null whenever anything is not so (the caller then takes the checked way).
 */
async function recentlyVerifiedManifest(deps: RegistryDeps, request: FastifyRequest, name: string, reference: string): Promise<ServedManifest | null> {
  if (deps.builder.recentlyVerified === undefined || deps.pushPolicy.isReserved(name)) return null;
  let image: ParsedImageName;
  try {
    image = parseImageName(name, reference, deps.imageNames);
  } catch {
    return null; // the checked way answers it with the right error
  }
  const built = await deps.builder.recentlyVerified(image).catch(() => null);
  if (built === null) return null;
  try {
    return await builtManifest(deps, request, image, built);
  } catch (error) {
    if (error instanceof RegistryError) throw error; // the client's Accept: the checked way says the same
    return null; // the manifest's bytes are gone (gc): the checked way finds out and builds again
  }
}

/** The manifest of a built image the client takes, after noting the pull. */
async function builtManifest(deps: RegistryDeps, request: FastifyRequest, image: ParsedImageName, built: BuiltImage): Promise<ServedManifest> {
  // Best effort: a pull must not fail because its time could not be written. Awaited (it
  // writes at most once an hour per name) so no write outlives the request that made it.
  await deps.pulls?.record(image.canonicalName).catch((error: unknown) => request.log.warn({ reason: (error as Error).message }, 'could not record the pull time'));
  const ref = chooseManifest(built, request.headers.accept);
  if (ref === null) {
    throw new RegistryError('MANIFEST_UNKNOWN', 'this image has zstd layers, which only OCI manifests can describe; the client accepts only Docker schema 2', { name: image.canonicalName });
  }
  return { digest: ref.digest, mediaType: ref.mediaType, body: await readBlob(deps.blobs, ref.digest) };
}

export async function serveBlob(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string, digest: string, head: boolean): Promise<FastifyReply> {
  assertValidName(name);
  if (!isValidDigest(digest)) throw new RegistryError('DIGEST_INVALID', `"${digest}" is not a valid digest`);
  await assertSpellingsReadable(deps, request, name, (pushed) => servedFromPushes(deps, pushed));
  const unknown = () => new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not known in ${name}`, { digest });
  // Linked by metadata here; whether the bytes exist is learnt when they are opened (one stat).
  if (!(await repositoryHasBlob(deps, name, digest, { checkStorage: false }))) throw unknown();
  // Presigned URLs are signed for GET; a HEAD is answered here.
  const redirect = head ? null : await deps.blobs.redirectUrl(digest);
  if (redirect !== null) return reply.redirect(redirect, 307);

  const notModified = etagMatches(request, digest);
  const accelPath = head || notModified ? null : accelRedirectFor(deps, request, digest);
  const redirected = accelPath === null ? null : await redirectToProxy(deps, request, reply, digest, accelPath, unknown);
  if (redirected !== null) return redirected;
  const blob = await openBlob(deps, digest, !head && !notModified, (size) => (notModified ? null : parseRangeHeader(request.headers.range, size)));
  if (blob === null) throw unknown();
  blobHeaders(reply, digest);
  if (notModified) return reply.code(304).send();
  const { range, size } = blob;
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
  // An HTTP/1 response is done with a chunk once its write callback fires (the socket took it);
  // fastify pipes the body straight into it. HTTP/2's response queues frames: not vouched for.
  if (reply.raw instanceof ServerResponse && isBufferReusingBody(blob.body)) blob.body.reuseBuffersFor(reply.raw);
  reply.header('content-length', range ? range.end - range.start + 1 : size);
  return reply.send(blob.body ?? undefined);
}

function blobHeaders(reply: FastifyReply, digest: string): FastifyReply {
  return reply
    .header('content-type', 'application/octet-stream')
    .header('docker-content-digest', digest)
    .header('etag', `"${digest}"`)
    .header('accept-ranges', 'bytes')
    .header('cache-control', 'public, max-age=31536000, immutable');
}

/** The request header the front proxy sets (deploy/nginx) on requests it can answer with a file. */
const ACCEL_REQUEST_HEADER = 'x-stowage-accel';

/**
 * The proxy's internal URI for this GET's blob, when it should send the file: a proxy is
 * configured and marked the request, and the request asks for the whole blob or one plain range
 * (anything else, e.g. several ranges or If-Range, is answered here, so the answer does not
 * depend on how the proxy reads such headers).
 */
function accelRedirectFor(deps: RegistryDeps, request: FastifyRequest, digest: string): string | null {
  if (deps.accelRedirect === undefined || request.headers[ACCEL_REQUEST_HEADER] !== '1') return null;
  const range = request.headers.range;
  if (request.headers['if-range'] !== undefined || (range !== undefined && !/^bytes=(\d+-\d*|-\d+)$/.test(range.trim()))) return null;
  return deps.accelRedirect(digest);
}

/**
 * Answer with the blob's headers and `X-Accel-Redirect`; the proxy replaces the empty body with
 * the file (and answers the range itself). The file is looked at once, so a blob whose bytes are
 * gone gets the registry's error body, and a range outside it the registry's 416. Null for a
 * range this registry ignores (`bytes=9-3`), which is then answered here, whole.
 */
async function redirectToProxy(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, digest: string, path: string, unknown: () => RegistryError): Promise<FastifyReply | null> {
  const info = await deps.blobs.stat(digest);
  if (info === null) throw unknown();
  if (request.headers.range !== undefined && parseRangeHeader(request.headers.range, info.size) === null) return null;
  // The proxy says it accepts ranges itself; two such headers would reach the client.
  return blobHeaders(reply, digest).removeHeader('accept-ranges').header('x-accel-redirect', path).send();
}

/**
 * The blob's size, the range chosen from it and, when `withBody`, its bytes: with one open and
 * one fstat where the store can, else a stat and an open. Null when the blob is not stored.
 */
async function openBlob(deps: RegistryDeps, digest: string, withBody: boolean, pick: (size: number) => ByteRange | null): Promise<{ size: number; range: ByteRange | null; body: Buffer | Readable | null } | null> {
  if (withBody && deps.blobs.openSized) return deps.blobs.openSized(digest, pick);
  const info = await deps.blobs.stat(digest);
  if (info === null) return null;
  const range = pick(info.size);
  return { size: info.size, range, body: withBody ? await deps.blobs.open(digest, range ?? undefined) : null };
}

export async function serveTags(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> {
  assertValidName(name);
  await assertSpellingsReadable(deps, request, name, (pushed) => servedFromPushes(deps, pushed));
  let repository = name;
  let tags: string[];
  if (await servedFromPushes(deps, name)) {
    tags = await deps.repositories.tags(name);
    if (tags.length === 0 && !(await deps.repositories.isPushed(name))) throw new RegistryError('NAME_UNKNOWN', `nothing has been pushed to ${name}`, { name });
  } else {
    repository = deps.images.canonicalName(name);
    const built = await deps.images.tags(repository);
    // A package-list name (one no push may take) can be built at every revision the source
    // knows, not only at those built so far; any other name has only what was built under it.
    const packageList = deps.revisions !== undefined && !(await deps.pushPolicy.decide(name)).allowed;
    const buildable = packageList && deps.revisions ? await deps.revisions(AbortSignal.timeout(30_000)).catch(() => []) : [];
    tags = [...new Set([...built, ...buildable])].sort();
    if (tags.length === 0) throw new RegistryError('NAME_UNKNOWN', `no image named ${repository} has been built or pushed yet`, { name: repository });
  }
  const page = paginateTags(tags, name, request.query as { n?: string; last?: string });
  if (page.link !== null) reply.header('link', page.link);
  return reply.send({ name, tags: page.tags });
}

export async function serveReferrers(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string, digest: string): Promise<FastifyReply> {
  assertValidName(name);
  if (!isValidDigest(digest)) throw new RegistryError('DIGEST_INVALID', `"${digest}" is not a valid digest`);
  await assertSpellingsReadable(deps, request, name, (pushed) => servedFromPushes(deps, pushed));
  const { artifactType } = request.query as { artifactType?: string };
  // Decided as the manifests are: a name pushes may not change serves its built referrers only.
  const manifests = (await servedFromPushes(deps, name))
    ? await deps.repositories.referrers(name, digest, artifactType)
    : await builtImageReferrers(deps, name, digest, artifactType);
  if (artifactType !== undefined) reply.header('oci-filters-applied', 'artifactType');
  // Sent as bytes: fastify would append "; charset=utf-8" to a serialised object, and the spec
  // wants exactly the index media type.
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }));
  return reply.header('content-type', MediaType.ociIndex).send(body);
}

/** Referrers of a built image's manifest (its SBOMs); none for a manifest not built under `name`. */
async function builtImageReferrers(deps: RegistryDeps, name: string, digest: string, artifactType: string | undefined): Promise<Descriptor[]> {
  let canonicalName: string;
  try {
    canonicalName = deps.images.canonicalName(name);
  } catch {
    return []; // a name that is no image has no built referrers
  }
  return deps.images.referrers(canonicalName, digest, artifactType);
}

export async function serveUploadStatus(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string, id: string): Promise<FastifyReply> {
  assertValidName(name);
  const session = await deps.uploads.get(name, id, request.caller ?? '');
  return reply
    .code(204)
    .header('location', `/v2/${name}/blobs/uploads/${id}`)
    .header('range', `0-${Math.max(session.size - 1, 0)}`)
    .header('docker-upload-uuid', id)
    .send();
}

/**
 * Whether `digest` belongs to repository `name`: linked by a push, or used by an image built
 * under that name. Blobs are scoped to repositories as in distribution; besides keeping
 * repositories apart, it makes clients that check for blobs before pushing (containerd) upload
 * or mount them, so they meet the registry's authentication before the manifest PUT.
 */
export async function repositoryHasBlob(deps: RegistryDeps, name: string, digest: string, options: { checkStorage?: boolean } = {}): Promise<boolean> {
  if (await servedFromPushes(deps, name)) return options.checkStorage === false ? deps.repositories.linksBlob(name, digest) : deps.repositories.hasBlob(name, digest);
  let canonicalName: string;
  try {
    canonicalName = deps.images.canonicalName(name);
  } catch {
    return false;
  }
  return deps.images.hasBlob(canonicalName, digest);
}

/**
 * Whether `name` is served from pushed content: always for names reserved to pushes, else
 * only when something was pushed and pushes to it are allowed. A name pushes may not change
 * (a package list, under any spelling) is built, whatever was pushed to it before.
 */
export async function servedFromPushes(deps: RegistryDeps, name: string): Promise<boolean> {
  if (deps.pushPolicy.isReserved(name)) return true;
  if (!(await deps.repositories.isPushed(name))) return false;
  return (await deps.pushPolicy.decide(name)).allowed;
}

export function assertValidName(name: string): void {
  const problem = nameProblem(name);
  if (problem !== null) throw new RegistryError('NAME_INVALID', `invalid repository name: ${problem}`, { name });
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

/** RFC 9110 If-None-Match: one of the listed entity tags (weak or strong), or `*`: the resource exists. */
function etagMatches(request: FastifyRequest, digest: string): boolean {
  const header = request.headers['if-none-match'];
  const matches = (tag: string): boolean => tag === '*' || tag.replace(/^W\//, '') === `"${digest}"`;
  return typeof header === 'string' && header.split(',').some((tag) => matches(tag.trim()));
}

function declaredMediaType(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: unknown };
    if (typeof parsed.mediaType === 'string') return parsed.mediaType;
  } catch {
    // a stored manifest that is not JSON is served as an OCI manifest
  }
  return MediaType.ociManifest;
}
