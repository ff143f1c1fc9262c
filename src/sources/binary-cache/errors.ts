import { SourceIntegrityError, SourceUnavailableError } from '../errors.js';

/**
 * Domain errors of the binary-cache reader. Every one names the cache (credentials removed) and,
 * when there is one, the store path. They extend the sources' generic classes, which the
 * registry maps (502 for a cache that answered wrongly, 503 for one that could not be reached).
 */

/** Anything a binary cache got wrong (it answered, wrongly). */
export class BinaryCacheError extends SourceIntegrityError {
  constructor(
    message: string,
    /** The cache's URL without credentials. */
    readonly cache: string,
    readonly storePath?: string,
  ) {
    super(message, { cache, storePath });
    this.name = 'BinaryCacheError';
  }
}

/** Any error of this module: the cache answered wrongly, or could not be reached. */
export function isBinaryCacheError(error: unknown): error is BinaryCacheError | BinaryCacheUnavailableError {
  return error instanceof BinaryCacheError || error instanceof BinaryCacheUnavailableError;
}

/** The cache has no narinfo for a store path the catalog or a reference names. */
export class NarInfoNotFoundError extends BinaryCacheError {
  constructor(cache: string, storePath: string) {
    super(`binary cache ${cache} has no ${storePath}`, cache, storePath);
    this.name = 'NarInfoNotFoundError';
  }
}

/** A narinfo carries no signature by a trusted key, or a signature that does not verify. */
export class UntrustedNarInfoError extends BinaryCacheError {
  constructor(cache: string, storePath: string, reason: string) {
    super(`binary cache ${cache}: ${storePath} is not trusted: ${reason}`, cache, storePath);
    this.name = 'UntrustedNarInfoError';
  }
}

/**
 * Data from the cache is malformed or does not match what its signed narinfo declares: a
 * corrupt narinfo or NAR, a NarHash or NarSize mismatch, a truncated stream, an absurd size, an
 * unsafe entry name or symlink target.
 */
export class BinaryCacheIntegrityError extends BinaryCacheError {
  constructor(cache: string, storePath: string | undefined, reason: string) {
    super(`binary cache ${cache}${storePath ? `: ${storePath}` : ''}: ${reason}`, cache, storePath);
    this.name = 'BinaryCacheIntegrityError';
  }
}

/** The cache could not be reached, or kept failing (5xx, timeouts) after every retry. */
export class BinaryCacheUnavailableError extends SourceUnavailableError {
  constructor(
    /** The cache's URL without credentials. */
    readonly cache: string,
    reason: string,
    readonly storePath?: string,
  ) {
    super(`binary cache ${cache} is unavailable: ${reason}`, { cache, storePath });
    this.name = 'BinaryCacheUnavailableError';
  }
}

/** A URL with any user name and password removed, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}
