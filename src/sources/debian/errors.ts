import { PlatformNotServedError, SourceIntegrityError, SourceUnavailableError } from '../errors.js';

/**
 * Domain errors of the Debian archive side. Each names the archive (as the machine's apt
 * sources spell it) so an operator sees which mirror failed. They extend the sources' generic
 * classes, which the registry's error table maps: 503 for an archive that cannot be reached,
 * 502 for one that answered wrongly.
 */

/** The archive answered wrongly (too large, malformed, unverifiable): mapped to 502. */
export class DebianArchiveError extends SourceIntegrityError {
  constructor(
    message: string,
    /** The archive root URL. */
    readonly archive: string,
    item?: string,
  ) {
    super(message, { upstream: archive, item });
    this.name = 'DebianArchiveError';
  }
}

/** The archive could not be reached, or kept failing (5xx, timeouts) after every retry. */
export class DebianArchiveUnavailableError extends SourceUnavailableError {
  constructor(
    readonly archive: string,
    reason: string,
  ) {
    super(`Debian archive ${archive} is unavailable: ${reason}`, { upstream: archive });
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
    super(`Debian archive ${archive}: refusing ${file}: ${reason}`, archive, file);
    this.name = 'DebianIndexIntegrityError';
  }
}

/** The requested platform's architecture is not one the Debian source serves. */
export class DebianArchitectureError extends PlatformNotServedError {
  constructor(architecture: string, served: readonly string[]) {
    super(architecture, served, 'the Debian source');
    this.name = 'DebianArchitectureError';
  }
}
