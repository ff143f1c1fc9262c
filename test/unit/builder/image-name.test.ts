import { describe, expect, it } from 'vitest';
import { parseImageName } from '../../../src/builder/image-name.js';
import { InvalidImageNameError } from '../../../src/builder/errors.js';

const options = { maxPackages: 8, shellPackages: ['busybox'], system: 'x86_64-linux' };

describe('parseImageName', () => {
  it('sorts and deduplicates components so a/b and b/a are one image', () => {
    const one = parseImageName('hello/shell', 'latest', options);
    const two = parseImageName('shell/hello/shell', 'latest', options);
    expect(one.canonicalName).toBe('hello/shell');
    expect(two.canonicalName).toBe('hello/shell');
    expect(one.request).toEqual(two.request);
  });

  it('expands the shell meta-package', () => {
    const image = parseImageName('shell/hello', 'latest', options);
    expect(image.shell).toBe(true);
    expect(image.request).toEqual({ packages: ['busybox', 'hello'], revision: 'latest', system: 'x86_64-linux' });
  });

  it('keeps nested attribute paths', () => {
    expect(parseImageName('python3packages.numpy', 'latest', options).request.packages).toEqual(['python3packages.numpy']);
  });

  it.each([
    ['', 'empty'],
    ['Hello', 'upper case'],
    ['shell//hello', 'empty component'],
    ['../etc', 'dot-dot'],
    ['hello/', 'trailing slash'],
    ['9lives', 'attribute starting with a digit'],
    ['a.-b', 'separator run'],
    [Array.from({ length: 9 }, (_, i) => `p${i}`).join('/'), 'too many packages'],
    ['a'.repeat(300), 'too long'],
  ])('rejects %j (%s)', (name) => {
    expect(() => parseImageName(name, 'latest', options)).toThrow(InvalidImageNameError);
  });
});
