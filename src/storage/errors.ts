/** Domain errors of the storage layer; the registry maps them to OCI error codes. */

export class BlobNotFoundError extends Error {
  constructor(readonly digest: string) {
    super(`blob ${digest} is not known`);
    this.name = 'BlobNotFoundError';
  }
}

export class RangeNotSatisfiableError extends Error {
  constructor(readonly size: number) {
    super(`requested range is outside the blob of ${size} bytes`);
    this.name = 'RangeNotSatisfiableError';
  }
}

export class DigestMismatchError extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`content digest ${actual} does not match the expected ${expected}`);
    this.name = 'DigestMismatchError';
  }
}

/** A storage backend is unreachable or failing; retrying later may succeed. */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}
