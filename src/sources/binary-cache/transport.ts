import type { Readable } from 'node:stream';

/**
 * Raw access to a binary cache's files by their path relative to the cache root
 * (`nix-cache-info`, `<hash>.narinfo`, `nar/<file>`). Implementations: file://, http(s)://, s3://.
 * They make one attempt each; retries, time limits and concurrency are the RequestPolicy's.
 */
export interface CacheTransport {
  /** The cache URL without credentials, for messages and logs. */
  readonly displayUrl: string;
  /**
   * The whole content of a small file, or null when the cache does not have it (404, 403, 410,
   * ENOENT, NoSuchKey).
   * @throws TransientCacheError on failures worth retrying; FileTooLargeError past `maxBytes`;
   *   other errors for permanent failures.
   */
  get(path: string, options: { readonly signal: AbortSignal; readonly maxBytes: number }): Promise<Buffer | null>;
  /**
   * A stream of a file, or null when the cache does not have it. The signal only governs
   * opening: once the stream is returned its reader owns it and must destroy it when done.
   * @throws as `get`.
   */
  open(path: string, signal: AbortSignal): Promise<Readable | null>;
}

/** A file bigger than the caller's limit (a narinfo or listing of absurd size). */
export class FileTooLargeError extends Error {
  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {
    super(`${path} is larger than ${maxBytes} bytes`);
    this.name = 'FileTooLargeError';
  }
}

/** Read a stream into memory, failing past `maxBytes`. */
export async function readLimited(stream: AsyncIterable<Uint8Array>, path: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > maxBytes) throw new FileTooLargeError(path, maxBytes);
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(chunks, total);
}
