/** Domain errors of reading image names; the registry maps them to OCI error codes. */

/** The repository name is not a valid package list. */
export class InvalidImageNameError extends Error {
  constructor(
    readonly imageName: string,
    readonly reason: string,
  ) {
    super(`invalid image name: ${reason}`);
    this.name = 'InvalidImageNameError';
  }
}
