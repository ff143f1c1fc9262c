import { describe, expect, it } from 'vitest';
import { isCommitIdLike, isValidRefName, refNameProblem } from '../../../../src/sources/git/ref-name.js';

describe('git ref names a tag may give', () => {
  it('accepts ordinary branch and tag names', () => {
    for (const name of ['main', 'nixos-23.11', 'v1.0.0', 'release_2024', 'a.b-c_d', 'HEAD2']) expect(isValidRefName(name), name).toBe(true);
  });

  it('rejects what git check-ref-format rejects, and names that git could read as options', () => {
    const rejected: Record<string, string> = {
      '': 'is empty',
      '-main': 'starts with "-"',
      '--upload-pack=x': 'starts with "-"',
      '.hidden': 'starts with "."',
      'main.': 'ends with "."',
      'main.lock': 'ends with ".lock"',
      'a..b': 'contains ".."',
      'a@{1}': 'contains "@{"',
      '@': 'is "@"',
      'feature/x': 'contains "/"',
      'a b': 'contains a space, a control character or one of ~ ^ : ? * [ \\',
      'HEAD~1': 'contains a space, a control character or one of ~ ^ : ? * [ \\',
      'main^{tree}': 'contains a space, a control character or one of ~ ^ : ? * [ \\',
      'a:b': 'contains a space, a control character or one of ~ ^ : ? * [ \\',
      'a\u0001b': 'contains a space, a control character or one of ~ ^ : ? * [ \\',
      [`x${'y'.repeat(128)}`]: 'is longer than 128 characters',
    };
    for (const [name, problem] of Object.entries(rejected)) expect(refNameProblem(name), JSON.stringify(name)).toBe(problem);
  });

  it('recognises full and abbreviated commit ids, not shorter or non-hex ones', () => {
    expect(isCommitIdLike('a'.repeat(40))).toBe(true);
    expect(isCommitIdLike('0123abc')).toBe(true);
    expect(isCommitIdLike('b'.repeat(64))).toBe(true);
    expect(isCommitIdLike('0123ab')).toBe(false);
    expect(isCommitIdLike('0123ABC')).toBe(false);
    expect(isCommitIdLike('g123abc')).toBe(false);
    expect(isCommitIdLike('a'.repeat(65))).toBe(false);
  });
});
