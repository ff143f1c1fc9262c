import type { OciErrorCode } from '../oci/errors.js';

/** How the registry answers one kind of failure: the OCI error code, the HTTP status, fixed headers. */
export interface Answer {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
}

const answer = (code: OciErrorCode, status: number, headers?: Record<string, string>): Answer => (headers ? { code, status, headers } : { code, status });

/**
 * Every answer the HTTP layer gives on failure, in one place. The first block is the spec's codes
 * at their usual statuses (as distribution's errcode descriptors give them); the second names the
 * answers where the spec or HTTP mandates another status for a code. Nothing else in the
 * registry or the web UI picks a status: they throw a `RegistryError` naming one of these kinds,
 * or a domain error that error-mapping.ts turns into one.
 */
export const ERROR_TABLE = {
  BLOB_UNKNOWN: answer('BLOB_UNKNOWN', 404),
  BLOB_UPLOAD_INVALID: answer('BLOB_UPLOAD_INVALID', 400),
  BLOB_UPLOAD_UNKNOWN: answer('BLOB_UPLOAD_UNKNOWN', 404),
  DIGEST_INVALID: answer('DIGEST_INVALID', 400),
  // A manifest naming blobs the repository lacks is a bad request (distribution and the
  // conformance suite answer 400), not a missing resource.
  MANIFEST_BLOB_UNKNOWN: answer('MANIFEST_BLOB_UNKNOWN', 400),
  MANIFEST_INVALID: answer('MANIFEST_INVALID', 400),
  MANIFEST_UNKNOWN: answer('MANIFEST_UNKNOWN', 404),
  NAME_INVALID: answer('NAME_INVALID', 400),
  NAME_UNKNOWN: answer('NAME_UNKNOWN', 404),
  SIZE_INVALID: answer('SIZE_INVALID', 400),
  TAG_INVALID: answer('TAG_INVALID', 400),
  UNAUTHORIZED: answer('UNAUTHORIZED', 401),
  DENIED: answer('DENIED', 403),
  UNSUPPORTED: answer('UNSUPPORTED', 405),
  TOOMANYREQUESTS: answer('TOOMANYREQUESTS', 429),
  UNKNOWN: answer('UNKNOWN', 500),
  UNAVAILABLE: answer('UNAVAILABLE', 503, { 'retry-after': '30' }),

  /** A chunk that does not start where the upload ends (spec: 416 Requested Range Not Satisfiable). */
  UPLOAD_RANGE_NOT_SATISFIABLE: answer('BLOB_UPLOAD_INVALID', 416),
  /** A blob Range outside the blob (RFC 9110: 416). */
  RANGE_NOT_SATISFIABLE: answer('RANGE_INVALID', 416),
  /** A manifest or request body over its limit (spec: 413 Payload Too Large). */
  PAYLOAD_TOO_LARGE: answer('SIZE_INVALID', 413),
  /** A request body of a content type the endpoint does not take. */
  UNSUPPORTED_MEDIA_TYPE: answer('UNSUPPORTED', 415),
  /** A request the server cannot read: repeated or malformed query parameters, a bad URL, a bad body. */
  BAD_REQUEST: answer('UNSUPPORTED', 400),
  /** A request body that stopped arriving (server.bodyIdleTimeoutMs): 408, then the connection closes. */
  REQUEST_TIMEOUT: answer('UNSUPPORTED', 408),
  /** Request headers over Node's limit. */
  HEADERS_TOO_LARGE: answer('SIZE_INVALID', 431),
  /** No route serves this method and path. */
  NO_SUCH_ENDPOINT: answer('NAME_UNKNOWN', 404),
  /** The path exists, the method does not. */
  METHOD_NOT_ALLOWED: answer('UNSUPPORTED', 405),
  /** Too many failed logins from one address. */
  LOGIN_THROTTLED: answer('TOOMANYREQUESTS', 429),
  /** An upstream (binary cache, archive) answered wrongly: missing, unsigned or corrupt data. */
  UPSTREAM_BAD_ANSWER: answer('UNKNOWN', 502),
  /** The blob store or staging disk has no space (ENOSPC, EDQUOT): 507 Insufficient Storage. */
  STORAGE_FULL: answer('UNAVAILABLE', 507, { 'retry-after': '60' }),
  /** The client closed the connection before its answer; nobody reads it, logs and metrics show 499 (nginx's "client closed request"). */
  CLIENT_WENT_AWAY: answer('UNKNOWN', 499),
  /** A readiness probe failed. */
  NOT_READY: answer('UNAVAILABLE', 503, { 'retry-after': '10' }),
} as const satisfies Record<string, Answer>;

export type ErrorKind = keyof typeof ERROR_TABLE;
