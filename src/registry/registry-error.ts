import { OCI_ERROR_STATUS, type OciErrorCode } from '../oci/errors.js';

/** An error the HTTP layer raises itself (bad digest in a URL, unknown route, ...). */
export class RegistryError extends Error {
  readonly status: number;

  constructor(
    readonly code: OciErrorCode,
    message: string,
    readonly detail?: unknown,
    readonly headers: Record<string, string> = {},
    status?: number,
  ) {
    super(message);
    this.name = 'RegistryError';
    this.status = status ?? OCI_ERROR_STATUS[code];
  }
}
