/** Domain errors of package sources; the registry maps them to OCI error codes. */

/** Some requested packages do not exist in the package set. */
export class PackageNotFoundError extends Error {
  constructor(readonly packages: readonly string[]) {
    super(`unknown package${packages.length === 1 ? '' : 's'}: ${packages.join(', ')}`);
    this.name = 'PackageNotFoundError';
  }
}

/** A package name breaks the attribute-path grammar; it never reaches Nix. */
export class InvalidPackageNameError extends Error {
  constructor(
    readonly packageName: string,
    readonly reason: string,
  ) {
    super(`invalid package name "${packageName}": ${reason}`);
    this.name = 'InvalidPackageNameError';
  }
}

/** The tag names a package-set revision the source does not have. */
export class RevisionNotFoundError extends Error {
  constructor(
    readonly revision: string,
    readonly known: readonly string[],
  ) {
    super(`package set revision "${revision}" is not known; known: ${known.join(', ')}`);
    this.name = 'RevisionNotFoundError';
  }
}

/** Evaluating or building packages failed; `logTail` holds the end of the tool's output. */
export class BuildFailedError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(message);
    this.name = 'BuildFailedError';
  }
}

/** A source operation ran past its time limit. */
export class SourceTimeoutError extends Error {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    super(`${operation} did not finish within ${Math.round(timeoutMs / 1000)} s`);
    this.name = 'SourceTimeoutError';
  }
}

/**
 * Generic classes for what a source's upstream (a binary cache, a package archive) did wrong.
 * Concrete sources extend them, so the registry's error table maps these two and never imports a
 * concrete source. `detail` names the upstream (credentials removed) and the item concerned.
 */
export type UpstreamDetail = Readonly<Record<string, string | undefined>>;

/** The upstream could not be reached, or kept failing after every retry: try again later. */
export class SourceUnavailableError extends Error {
  constructor(
    message: string,
    readonly detail: UpstreamDetail,
  ) {
    super(message);
    this.name = 'SourceUnavailableError';
  }
}

/** The upstream answered, wrongly: missing, untrusted or corrupt data. */
export class SourceIntegrityError extends Error {
  constructor(
    message: string,
    readonly detail: UpstreamDetail,
  ) {
    super(message);
    this.name = 'SourceIntegrityError';
  }
}
