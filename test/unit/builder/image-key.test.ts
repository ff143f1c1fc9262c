import { describe, expect, it } from 'vitest';
import { imageKey, type ImageKeyParts } from '../../../src/builder/image-key.js';

const parts: ImageKeyParts = {
  sourceKey: 'src',
  request: { packages: ['hello'], revision: 'main', system: 'x86_64-linux' },
  shell: false,
  compression: 'gzip',
  layerer: 'stowage',
  popularity: null,
  maxLayers: 100,
  level: 6,
};

describe('imageKey and co-occurrence tables', () => {
  it('keeps the key of images built without a table, and gives each table version its own', () => {
    expect(imageKey({ ...parts, coOccurrence: null })).toBe(imageKey(parts));
    const one = imageKey({ ...parts, coOccurrence: 'aaaaaaaaaaaaaaaa' });
    expect(one).not.toBe(imageKey(parts));
    expect(imageKey({ ...parts, coOccurrence: 'bbbbbbbbbbbbbbbb' })).not.toBe(one);
    expect(imageKey({ ...parts, coOccurrence: 'aaaaaaaaaaaaaaaa' })).toBe(one);
  });
});
