import { describe, expect, it } from 'vitest';
import { parseV2Path } from '../../../src/registry/route-path.js';

describe('parseV2Path', () => {
  it('splits names with slashes from their endpoint', () => {
    expect(parseV2Path('shell/git/manifests/latest')).toEqual({ kind: 'manifest', name: 'shell/git', reference: 'latest' });
    expect(parseV2Path('a/b/blobs/sha256:abc')).toEqual({ kind: 'blob', name: 'a/b', digest: 'sha256:abc' });
    expect(parseV2Path('a/b/tags/list')).toEqual({ kind: 'tags', name: 'a/b' });
    expect(parseV2Path('')).toEqual({ kind: 'base' });
    expect(parseV2Path('_catalog')).toEqual({ kind: 'catalog' });
    expect(parseV2Path('_catalog/tags/list')).toEqual({ kind: 'tags', name: '_catalog' });
  });

  it('reads endpoints from the right, so packages may be named like endpoints', () => {
    expect(parseV2Path('manifests/manifests/latest')).toEqual({ kind: 'manifest', name: 'manifests', reference: 'latest' });
    expect(parseV2Path('blobs/tags/list')).toEqual({ kind: 'tags', name: 'blobs' });
  });

  it('recognises upload endpoints and unknown paths', () => {
    expect(parseV2Path('a/blobs/uploads/')).toEqual({ kind: 'uploads', name: 'a' });
    expect(parseV2Path('a/b/blobs/uploads/123')).toEqual({ kind: 'upload', name: 'a/b', id: '123' });
    expect(parseV2Path('a/referrers/sha256:abc')).toEqual({ kind: 'referrers', name: 'a', digest: 'sha256:abc' });
    expect(parseV2Path('a/nothing/here')).toEqual({ kind: 'unknown' });
    expect(parseV2Path('manifests/latest')).toEqual({ kind: 'unknown' });
  });
});
