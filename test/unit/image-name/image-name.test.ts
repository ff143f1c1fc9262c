import { describe, expect, it } from 'vitest';
import { parseImageName } from '../../../src/image-name/image-name.js';
import { InvalidImageNameError } from '../../../src/image-name/errors.js';

const options = { maxPackages: 8, shellPackages: ['busybox'], systems: ['x86_64-linux', 'aarch64-linux'], compression: 'gzip' as const };

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
    expect(image.systems).toEqual(['x86_64-linux', 'aarch64-linux']);
    expect(image.compression).toBe('gzip');
  });

  it('reads leading option components for platform and compression', () => {
    const image = parseImageName('zstd/arm64/shell/hello', 'latest', options);
    expect(image.systems).toEqual(['aarch64-linux']);
    expect(image.request.system).toBe('aarch64-linux');
    expect(image.compression).toBe('zstd');
    expect(image.canonicalName).toBe('arm64/zstd/hello/shell');
    expect(parseImageName('arm64/zstd/hello/shell', 'latest', options).canonicalName).toBe(image.canonicalName);
  });

  it('treats option words after the first package as packages', () => {
    const image = parseImageName('shell/zstd', 'latest', options);
    expect(image.compression).toBe('gzip');
    expect(image.request.packages).toEqual(['busybox', 'zstd']);
    expect(parseImageName('zstd', 'latest', options).request.packages).toEqual(['zstd']);
  });

  it('refuses a platform the registry does not build for', () => {
    expect(() => parseImageName('arm64/hello', 'latest', { ...options, systems: ['x86_64-linux'] })).toThrow(InvalidImageNameError);
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
