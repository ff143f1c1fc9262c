/**
 * Domain errors of the Debian archive side. Each names the archive (as the machine's apt
 * sources spell it) so an operator sees which mirror failed; the registry maps them to OCI
 * errors (503 for an archive that cannot be reached, 502 for one that answered wrongly).
 */

/** Anything the archive got wrong: the base class, mapped to 502. */
export class DebianArchiveError extends Error {
  constructor(
    message: string,
    /** The archive root URL. */
    readonly archive: string,
  ) {
    super(message);
    this.name = 'DebianArchiveError';
  }
}

/** The archive could not be reached, or kept failing (5xx, timeouts) after every retry. */
export class DebianArchiveUnavailableError extends DebianArchiveError {
  constructor(archive: string, reason: string) {
    super(`Debian archive ${archive} is unavailable: ${reason}`, archive);
    this.name = 'DebianArchiveUnavailableError';
  }
}

/**
 * An index failed verification: a bad or missing signature, an expired Release, a Packages
 * file whose size or SHA256 differs from the signed Release, or a malformed file.
 */
export class DebianIndexIntegrityError extends DebianArchiveError {
  constructor(
    archive: string,
    /** Path of the refused file relative to the archive root (`dists/bookworm/InRelease`). */
    readonly file: string,
    readonly reason: string,
  ) {
    super(`Debian archive ${archive}: refusing ${file}: ${reason}`, archive);
    this.name = 'DebianIndexIntegrityError';
  }
}

/** The requested platform's architecture is not one the Debian source serves. */
export class DebianArchitectureError extends Error {
  constructor(
    readonly architecture: string,
    readonly served: readonly string[],
  ) {
    super(`architecture "${architecture}" is not served by the Debian source; served: ${served.join(', ')}`);
    this.name = 'DebianArchitectureError';
  }
}
