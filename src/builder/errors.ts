/** Domain errors of image building; the registry maps them to OCI error codes. */

/** Too many builds are waiting; the client should retry later. */
export class BuildQueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many image builds are queued; retry later');
    this.name = 'BuildQueueFullError';
  }
}

/** One client has as many builds running or waiting as it may; it should retry later. */
export class ClientBuildsFullError extends BuildQueueFullError {
  constructor(
    readonly limit: number,
    retryAfterSeconds: number,
  ) {
    super(retryAfterSeconds);
    this.message = `this client already has ${limit} image builds running or waiting; retry once one has finished`;
    this.name = 'ClientBuildsFullError';
  }
}

/** An image build ran past its time limit. */
export class BuildTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the image build did not finish within ${Math.round(timeoutMs / 1000)} s`);
    this.name = 'BuildTimeoutError';
  }
}

/** The build is still running after the time a request may wait; the client should retry. */
export class BuildInProgressError extends Error {
  constructor(
    readonly imageName: string,
    readonly progress: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`the image ${imageName} is still being built (${progress}); retry in ${retryAfterSeconds} s`);
    this.name = 'BuildInProgressError';
  }
}
