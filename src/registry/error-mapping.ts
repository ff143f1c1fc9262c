import { ociErrorBody, type OciErrorBody } from '../oci/errors.js';
import { BlobNotFoundError, DigestMismatchError, RangeNotSatisfiableError, StorageUnavailableError } from '../storage/errors.js';
import {
  BuildFailedError,
  InvalidPackageNameError,
  PackageNotFoundError,
  PlatformNotServedError,
  RevisionNotFoundError,
  SourceBusyError,
  SourceIntegrityError,
  SourceTimeoutError,
  SourceUnavailableError,
  UnsatisfiableDependencyError,
  VirtualPackageError,
} from '../sources/errors.js';
import { BuildInProgressError, BuildQueueFullError, BuildTimeoutError } from '../builder/errors.js';
import { InvalidImageNameError } from '../image-name/errors.js';
import { RegistryError } from './registry-error.js';
import { ERROR_TABLE, type Answer, type ErrorKind } from './error-table.js';
import {
  DeletesDisabledError,
  ManifestInvalidError,
  ManifestNotFoundError,
  ManifestReferenceUnknownError,
  ManifestTooLargeError,
  UploadIncompleteError,
  UploadLimitError,
  UploadRangeError,
  UploadUnknownError,
} from '../repository/errors.js';

export interface MappedError {
  readonly status: number;
  readonly body: OciErrorBody;
  readonly headers: Readonly<Record<string, string>>;
  /** True for failures the operator should look at (logged at error level with the stack). */
  readonly unexpected: boolean;
}

/** What one rule makes of an error: the table's kind, and what the answer says besides. */
interface Mapping {
  readonly kind: ErrorKind;
  /** Defaults to the error's own message. */
  readonly message?: string;
  readonly detail?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Rule {
  readonly matches: (error: unknown) => boolean;
  readonly map: (error: never) => Mapping;
}

type ErrorClass<E> = abstract new (...args: never[]) => E;
const on = <E>(type: ErrorClass<E>, map: (error: E) => Mapping): Rule => ({ matches: (error) => error instanceof type, map });
const when = <E>(matches: (error: unknown) => boolean, map: (error: E) => Mapping): Rule => ({ matches, map });
const retryAfter = (seconds: number): Record<string, string> => ({ 'retry-after': String(seconds) });

/**
 * The one table from domain errors to answers, tried in order (subclasses before their bases).
 * Lower layers throw plain errors; only here do they meet a kind of ERROR_TABLE, which gives the
 * code and status.
 */
const RULES: readonly Rule[] = [
  on(RegistryError, (e) => ({ kind: e.kind, detail: e.detail, headers: e.headers })),
  // A full disk surfaces as an fs error from whichever write hit it; named before anything else.
  when(isStorageFull, () => ({ kind: 'STORAGE_FULL', message: 'storage is full: the registry cannot write blobs or uploads until space is freed' })),
  on(InvalidImageNameError, (e) => ({ kind: 'NAME_INVALID', detail: { name: e.imageName } })),
  on(InvalidPackageNameError, (e) => ({ kind: 'NAME_INVALID', detail: { package: e.packageName } })),
  on(UnsatisfiableDependencyError, (e) => ({ kind: 'MANIFEST_UNKNOWN', detail: { chain: e.chain, relation: e.relation } })),
  on(VirtualPackageError, (e) => ({ kind: 'MANIFEST_UNKNOWN', detail: { packages: e.packages, virtual: e.virtual } })),
  on(PackageNotFoundError, (e) => ({ kind: 'MANIFEST_UNKNOWN', detail: { packages: e.packages } })),
  on(PlatformNotServedError, (e) => ({ kind: 'MANIFEST_UNKNOWN', detail: { architecture: e.architecture, served: e.served } })),
  on(RevisionNotFoundError, (e) => ({ kind: 'MANIFEST_UNKNOWN', detail: { revision: e.revision, known: e.known } })),
  on(BlobNotFoundError, (e) => ({ kind: 'BLOB_UNKNOWN', detail: { digest: e.digest } })),
  on(UploadUnknownError, (e) => ({ kind: 'BLOB_UPLOAD_UNKNOWN', detail: { upload: e.uploadId } })),
  on(UploadLimitError, (e) => ({ kind: 'TOOMANYREQUESTS', detail: { limit: e.limit }, headers: retryAfter(60) })),
  on(UploadRangeError, (e) => ({ kind: 'UPLOAD_RANGE_NOT_SATISFIABLE', detail: { offset: e.offset }, headers: { range: `0-${Math.max(e.offset - 1, 0)}` } })),
  on(UploadIncompleteError, (e) => ({ kind: 'BLOB_UPLOAD_INVALID', detail: { expected: e.expected, received: e.received } })),
  on(ManifestInvalidError, () => ({ kind: 'MANIFEST_INVALID' })),
  on(ManifestTooLargeError, (e) => ({ kind: 'PAYLOAD_TOO_LARGE', detail: { limit: e.limit } })),
  on(ManifestReferenceUnknownError, (e) => ({ kind: 'MANIFEST_BLOB_UNKNOWN', detail: { digests: e.digests } })),
  on(ManifestNotFoundError, (e) => ({ kind: 'MANIFEST_UNKNOWN', detail: { name: e.repository, reference: e.reference } })),
  on(DeletesDisabledError, () => ({ kind: 'UNSUPPORTED' })),
  on(RangeNotSatisfiableError, (e) => ({ kind: 'RANGE_NOT_SATISFIABLE', detail: { size: e.size }, headers: { 'content-range': `bytes */${e.size}` } })),
  on(DigestMismatchError, (e) => ({ kind: 'DIGEST_INVALID', detail: { expected: e.expected, actual: e.actual } })),
  on(BuildFailedError, (e) => ({ kind: 'UNKNOWN', message: `image build failed: ${e.message}`, detail: { log: e.logTail } })),
  on(BuildQueueFullError, (e) => ({ kind: 'TOOMANYREQUESTS', headers: retryAfter(e.retryAfterSeconds) })),
  on(BuildInProgressError, (e) => ({ kind: 'UNAVAILABLE', detail: { name: e.imageName, progress: e.progress }, headers: retryAfter(e.retryAfterSeconds) })),
  on(BuildTimeoutError, () => ({ kind: 'UNAVAILABLE', headers: retryAfter(60) })),
  on(SourceBusyError, (e) => ({ kind: 'TOOMANYREQUESTS', headers: retryAfter(e.retryAfterSeconds) })),
  on(SourceTimeoutError, () => ({ kind: 'UNAVAILABLE', headers: retryAfter(60) })),
  on(SourceUnavailableError, (e) => ({ kind: 'UNAVAILABLE', detail: e.detail, headers: retryAfter(30) })),
  // The upstream answered, wrongly (missing, unsigned, corrupt): a bad gateway, named plainly.
  on(SourceIntegrityError, (e) => ({ kind: 'UPSTREAM_BAD_ANSWER', message: `image build failed: ${e.message}`, detail: e.detail })),
  on(StorageUnavailableError, () => ({ kind: 'UNAVAILABLE' })),
  when(isClientAbort, () => ({ kind: 'BLOB_UPLOAD_INVALID', message: 'the request body was cut off before it ended' })),
  when<Error>(isFrameworkClientError, (e) => ({ kind: frameworkKind(e), message: e.message })),
];

/** Turn any error into its OCI error response. Unmatched errors are 500 with their message hidden. */
export function mapError(error: unknown): MappedError {
  const rule = RULES.find((candidate) => candidate.matches(error));
  if (rule === undefined) return answerOf({ kind: 'UNKNOWN', message: 'internal server error' }, true);
  const mapping = rule.map(error as never);
  return answerOf({ ...mapping, message: mapping.message ?? (error as Error).message }, false);
}

/** The answer for a kind of the table, for callers that have no error object (health probes). */
export function answerOf(mapping: Mapping & { readonly message: string }, unexpected = false): MappedError {
  const entry = ERROR_TABLE[mapping.kind];
  const fixed = (entry as Answer).headers ?? {};
  return {
    status: entry.status,
    body: ociErrorBody(entry.code, mapping.message, mapping.detail),
    headers: { ...fixed, ...mapping.headers },
    unexpected,
  };
}

/** ENOSPC or EDQUOT anywhere in the error's cause chain. */
function isStorageFull(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

/** The client closed the connection while sending a body: its problem, not the server's. */
function isClientAbort(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return error instanceof Error && (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || error.message === 'aborted');
}

/** Client errors raised by fastify itself (bad body, too large, bad URL, ...) carry a 4xx statusCode. */
function isFrameworkClientError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

function frameworkKind(error: Error): ErrorKind {
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 404) return 'NO_SUCH_ENDPOINT';
  return 'BAD_REQUEST';
}
