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
 * A requested name exists only as a virtual package (something packages provide, or only ever
 * depend on). Naming it does not say which image is meant unless exactly one package provides it.
 */
export class VirtualPackageError extends PackageNotFoundError {
  constructor(
    /** Requested names that are neither real nor virtual. */
    readonly missing: readonly string[],
    /** Requested virtual names, each with the real packages that provide it (maybe none). */
    readonly virtual: ReadonlyArray<{ readonly name: string; readonly providers: readonly string[] }>,
  ) {
    super([...missing, ...virtual.map((v) => v.name)]);
    const parts = missing.length > 0 ? [`unknown package${missing.length === 1 ? '' : 's'}: ${missing.join(', ')}`] : [];
    for (const v of virtual) {
      parts.push(
        v.providers.length === 0
          ? `"${v.name}" is a virtual package that no package provides`
          : `"${v.name}" is a virtual package provided by ${v.providers.join(', ')}; name one of them`,
      );
    }
    this.message = parts.join('; ');
    this.name = 'VirtualPackageError';
  }
}

/**
 * A dependency of a requested package cannot be satisfied by the package set (no candidate, or
 * no candidate with a satisfying version). `chain` runs from the requested package to the one
 * whose relation failed.
 */
export class UnsatisfiableDependencyError extends PackageNotFoundError {
  constructor(
    /** Package names from the requested root to the package with the failing relation. */
    readonly chain: readonly string[],
    /** The relation as written in the index, e.g. `libc6 (>= 2.99)`. */
    readonly relation: string,
    readonly reason: string,
  ) {
    super([chain[0] ?? relation]);
    this.message = `dependency "${relation}" of ${chain.join(' -> ')} cannot be satisfied: ${reason}`;
    this.name = 'UnsatisfiableDependencyError';
  }
}

/**
 * A source's upstream (an archive, a cache) could not be reached or kept failing after every
 * retry. Transient: the registry answers 503 naming `upstream`, and nothing was stored.
 */
export class SourceUnavailableError extends Error {
  constructor(
    /** The upstream as configured (a URL), so an operator knows which one failed. */
    readonly upstream: string,
    readonly reason: string,
  ) {
    super(`${upstream} is unavailable: ${reason}`);
    this.name = 'SourceUnavailableError';
  }
}

/**
 * A source's upstream answered with bytes that fail verification (a hash or size that differs
 * from the signed index). Nothing was stored; the registry answers 502.
 */
export class SourceIntegrityError extends Error {
  constructor(
    readonly upstream: string,
    /** What was refused, e.g. the file's path relative to the upstream root. */
    readonly item: string,
    readonly reason: string,
  ) {
    super(`${upstream}: refusing ${item}: ${reason}`);
    this.name = 'SourceIntegrityError';
  }
}
