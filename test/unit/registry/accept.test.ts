import { describe, expect, it } from 'vitest';
import { manifestFormatFor } from '../../../src/registry/accept.js';

const oci = 'application/vnd.oci.image.manifest.v1+json';
const docker = 'application/vnd.docker.distribution.manifest.v2+json';

describe('manifestFormatFor', () => {
  it('serves OCI by default and when OCI is accepted', () => {
    expect(manifestFormatFor(undefined)).toBe('oci');
    expect(manifestFormatFor('*/*')).toBe('oci');
    expect(manifestFormatFor(`${docker}, ${oci}`)).toBe('oci');
    expect(manifestFormatFor([docker, oci])).toBe('oci');
  });

  it('serves Docker schema 2 when only it is accepted', () => {
    expect(manifestFormatFor(docker)).toBe('docker');
    expect(manifestFormatFor(`${docker};q=0.9, application/vnd.docker.distribution.manifest.list.v2+json`)).toBe('docker');
  });
});
