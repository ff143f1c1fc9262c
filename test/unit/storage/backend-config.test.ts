import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../../../src/config/env.js';
import { parseConfig } from '../../../src/config/load.js';

describe('storage and metadata configuration', () => {
  it('defaults to local storage and metadata', () => {
    const config = parseConfig({});
    expect(config.storage.backend).toBe('fs');
    expect(config.metadata.backend).toBe('fs');
    expect(config.storage.s3).toMatchObject({ region: 'us-east-1', redirect: false, presignTtlSeconds: 900, maxAttempts: 4, prefix: '' });
    expect(config.metadata.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', keyPrefix: 'stowage:', lockTtlMs: 30_000 });
  });

  it('reads S3 and Redis settings from STOWAGE_* variables', () => {
    const config = parseConfig(
      configFromEnv({
        STOWAGE_STORAGE_BACKEND: 's3',
        STOWAGE_S3_BUCKET: 'blobs',
        STOWAGE_S3_ENDPOINT: 'http://minio:9000',
        STOWAGE_S3_FORCE_PATH_STYLE: 'true',
        STOWAGE_S3_PREFIX: 'team-a/',
        STOWAGE_S3_REDIRECT: '1',
        STOWAGE_S3_PRESIGN_TTL_SECONDS: '60',
        STOWAGE_METADATA_BACKEND: 'redis',
        STOWAGE_REDIS_URL: 'rediss://redis.internal:6380/2',
        STOWAGE_REDIS_LOCK_TTL_MS: '10000',
      }),
    );
    expect(config.storage).toMatchObject({ backend: 's3', s3: { bucket: 'blobs', endpoint: 'http://minio:9000', forcePathStyle: true, prefix: 'team-a/', redirect: true, presignTtlSeconds: 60 } });
    expect(config.metadata).toMatchObject({ backend: 'redis', redis: { url: 'rediss://redis.internal:6380/2', lockTtlMs: 10_000 } });
  });

  it('refuses an S3 backend without a bucket, a bad prefix, endpoint or Redis URL', () => {
    expect(() => parseConfig({ storage: { backend: 's3' } })).toThrow(/storage\.s3\.bucket: is required when storage\.backend is s3/);
    expect(() => parseConfig({ storage: { s3: { prefix: 'no-slash' } } })).toThrow(/storage\.s3\.prefix: must be empty or end with \//);
    expect(() => parseConfig({ storage: { s3: { endpoint: 'minio:9000' } } })).toThrow(/storage\.s3\.endpoint/);
    expect(() => parseConfig({ metadata: { redis: { url: 'http://redis' } } })).toThrow(/metadata\.redis\.url/);
    expect(() => parseConfig({ metadata: { redis: { lockTtlMs: 10 } } })).toThrow(/metadata\.redis\.lockTtlMs/);
    expect(() => parseConfig({ storage: { s3: { accessKey: 'x' } } })).toThrow(/storage\.s3/);
  });
});
