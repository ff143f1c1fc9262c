import type { OciErrorCode } from '../oci/errors.js';
import { ERROR_TABLE, type ErrorKind } from './error-table.js';

/**
 * An error the HTTP layer raises itself (bad digest in a URL, unknown route, ...). It names a
 * kind of the error table, which alone decides the code and the status.
 */
export class RegistryError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly detail?: unknown,
    /** Headers this answer needs besides the table's (a challenge, a Range). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }

  get code(): OciErrorCode {
    return ERROR_TABLE[this.kind].code;
  }

  get status(): number {
    return ERROR_TABLE[this.kind].status;
  }
}

/** The answer for a method and path no route serves; the only place it is written. */
export function noSuchEndpoint(method: string, url: string): RegistryError {
  return new RegistryError('NO_SUCH_ENDPOINT', `no such endpoint: ${method} ${url.split('?')[0]}`);
}
