/**
 * Error codes of the OCI distribution spec (plus the `UNKNOWN` and `UNAVAILABLE` codes that
 * distribution/distribution adds, and `RANGE_INVALID`). The body of every error response is
 * `{"errors":[{"code","message","detail"}]}`. Which HTTP status goes with a code is the
 * registry's error table (src/registry/error-table.ts), the one place statuses are decided.
 */
export const OCI_ERROR_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  'RANGE_INVALID',
  'UNKNOWN',
  'UNAVAILABLE',
] as const;

export type OciErrorCode = (typeof OCI_ERROR_CODES)[number];

export interface OciErrorBody {
  readonly errors: ReadonlyArray<{ code: OciErrorCode; message: string; detail?: unknown }>;
}

/** The spec's error envelope for one error. */
export function ociErrorBody(code: OciErrorCode, message: string, detail?: unknown): OciErrorBody {
  return { errors: [detail === undefined ? { code, message } : { code, message, detail }] };
}
