import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapError } from '../../../src/registry/error-mapping.js';
import { ERROR_TABLE } from '../../../src/registry/error-table.js';
import { RegistryError } from '../../../src/registry/registry-error.js';
import { BinaryCacheIntegrityError, BinaryCacheUnavailableError, NarInfoNotFoundError } from '../../../src/sources/binary-cache/errors.js';
import { SourceIntegrityError, SourceUnavailableError } from '../../../src/sources/errors.js';
import { StorageUnavailableError } from '../../../src/storage/errors.js';
import { ManifestReferenceUnknownError, ManifestTooLargeError, UploadRangeError } from '../../../src/repository/errors.js';

const SRC = resolve(import.meta.dirname, '../../../src');

describe('the error table', () => {
  it('maps domain errors to the statuses the spec and HTTP name', () => {
    const status = (error: unknown) => mapError(error).status;
    expect(status(new UploadRangeError('u', 10))).toBe(416);
    expect(status(new ManifestTooLargeError(4 * 1024 * 1024))).toBe(413);
    expect(status(new ManifestReferenceUnknownError([`sha256:${'0'.repeat(64)}`]))).toBe(400);
    expect(mapError(new ManifestReferenceUnknownError([])).body.errors[0]?.code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(status(new NarInfoNotFoundError('file:///cache', '/nix/store/x'))).toBe(502);
    expect(status(new BinaryCacheIntegrityError('file:///cache', undefined, 'bad'))).toBe(502);
    expect(status(new BinaryCacheUnavailableError('file:///cache', 'down'))).toBe(503);
    expect(status(new SourceIntegrityError('bad', { upstream: 'archive' }))).toBe(502);
    expect(status(new SourceUnavailableError('down', { upstream: 'archive' }))).toBe(503);
    expect(mapError(new BinaryCacheUnavailableError('file:///cache', 'down')).body.errors[0]?.detail).toEqual({ cache: 'file:///cache', storePath: undefined });
  });

  it('names a full disk anywhere in the cause chain, and hides unexpected messages', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const full = mapError(new StorageUnavailableError('writing failed', { cause: enospc }));
    expect(full.status).toBe(507);
    expect(full.body.errors[0]?.message).toContain('storage is full');
    expect(mapError(Object.assign(new Error('quota'), { code: 'EDQUOT' })).status).toBe(507);
    const unexpected = mapError(new Error('secret internals'));
    expect(unexpected).toMatchObject({ status: 500, unexpected: true });
    expect(JSON.stringify(unexpected.body)).not.toContain('secret');
  });

  it('gives every RegistryError its status from the table alone', () => {
    for (const kind of Object.keys(ERROR_TABLE) as Array<keyof typeof ERROR_TABLE>) {
      const error = new RegistryError(kind, 'm');
      expect(mapError(error).status).toBe(ERROR_TABLE[kind].status);
      expect(mapError(error).body.errors[0]?.code).toBe(ERROR_TABLE[kind].code);
    }
  });

  it('is the only place in the HTTP layer that picks an error status', async () => {
    const offenders: string[] = [];
    for (const dir of ['registry', 'web', 'metrics']) {
      for (const file of await readdir(join(SRC, dir))) {
        if (!file.endsWith('.ts') || file === 'error-table.ts') continue;
        const text = await readFile(join(SRC, dir, file), 'utf8');
        for (const match of text.matchAll(/\.code\(\s*[45]\d\d\s*\)|statusCode\s*[:=]\s*[45]\d\d/g)) offenders.push(`${dir}/${file}: ${match[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
