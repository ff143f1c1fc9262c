import { describe, expect, it } from 'vitest';
import { assertValidAttrPath } from '../../../src/sources/attr-path.js';
import { InvalidPackageNameError } from '../../../src/sources/errors.js';

describe('assertValidAttrPath', () => {
  it.each(['hello', 'python3Packages.numpy', 'gst_all_1.gstreamer', 'nodePackages.node-gyp', '_0ad'])('accepts %s', (name) => {
    expect(() => assertValidAttrPath(name)).not.toThrow();
  });

  it.each(['', 'a..b', '.a', 'a.', '1abc', 'a b', 'x"; builtins.exec "', '${pkgs}', 'a/b', "it's", 'a'.repeat(201)])('rejects %j', (name) => {
    expect(() => assertValidAttrPath(name)).toThrow(InvalidPackageNameError);
  });
});
