import { describe, expect, it } from 'vitest';
import { mapError } from '../../../../src/registry/error-mapping.js';
import { MalformedDebError } from '../../../../src/sources/debian/deb-archive.js';
import { DebianArchiveUnavailableError, DebianIndexIntegrityError } from '../../../../src/sources/debian/errors.js';
import { SourceIntegrityError, SourceUnavailableError } from '../../../../src/sources/errors.js';

const ARCHIVE = 'http://archive.invalid/debian/';

describe('archive and package faults in the OCI error table', () => {
  it('answers 503 UNAVAILABLE naming the archive that cannot be reached', () => {
    for (const error of [new SourceUnavailableError(`${ARCHIVE} is unavailable: connection refused`, { upstream: ARCHIVE }), new DebianArchiveUnavailableError(ARCHIVE, 'timeout')]) {
      const mapped = mapError(error);
      expect(mapped.status).toBe(503);
      expect(mapped.body.errors[0]?.code).toBe('UNAVAILABLE');
      expect(mapped.body.errors[0]?.message).toContain(ARCHIVE);
      expect(mapped.headers['retry-after']).toBe('30');
      expect(mapped.unexpected).toBe(false);
    }
  });

  it('answers 502 for an archive that answered wrongly', () => {
    const errors: Error[] = [
      new SourceIntegrityError(`${ARCHIVE}: refusing pool/main/h/hello/hello_2.10-3_amd64.deb: SHA256 differs`, { upstream: ARCHIVE, item: 'pool/main/h/hello/hello_2.10-3_amd64.deb' }),
      new DebianIndexIntegrityError(ARCHIVE, 'dists/bookworm/InRelease', 'bad signature'),
      new MalformedDebError('/cache/x.deb', 'not an ar archive'),
    ];
    for (const error of errors) {
      const mapped = mapError(error);
      expect(mapped.status).toBe(502);
      expect(mapped.body.errors[0]?.message).toContain(error.message);
    }
    expect(mapError(errors[0]).body.errors[0]?.detail).toEqual({ upstream: ARCHIVE, item: 'pool/main/h/hello/hello_2.10-3_amd64.deb' });
  });
});
