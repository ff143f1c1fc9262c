import { describe, expect, it } from 'vitest';
import { mapError } from '../../../../src/registry/error-mapping.js';
import { DebianArchitectureError } from '../../../../src/sources/debian/errors.js';
import { UnsatisfiableDependencyError, VirtualPackageError } from '../../../../src/sources/errors.js';

/** The archive errors (503 unreachable, 502 refused) are mapped on the debian-image branch. */
describe('Debian resolution errors in the OCI error table', () => {
  it('maps resolution failures to MANIFEST_UNKNOWN with their details', () => {
    const unsatisfiable = mapError(new UnsatisfiableDependencyError(['app', 'middle'], 'libc6 (>= 9)', 'libc6 has only 2.36-9'));
    expect(unsatisfiable.status).toBe(404);
    expect(unsatisfiable.body.errors[0]).toMatchObject({ code: 'MANIFEST_UNKNOWN', message: expect.stringContaining('app -> middle'), detail: { chain: ['app', 'middle'], relation: 'libc6 (>= 9)' } });
    const virtual = mapError(new VirtualPackageError([], [{ name: 'awk', providers: ['gawk', 'mawk'] }]));
    expect(virtual.body.errors[0]).toMatchObject({ code: 'MANIFEST_UNKNOWN', detail: { packages: ['awk'], virtual: [{ name: 'awk', providers: ['gawk', 'mawk'] }] } });
    expect(mapError(new DebianArchitectureError('riscv64', ['amd64'])).body.errors[0]?.code).toBe('MANIFEST_UNKNOWN');
  });
});
