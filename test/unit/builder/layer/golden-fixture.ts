import type { SyntheticEntry } from '../../../../src/builder/layer/index.js';
import type { Tree } from './layer-test-support.js';

/** The fixed store and top layer behind the golden digests; never change them casually. */
/** 4 KiB of fixed, mildly compressible bytes. */
const LIBRARY = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + (i >> 7)) & 0xff));

export const FIXTURE: Tree = {
  '0c5b8vw40dy178xlpddw65q9gf1h2186-golden-1.0': {
    bin: { tool: { file: '#!/bin/sh\necho golden\n', executable: true } },
    lib: { 'libgolden.so.1': { file: LIBRARY, executable: true } },
    share: {
      doc: {
        COPYING: { file: 'golden fixture\n' },
        README: { file: 'golden fixture\n' },
        empty: { file: '' },
      },
      [`long-${'n'.repeat(120)}`]: { file: 'long\n' },
      'naïve-ß.txt': { file: 'unicode\n' },
    },
    sbin: { symlink: 'bin' },
  },
  '9x7rkw2vqk1w0bm5i6yms3y2z1kq5c4s-golden-data': { file: 'a store path that is one file\n' },
};

export const TOP_LAYER: readonly SyntheticEntry[] = [
  { kind: 'symlink', path: '/bin/tool', target: '/nix/store/0c5b8vw40dy178xlpddw65q9gf1h2186-golden-1.0/bin/tool' },
  { kind: 'directory', path: '/tmp', mode: 0o1777 },
  { kind: 'file', path: '/etc/passwd', mode: 0o644, content: 'root:x:0:0:root:/root:/bin/sh\n' },
  { kind: 'symlink', path: '/usr/bin/env', target: '/nix/store/0c5b8vw40dy178xlpddw65q9gf1h2186-golden-1.0/bin/tool' },
];

