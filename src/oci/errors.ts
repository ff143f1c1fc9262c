/**
 * Error codes of the OCI distribution spec (plus the `UNKNOWN` and `UNAVAILABLE` codes that
 * distribution/distribution adds) with their HTTP statuses, in one table. The body of every
 * error response is `{"errors":[{"code","message","detail"}]}`.
 */
export const OCI_ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  TAG_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  UNKNOWN: 500,
  UNAVAILABLE: 503,
} as const;

export type OciErrorCode = keyof typeof OCI_ERROR_STATUS;

export interface OciErrorBody {
  readonly errors: ReadonlyArray<{ code: OciErrorCode; message: string; detail?: unknown }>;
}

/** The spec's error envelope for one error. */
export function ociErrorBody(code: OciErrorCode, message: string, detail?: unknown): OciErrorBody {
  return { errors: [detail === undefined ? { code, message } : { code, message, detail }] };
}
