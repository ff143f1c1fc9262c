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

/** Too many evaluations of one kind are running or waiting: refused at once, retry later. */
export class SourceBusyError extends Error {
  constructor(
    readonly operation: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`too many ${operation} are running; retry later`);
    this.name = 'SourceBusyError';
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

/** The requested platform's architecture is not one the source serves. */
export class PlatformNotServedError extends Error {
  constructor(
    readonly architecture: string,
    readonly served: readonly string[],
    what = 'this source',
  ) {
    super(`architecture "${architecture}" is not served by ${what}; served: ${served.join(', ')}`);
    this.name = 'PlatformNotServedError';
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
