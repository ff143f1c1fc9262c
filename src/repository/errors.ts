/** Domain errors of pushed repositories; the registry maps them to OCI error codes. */

export class UploadUnknownError extends Error {
  constructor(readonly uploadId: string) {
    super(`upload ${uploadId} is not known (finished, cancelled or expired)`);
    this.name = 'UploadUnknownError';
  }
}

/** As many upload sessions are open as the registry keeps (push.maxUploads), or as one user may hold (push.maxUploadsPerUser). */
export class UploadLimitError extends Error {
  constructor(
    readonly limit: number,
    readonly owner?: string,
  ) {
    super(owner === undefined ? `${limit} uploads are in progress, as many as this registry keeps open; finish or cancel one, or retry later` : `${owner || 'this caller'} has ${limit} uploads in progress, as many as one user may hold open; finish or cancel one, or retry later`);
    this.name = 'UploadLimitError';
  }
}

/** A chunk does not start where the upload stands. */
export class UploadRangeError extends Error {
  constructor(
    readonly uploadId: string,
    readonly offset: number,
  ) {
    super(`chunk does not continue upload ${uploadId}, which holds ${offset} bytes`);
    this.name = 'UploadRangeError';
  }
}

/** A request body whose length is not the one it declared (Content-Length, Content-Range): short, or longer. */
export class UploadIncompleteError extends Error {
  constructor(
    readonly expected: number,
    readonly received: number,
  ) {
    super(received < expected ? `the body ended after ${received} of ${expected} bytes` : `the body held ${received} bytes, more than the ${expected} declared`);
    this.name = 'UploadIncompleteError';
  }
}

export class ManifestInvalidError extends Error {
  constructor(reason: string) {
    super(`manifest invalid: ${reason}`);
    this.name = 'ManifestInvalidError';
  }
}

export class ManifestTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`manifest is larger than ${limit} bytes`);
    this.name = 'ManifestTooLargeError';
  }
}

/** A manifest names blobs or manifests the repository does not have. */
export class ManifestReferenceUnknownError extends Error {
  constructor(readonly digests: readonly string[]) {
    super(`manifest references unknown content: ${digests.join(', ')}`);
    this.name = 'ManifestReferenceUnknownError';
  }
}

export class ManifestNotFoundError extends Error {
  constructor(
    readonly repository: string,
    readonly reference: string,
  ) {
    super(`manifest ${reference} is not known in ${repository}`);
    this.name = 'ManifestNotFoundError';
  }
}

export class DeletesDisabledError extends Error {
  constructor() {
    super('deleting is disabled on this registry');
    this.name = 'DeletesDisabledError';
  }
}
