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
