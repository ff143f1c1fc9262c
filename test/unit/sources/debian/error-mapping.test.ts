import { describe, expect, it } from 'vitest';
import { mapError } from '../../../../src/registry/error-mapping.js';
import { DebianArchitectureError, DebianArchiveUnavailableError, DebianIndexIntegrityError } from '../../../../src/sources/debian/errors.js';
import { UnsatisfiableDependencyError, VirtualPackageError } from '../../../../src/sources/errors.js';

const ARCHIVE = 'http://127.0.0.1:9/debian/';

describe('Debian errors in the OCI error table', () => {
  it('maps resolution failures to MANIFEST_UNKNOWN with their details', () => {
    const unsatisfiable = mapError(new UnsatisfiableDependencyError(['app', 'middle'], 'libc6 (>= 9)', 'libc6 has only 2.36-9'));
    expect(unsatisfiable.status).toBe(404);
    expect(unsatisfiable.body.errors[0]).toMatchObject({ code: 'MANIFEST_UNKNOWN', message: expect.stringContaining('app -> middle'), detail: { chain: ['app', 'middle'], relation: 'libc6 (>= 9)' } });
    const virtual = mapError(new VirtualPackageError([], [{ name: 'awk', providers: ['gawk', 'mawk'] }]));
    expect(virtual.body.errors[0]).toMatchObject({ code: 'MANIFEST_UNKNOWN', detail: { packages: ['awk'], virtual: [{ name: 'awk', providers: ['gawk', 'mawk'] }] } });
    expect(mapError(new DebianArchitectureError('riscv64', ['amd64'])).body.errors[0]?.code).toBe('MANIFEST_UNKNOWN');
  });

  it('maps an unreachable archive to 503 naming it, and a refused index to 502', () => {
    const unavailable = mapError(new DebianArchiveUnavailableError(ARCHIVE, 'ECONNREFUSED'));
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers['retry-after']).toBe('30');
    expect(unavailable.body.errors[0]).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining(ARCHIVE), detail: { archive: ARCHIVE } });
    const refused = mapError(new DebianIndexIntegrityError(ARCHIVE, 'dists/bookworm/InRelease', 'bad signature'));
    expect(refused.status).toBe(502);
    expect(refused.unexpected).toBe(false);
    expect(refused.body.errors[0]?.message).toMatch(/refusing dists\/bookworm\/InRelease: bad signature/);
  });
});
