import type { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { TransientCacheError } from './request-policy.js';
import { FileTooLargeError, readLimited, type CacheTransport } from './transport.js';

/**
 * A binary cache in an S3 bucket, addressed as Nix does:
 * `s3://bucket[/prefix]?region=eu-west-1&endpoint=minio.local:9000&scheme=http&profile=name`.
 * Credentials come from the AWS default chain (or the named profile), never from the URL.
 * With an `endpoint` (MinIO, Ceph, R2 ...) requests use path-style addressing.
 */
export class S3CacheTransport implements CacheTransport {
  readonly displayUrl: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly client: S3Client;

  /** @param client a client to use instead of one built from the URL (tests). */
  constructor(url: URL, client?: S3Client) {
    this.bucket = url.hostname;
    if (this.bucket === '') throw new Error(`s3 cache URL ${url.href} names no bucket`);
    this.prefix = url.pathname.replace(/^\/+/, '').replace(/\/*$/, '');
    if (this.prefix !== '') this.prefix += '/';
    this.displayUrl = `s3://${this.bucket}/${this.prefix}`;
    this.client = client ?? new S3Client(s3ClientConfig(url.searchParams));
  }

  async get(path: string, options: { signal: AbortSignal; maxBytes: number }): Promise<Buffer | null> {
    const response = await this.send(path, options.signal);
    if (!response) return null;
    if ((response.length ?? 0) > options.maxBytes) {
      response.body.destroy();
      throw new FileTooLargeError(path, options.maxBytes);
    }
    return readLimited(response.body, path, options.maxBytes);
  }

  async open(path: string, signal: AbortSignal): Promise<Readable | null> {
    // The body must outlive `signal`, which only times the opening.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await this.send(path, controller.signal);
      return response?.body ?? null;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async send(path: string, signal: AbortSignal): Promise<{ body: Readable; length?: number } | null> {
    try {
      const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + path }), { abortSignal: signal });
      const body = output.Body as Readable | undefined;
      if (!body) throw new Error(`s3 object ${path} has no body`);
      return { body, ...(output.ContentLength !== undefined ? { length: output.ContentLength } : {}) };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof S3ServiceException) {
        const status = error.$metadata.httpStatusCode ?? 0;
        if (error.name === 'NoSuchKey' || error.name === 'NotFound' || status === 404 || status === 403) return null;
        if (status >= 500 || status === 429 || error.$retryable) throw new TransientCacheError(`GET ${path} answered ${status} ${error.name}`, { cause: error });
        throw new Error(`GET ${path} failed: ${error.name}: ${error.message}`);
      }
      throw new TransientCacheError(`GET ${path} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** S3 client settings from the query parameters Nix's s3:// URLs use. */
function s3ClientConfig(params: URLSearchParams): S3ClientConfig {
  const region = params.get('region') ?? 'us-east-1';
  const endpoint = params.get('endpoint');
  const scheme = params.get('scheme') ?? 'https';
  const profile = params.get('profile');
  return {
    region,
    // Retries are the RequestPolicy's, the same for every transport.
    maxAttempts: 1,
    ...(endpoint ? { endpoint: endpoint.includes('://') ? endpoint : `${scheme}://${endpoint}`, forcePathStyle: true } : {}),
    ...(profile ? { profile } : {}),
  };
}
