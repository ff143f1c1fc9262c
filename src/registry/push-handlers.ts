import type { FastifyReply, FastifyRequest } from 'fastify';
import { pipeline } from 'node:stream/promises';
import { isValidDigest, looksLikeDigest } from '../oci/digest.js';
import { isValidTag, nameProblem } from '../oci/reference.js';
import { MAX_MANIFEST_BYTES } from '../repository/pushed-repositories.js';
import { DeletesDisabledError, ManifestTooLargeError, UploadIncompleteError } from '../repository/errors.js';
import { RegistryError } from './registry-error.js';
import { policyOf } from './access-control.js';
import type { RegistryDeps } from './registry-deps.js';
import { assertValidName, repositoryHasBlob, servedFromPushes } from './pull-handlers.js';
import { assertSpellingsReadable } from './image-spellings.js';

/**
 * The push and delete side of the distribution API: blob uploads (monolithic, POST-then-PUT,
 * chunked), cross-repository mounts, manifest PUT, and deletes. Request bodies are read from the
 * raw stream (the content-type parser passes them through), so blobs never sit in memory.
 */
export async function startUpload(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string): Promise<FastifyReply> {
  assertValidName(name);
  await assertPushAllowed(deps, request, name);
  const query = request.query as { digest?: string; mount?: string; from?: string };
  if (query.mount !== undefined) {
    // Mounting reads the source repository: only from one the caller may pull (else a plain upload).
    const readable = query.from !== undefined && policyOf(deps.auth).allows(request.caller, query.from, 'pull') && (await spellingsReadable(deps, request, query.from));
    const mounted = readable && (await tryMount(deps, name, query.mount, query.from));
    if (mounted) return created(reply, name, query.mount);
  }
  if (query.digest !== undefined) {
    const digest = storableDigest(query.digest);
    const writer = await deps.blobs.writer();
    try {
      await receive(request, writer.stream);
      await writer.commit(digest);
    } catch (error) {
      await writer.abort();
      throw error;
    }
    await deps.repositories.linkBlob(name, digest);
    return created(reply, name, digest);
  }
  drain(request);
  const session = await deps.uploads.create(name, request.caller ?? '');
  return accepted(reply, name, session.id, 0);
}

export async function patchUpload(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string, id: string): Promise<FastifyReply> {
  assertValidName(name);
  const range = parseContentRange(request.headers['content-range']);
  const session = await deps.uploads.append(name, id, request.caller ?? '', request.raw, range, contentLength(request));
  return accepted(reply, name, id, session.size);
}

export async function finishUpload(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string, id: string): Promise<FastifyReply> {
  assertValidName(name);
  const { digest: raw } = request.query as { digest?: string };
  if (raw === undefined) throw new RegistryError('DIGEST_INVALID', 'finishing an upload needs ?digest=');
  const digest = storableDigest(raw);
  const length = contentLength(request);
  const hasBody = (length !== null && length > 0) || request.headers['transfer-encoding'] !== undefined;
  if (!hasBody) drain(request);
  await deps.uploads.finish(name, id, request.caller ?? '', digest, hasBody ? request.raw : null, length);
  await deps.repositories.linkBlob(name, digest);
  return created(reply, name, digest);
}

export async function cancelUpload(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string, id: string): Promise<FastifyReply> {
  assertValidName(name);
  await deps.uploads.cancel(name, id, request.caller ?? '');
  return reply.code(204).send();
}

export async function putManifest(deps: RegistryDeps, request: FastifyRequest, reply: FastifyReply, name: string, reference: string): Promise<FastifyReply> {
  assertValidName(name);
  if (!isValidTag(reference) && !(looksLikeDigest(reference) && isValidDigest(reference))) {
    throw new RegistryError(reference.includes(':') ? 'DIGEST_INVALID' : 'TAG_INVALID', `"${reference}" is neither a valid tag nor a valid digest`);
  }
  await assertPushAllowed(deps, request, name);
  const body = await readLimited(request, MAX_MANIFEST_BYTES);
  const result = await deps.repositories.putManifest(name, reference, body, request.headers['content-type']);
  if (result.subject !== undefined) reply.header('oci-subject', result.subject);
  return reply
    .code(201)
    .header('location', `/v2/${name}/manifests/${result.digest}`)
    .header('docker-content-digest', result.digest)
    .send();
}

export async function deleteManifest(deps: RegistryDeps, reply: FastifyReply, name: string, reference: string): Promise<FastifyReply> {
  assertValidName(name);
  if (!deps.deletesEnabled) throw new DeletesDisabledError();
  if (reference.includes(':') && !isValidDigest(reference)) throw new RegistryError('DIGEST_INVALID', `"${reference}" is not a valid digest`);
  await deps.repositories.deleteManifest(name, reference);
  return reply.code(202).send();
}

export async function deleteBlob(deps: RegistryDeps, reply: FastifyReply, name: string, digest: string): Promise<FastifyReply> {
  assertValidName(name);
  if (!deps.deletesEnabled) throw new DeletesDisabledError();
  const valid = validDigest(digest);
  if (!(await deps.repositories.unlinkBlob(name, valid))) throw new RegistryError('BLOB_UNKNOWN', `blob ${valid} is not known in ${name}`, { digest: valid });
  return reply.code(202).send();
}

/**
 * Refuse pushes to names whose content the registry builds (see PushNamespaces): every upload
 * starts with a POST and every image ends with a manifest PUT, so checking those two suffices.
 */
async function assertPushAllowed(deps: RegistryDeps, request: FastifyRequest, name: string): Promise<void> {
  const decision = await deps.pushPolicy.decide(name);
  if (decision.allowed) return;
  drain(request);
  throw new RegistryError('DENIED', decision.reason, { name });
}

/** Whether every spelling of the mount source's image is one the caller may pull (image-spellings.ts). */
async function spellingsReadable(deps: RegistryDeps, request: FastifyRequest, from: string): Promise<boolean> {
  return assertSpellingsReadable(deps, request, from, (name) => servedFromPushes(deps, name)).then(
    () => true,
    () => false,
  );
}

/** Link an existing blob from another repository; false when there is nothing to mount. */
async function tryMount(deps: RegistryDeps, name: string, digest: string, from: string | undefined): Promise<boolean> {
  if (!isValidDigest(digest) || from === undefined || nameProblem(from) !== null) return false;
  if (!(await repositoryHasBlob(deps, from, digest)) || (await deps.blobs.stat(digest)) === null) return false;
  await deps.repositories.linkBlob(name, digest);
  return true;
}

function created(reply: FastifyReply, name: string, digest: string): FastifyReply {
  return reply.code(201).header('location', `/v2/${name}/blobs/${digest}`).header('docker-content-digest', digest).header('content-length', 0).send();
}

function accepted(reply: FastifyReply, name: string, id: string, size: number): FastifyReply {
  return reply
    .code(202)
    .header('location', `/v2/${name}/blobs/uploads/${id}`)
    .header('range', `0-${Math.max(size - 1, 0)}`)
    .header('docker-upload-uuid', id)
    .header('content-length', 0)
    .send();
}

function validDigest(value: string): string {
  if (!isValidDigest(value)) throw new RegistryError('DIGEST_INVALID', `"${value}" is not a valid digest`);
  return value;
}

/**
 * The digest an upload is committed under. Blobs are stored by their sha256 (storage/types.ts):
 * a valid digest of another algorithm (sha512) is refused before any byte is read, saying so,
 * and a chunked upload stays open to be finished with its sha256; committing it would only
 * have said the content does not match, and ended the upload.
 */
function storableDigest(value: string): string {
  const digest = validDigest(value);
  if (!digest.startsWith(`${STORED_ALGORITHM}:`)) {
    throw new RegistryError('DIGEST_INVALID', `this registry stores blobs by ${STORED_ALGORITHM} only: upload with a ${STORED_ALGORITHM} digest, not ${digest.slice(0, digest.indexOf(':'))}`, { digest, supported: [STORED_ALGORITHM] });
  }
  return digest;
}

const STORED_ALGORITHM = 'sha256';

/** `Content-Range: <start>-<end>` as the spec writes it (a `bytes ` prefix is tolerated). */
function parseContentRange(header: string | undefined): { start: number; end: number } | null {
  if (header === undefined) return null;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/\d+|\/\*)?$/.exec(header.trim());
  if (!match) throw new RegistryError('UPLOAD_RANGE_NOT_SATISFIABLE', `malformed Content-Range "${header}"`);
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) throw new RegistryError('UPLOAD_RANGE_NOT_SATISFIABLE', `Content-Range "${header}" ends before it starts`);
  return { start, end };
}

function contentLength(request: FastifyRequest): number | null {
  const header = request.headers['content-length'];
  return header === undefined ? null : Number(header);
}

/** Stream the request body into `target`, failing when it ends short of Content-Length. */
async function receive(request: FastifyRequest, target: NodeJS.WritableStream): Promise<void> {
  const expected = contentLength(request);
  let received = 0;
  request.raw.on('data', (chunk: Buffer) => (received += chunk.length));
  await pipeline(request.raw, target);
  if (expected !== null && received !== expected) throw new UploadIncompleteError(expected, received);
}

/** Past the limit, this much more body is read and dropped so the client sees the 413; then the connection is cut. */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

/**
 * The whole body, up to `limit` bytes. A larger one (declared, or chunked and found so while
 * reading) fails with ManifestTooLargeError while the rest of the body is read and dropped, so
 * the client gets its 413 instead of a reset connection.
 */
async function readLimited(request: FastifyRequest, limit: number): Promise<Buffer> {
  const declared = contentLength(request);
  if (declared !== null && declared > limit) {
    drain(request);
    throw new ManifestTooLargeError(limit);
  }
  const raw = request.raw;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    raw.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > limit + MAX_DISCARDED_BYTES) raw.destroy();
      } else if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(new ManifestTooLargeError(limit));
      } else chunks.push(chunk);
    });
    raw.once('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    raw.once('error', reject);
  });
}

/** Discard a body the endpoint does not use, so the connection can be reused. */
function drain(request: FastifyRequest): void {
  request.raw.resume();
}
