import { describe, expect, it } from 'vitest';
import { parsePathInfo } from '../../../src/sources/nix/path-info.js';
import { BuildFailedError } from '../../../src/sources/errors.js';

describe('parsePathInfo', () => {
  it('reads the array form of nix 2.8', () => {
    const out = JSON.stringify([
      { path: '/nix/store/b-x', narSize: 10, narHash: 'sha256:1', references: ['/nix/store/a-y', '/nix/store/b-x'] },
      { path: '/nix/store/a-y', narSize: 5, references: [] },
    ]);
    expect(parsePathInfo(out)).toEqual([
      { path: '/nix/store/a-y', narSize: 5, references: [] },
      { path: '/nix/store/b-x', narSize: 10, narHash: 'sha256:1', references: ['/nix/store/a-y', '/nix/store/b-x'] },
    ]);
  });

  it('reads the object form of newer Nix', () => {
    const out = JSON.stringify({ '/nix/store/a-y': { narSize: 5, references: [] } });
    expect(parsePathInfo(out)).toEqual([{ path: '/nix/store/a-y', narSize: 5, references: [] }]);
  });

  it('fails on invalid paths', () => {
    expect(() => parsePathInfo(JSON.stringify([{ path: '/nix/store/a-y', valid: false }]))).toThrow(BuildFailedError);
  });
});
