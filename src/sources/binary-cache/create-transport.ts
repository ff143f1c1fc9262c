import type { S3Client } from '@aws-sdk/client-s3';
import { FileCacheTransport } from './file-transport.js';
import { HttpCacheTransport } from './http-transport.js';
import { S3CacheTransport } from './s3-transport.js';
import type { CacheTransport } from './transport.js';

/**
 * The transport for a cache URL: `file:///dir`, `http(s)://host/path`, `s3://bucket?...`.
 * @throws Error on another scheme or a malformed URL.
 */
export function createCacheTransport(url: string, options: { s3Client?: S3Client } = {}): CacheTransport {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`binary cache URL ${JSON.stringify(url)} is not a URL`);
  }
  switch (parsed.protocol) {
    case 'file:':
      return new FileCacheTransport(parsed);
    case 'http:':
    case 'https:':
      return new HttpCacheTransport(parsed);
    case 's3:':
      return new S3CacheTransport(parsed, options.s3Client);
    default:
      throw new Error(`binary cache URL ${JSON.stringify(url)}: unsupported scheme ${parsed.protocol} (use file://, http://, https:// or s3://)`);
  }
}
