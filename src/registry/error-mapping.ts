import { OCI_ERROR_STATUS, ociErrorBody, type OciErrorBody, type OciErrorCode } from '../oci/errors.js';
import { BlobNotFoundError, DigestMismatchError, RangeNotSatisfiableError, StorageUnavailableError } from '../storage/errors.js';
import {
  BuildFailedError,
  InvalidPackageNameError,
  PackageNotFoundError,
  RevisionNotFoundError,
  SourceTimeoutError,
  UnsatisfiableDependencyError,
  VirtualPackageError,
} from '../sources/errors.js';
import { DebianArchitectureError } from '../sources/debian/errors.js';
import { BuildInProgressError, BuildQueueFullError, BuildTimeoutError } from '../builder/errors.js';
import { InvalidImageNameError } from '../image-name/errors.js';
import { RegistryError } from './registry-error.js';
import { BinaryCacheError, BinaryCacheUnavailableError } from '../sources/binary-cache/errors.js';
import {
  DeletesDisabledError,
  ManifestInvalidError,
  ManifestNotFoundError,
  ManifestReferenceUnknownError,
  ManifestTooLargeError,
  UploadIncompleteError,
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

/**
 * The one table that turns domain errors into OCI error responses. Lower layers throw plain
 * errors; only here do they get HTTP statuses and codes.
 */
export function mapError(error: unknown): MappedError {
  const mapped = (code: OciErrorCode, message: string, detail?: unknown, headers: Record<string, string> = {}, status: number = OCI_ERROR_STATUS[code]): MappedError => ({
    status,
    body: ociErrorBody(code, message, detail),
    headers,
    unexpected: false,
  });

  if (error instanceof RegistryError) return mapped(error.code, error.message, error.detail, error.headers, error.status);
  if (error instanceof InvalidImageNameError) return mapped('NAME_INVALID', error.message, { name: error.imageName });
  if (error instanceof InvalidPackageNameError) return mapped('NAME_INVALID', error.message, { package: error.packageName });
  if (error instanceof UnsatisfiableDependencyError) return mapped('MANIFEST_UNKNOWN', error.message, { chain: error.chain, relation: error.relation });
  if (error instanceof VirtualPackageError) return mapped('MANIFEST_UNKNOWN', error.message, { packages: error.packages, virtual: error.virtual });
  if (error instanceof PackageNotFoundError) return mapped('MANIFEST_UNKNOWN', error.message, { packages: error.packages });
  if (error instanceof DebianArchitectureError) return mapped('MANIFEST_UNKNOWN', error.message, { architecture: error.architecture, served: error.served });
  if (error instanceof RevisionNotFoundError) return mapped('MANIFEST_UNKNOWN', error.message, { revision: error.revision, known: error.known });
  if (error instanceof BlobNotFoundError) return mapped('BLOB_UNKNOWN', error.message, { digest: error.digest });
  if (error instanceof UploadUnknownError) return mapped('BLOB_UPLOAD_UNKNOWN', error.message, { upload: error.uploadId });
  if (error instanceof UploadRangeError) {
    return mapped('BLOB_UPLOAD_INVALID', error.message, { offset: error.offset }, { range: `0-${Math.max(error.offset - 1, 0)}` }, 416);
  }
  if (error instanceof UploadIncompleteError) return mapped('BLOB_UPLOAD_INVALID', error.message, { expected: error.expected, received: error.received });
  if (error instanceof ManifestInvalidError) return mapped('MANIFEST_INVALID', error.message);
  if (error instanceof ManifestTooLargeError) return mapped('SIZE_INVALID', error.message, { limit: error.limit }, {}, 413);
  if (error instanceof ManifestReferenceUnknownError) return mapped('MANIFEST_BLOB_UNKNOWN', error.message, { digests: error.digests }, {}, 400);
  if (error instanceof ManifestNotFoundError) return mapped('MANIFEST_UNKNOWN', error.message, { name: error.repository, reference: error.reference });
  if (error instanceof DeletesDisabledError) return mapped('UNSUPPORTED', error.message);
  if (error instanceof RangeNotSatisfiableError) {
    return mapped('RANGE_INVALID', error.message, { size: error.size }, { 'content-range': `bytes */${error.size}` });
  }
  if (error instanceof DigestMismatchError) return mapped('DIGEST_INVALID', error.message, { expected: error.expected, actual: error.actual });
  if (error instanceof BuildFailedError) return mapped('UNKNOWN', `image build failed: ${error.message}`, { log: error.logTail });
  if (error instanceof BuildQueueFullError) {
    return mapped('TOOMANYREQUESTS', error.message, undefined, { 'retry-after': String(error.retryAfterSeconds) });
  }
  if (error instanceof BuildInProgressError) {
    return mapped('UNAVAILABLE', error.message, { name: error.imageName, progress: error.progress }, { 'retry-after': String(error.retryAfterSeconds) });
  }
  if (error instanceof BuildTimeoutError || error instanceof SourceTimeoutError) {
    return mapped('UNAVAILABLE', error.message, undefined, { 'retry-after': '60' });
  }
  if (error instanceof BinaryCacheUnavailableError) return mapped('UNAVAILABLE', error.message, { cache: error.cache, storePath: error.storePath }, { 'retry-after': '30' });
  // The cache answered, wrongly (missing, unsigned, corrupt): a bad gateway, named plainly.
  if (error instanceof BinaryCacheError) return mapped('UNKNOWN', `image build failed: ${error.message}`, { cache: error.cache, storePath: error.storePath }, {}, 502);
  if (error instanceof StorageUnavailableError) return mapped('UNAVAILABLE', error.message, undefined, { 'retry-after': '30' });

  if (isClientAbort(error)) return mapped('BLOB_UPLOAD_INVALID', 'the request body was cut off before it ended');

  const fastifyStatus = fastifyClientErrorStatus(error);
  if (fastifyStatus !== null) {
    const code: OciErrorCode = fastifyStatus === 413 ? 'SIZE_INVALID' : fastifyStatus === 415 ? 'UNSUPPORTED' : 'UNKNOWN';
    return mapped(code, (error as Error).message, undefined, {}, fastifyStatus);
  }
  return { ...mapped('UNKNOWN', 'internal server error'), unexpected: true };
}

/** The client closed the connection while sending a body: its problem, not the server's. */
function isClientAbort(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return error instanceof Error && (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || error.message === 'aborted');
}

/** Client errors raised by fastify itself (bad body, too large, ...) carry a 4xx statusCode. */
function fastifyClientErrorStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}
