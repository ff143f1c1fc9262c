import { describe, expect, it } from 'vitest';
import { HardLinkIndex } from '../../../../src/builder/layer/hard-link-index.js';

describe('HardLinkIndex', () => {
  it('hashes a file recorded unhashed only when a later file of its size and mode needs it', async () => {
    const index = new HardLinkIndex();
    const hashed: string[] = [];
    const later = (name: string, sha: string) => async (): Promise<string> => {
      hashed.push(name);
      return sha;
    };
    index.addUnhashed(100, 0o444, 'a', later('a', 'aaa'));
    index.addUnhashed(200, 0o444, 'b', later('b', 'bbb'));
    index.addUnhashed(100, 0o444, 'c', later('c', 'ccc'));
    expect(index.hasCandidates(100, 0o444)).toBe(true);
    expect(index.hasCandidates(100, 0o555)).toBe(false);
    expect(hashed).toEqual([]);
    expect(await index.find(100, 0o444, 'ccc')).toBe('c');
    expect(hashed).toEqual(['a', 'c']);
    // Hashed once: later lookups use the recorded hashes; the first name for a content wins.
    index.add(100, 0o444, 'aaa', 'd');
    expect(await index.find(100, 0o444, 'aaa')).toBe('a');
    expect(await index.find(100, 0o555, 'aaa')).toBeUndefined();
    expect(hashed).toEqual(['a', 'c']);
  });
});
