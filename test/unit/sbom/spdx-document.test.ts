import { describe, expect, it } from 'vitest';
import { spdxDocument, type SbomSubject } from '../../../src/sbom/spdx-document.js';
import { narSha256, splitNameVersion } from '../../../src/sbom/package-identity.js';
import { encodeNix32 } from '../../../src/sources/binary-cache/nix-base32.js';
import { spdxSchemaErrors } from '../../support/spdx-schema.js';

const HEX = 'ab'.repeat(32);
const NIX32 = encodeNix32(Buffer.from(HEX, 'hex'));
const hello = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-hello-2.12.1';
const lib = '/nix/store/zyxwvsrqpnmlkjihgfdcba9876543210-libgreet-1.0.0';
const busybox = '/nix/store/00000000000000000000000000000000-busybox-static';

function subject(overrides: Partial<SbomSubject> = {}): SbomSubject {
  return {
    image: 'hello',
    revision: 'latest',
    system: 'x86_64-linux',
    source: 'nix',
    manifestDigest: `sha256:${'cd'.repeat(32)}`,
    created: '1970-01-01T00:00:01Z',
    roots: [hello],
    paths: [
      { path: hello, narSize: 10, narHash: `sha256:${NIX32}`, references: [hello, lib] },
      { path: lib, narSize: 5, narHash: `sha256-${Buffer.from(HEX, 'hex').toString('base64')}`, references: [busybox] },
      { path: busybox, narSize: 1, narHash: `sha256:${HEX}`, references: [] },
    ],
    ...overrides,
  };
}

describe('SPDX document of an image', () => {
  it('is valid against the official SPDX 2.3 schema', () => {
    expect(spdxSchemaErrors(spdxDocument(subject()))).toEqual([]);
  });

  it('the schema check can fail: a document without its required fields is rejected', () => {
    const { dataLicense: _dropped, ...broken } = spdxDocument(subject());
    expect(spdxSchemaErrors(broken).map((error) => error.params)).toContainEqual({ missingProperty: 'dataLicense' });
  });

  it('lists every closure path with name, version and the hex SHA-256 of its NAR', () => {
    const document = spdxDocument(subject());
    const byFile = new Map(document.packages.map((pkg) => [pkg.packageFileName, pkg]));
    expect(byFile.get(hello)).toMatchObject({ name: 'hello', versionInfo: '2.12.1', checksums: [{ algorithm: 'SHA256', checksumValue: HEX }], primaryPackagePurpose: 'APPLICATION' });
    expect(byFile.get(lib)).toMatchObject({ name: 'libgreet', versionInfo: '1.0.0', checksums: [{ algorithm: 'SHA256', checksumValue: HEX }] });
    expect(byFile.get(busybox)?.name).toBe('busybox-static');
    expect(byFile.get(busybox)?.versionInfo).toBeUndefined();
    expect(document.packages).toHaveLength(4);
  });

  it('relates the image to its paths and each path to its references, self-references left out', () => {
    const document = spdxDocument(subject());
    const id = (path: string) => document.packages.find((pkg) => pkg.packageFileName === path)?.SPDXID;
    expect(document.relationships.filter((r) => r.relationshipType === 'CONTAINS')).toHaveLength(3);
    const depends = document.relationships.filter((r) => r.relationshipType === 'DEPENDS_ON').map((r) => [r.spdxElementId, r.relatedSpdxElement]);
    expect(depends).toEqual([
      [id(hello), id(lib)],
      [id(lib), id(busybox)],
    ]);
  });

  it('is deterministic: the same closure in another order gives the same bytes', () => {
    const reversed = subject({ paths: [...subject().paths].reverse() });
    expect(JSON.stringify(spdxDocument(reversed))).toBe(JSON.stringify(spdxDocument(subject())));
    expect(spdxDocument(subject()).creationInfo.created).toBe('1970-01-01T00:00:01Z');
  });

  it('takes what a Debian-like source knows: name, version, archive sha256 and purl', () => {
    const deb = '/var/lib/stowage/debian/curl_7.88.1-10_amd64';
    const document = spdxDocument(
      subject({
        roots: [deb],
        paths: [{ path: deb, narSize: 1, references: [], name: 'curl', version: '7.88.1-10+deb12u5', sha256: HEX.toUpperCase(), purl: 'pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64' }],
      }),
    );
    expect(spdxSchemaErrors(document)).toEqual([]);
    expect(document.packages[1]).toMatchObject({
      name: 'curl',
      versionInfo: '7.88.1-10+deb12u5',
      checksums: [{ algorithm: 'SHA256', checksumValue: HEX }],
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64' }],
    });
    expect(document.packages[1]?.SPDXID).toMatch(/^SPDXRef-path-[0-9a-f]{32}$/);
  });
});

describe('store path names and NAR hashes', () => {
  it('splits names as Nix parseDrvName does', () => {
    expect(splitNameVersion('hello-2.12.1')).toEqual({ name: 'hello', version: '2.12.1' });
    expect(splitNameVersion('xz-5.4.3-bin')).toEqual({ name: 'xz', version: '5.4.3-bin' });
    expect(splitNameVersion('python3.11-numpy-1.26.0')).toEqual({ name: 'python3.11-numpy', version: '1.26.0' });
    expect(splitNameVersion('busybox-static')).toEqual({ name: 'busybox-static' });
  });

  it('reads nix32, hex and SRI narHashes, and nothing else', () => {
    expect(narSha256(`sha256:${NIX32}`)?.hex).toBe(HEX);
    expect(narSha256(`sha256:${HEX}`)?.hex).toBe(HEX);
    expect(narSha256(`sha256-${Buffer.from(HEX, 'hex').toString('base64')}`)?.hex).toBe(HEX);
    expect(narSha256('md5:abc')).toBeUndefined();
    expect(narSha256(undefined)).toBeUndefined();
  });
});
