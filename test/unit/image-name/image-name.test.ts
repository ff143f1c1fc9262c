import { describe, expect, it } from 'vitest';
import { imageSpellings, parseImageName, type ParsedImageName } from '../../../src/image-name/image-name.js';
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

describe('canonical names of packages named like options', () => {
  const routed = { ...options, prefixed: { prefix: 'nix', shellPackages: ['bash'] } };
  /** What makes an image: a canonical name must stand for exactly one of these. */
  const identity = (image: ParsedImageName): string =>
    JSON.stringify([image.universe, image.systems, image.compression, image.shell, image.request.packages]);

  it('names the packages gzip and hello apart from hello with gzip layers', () => {
    const packages = parseImageName('hello/gzip', 'latest', options);
    const option = parseImageName('gzip/hello', 'latest', options);
    expect(packages.request.packages).toEqual(['gzip', 'hello']);
    expect(option.request.packages).toEqual(['hello']);
    expect(packages.canonicalName).toBe('hello/gzip');
    expect(option.canonicalName).toBe('gzip/hello');
    expect(imageSpellings(packages)).toEqual(['hello/gzip']);
    expect(imageSpellings(option)).toEqual(['gzip/hello', 'hello']);
    // Names with an option word elsewhere keep their sorted spelling.
    expect(parseImageName('zlib/gzip/curl', 'latest', options).canonicalName).toBe('curl/gzip/zlib');
  });

  it('names a default-universe package called like the universe prefix apart from that universe', () => {
    const debian = parseImageName('zlib/nix', 'latest', routed);
    const nix = parseImageName('nix/zlib', 'latest', routed);
    expect([debian.universe, debian.request.packages]).toEqual([null, ['nix', 'zlib']]);
    expect([nix.universe, nix.request.packages]).toEqual(['nix', ['zlib']]);
    expect(debian.canonicalName).toBe('zlib/nix');
    expect(nix.canonicalName).toBe('nix/zlib');
  });

  it('gives every name a canonical name that parses back to the same image, and no two images one name', () => {
    const words = ['gzip', 'zstd', 'arm64', 'amd64', 'nix', 'shell', 'hello', 'zlib'];
    const names: string[] = [];
    const grow = (prefix: string[]): void => {
      if (prefix.length > 0) names.push(prefix.join('/'));
      if (prefix.length < 4) for (const word of words) grow([...prefix, word]);
    };
    grow([]);
    const byCanonical = new Map<string, string>();
    let parsed = 0;
    for (const opts of [options, routed]) {
      byCanonical.clear();
      for (const name of names) {
        let image: ParsedImageName;
        try {
          image = parseImageName(name, 'latest', opts);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidImageNameError);
          continue;
        }
        parsed += 1;
        const again = parseImageName(image.canonicalName, 'latest', opts);
        expect(again.canonicalName, name).toBe(image.canonicalName);
        expect(identity(again), name).toBe(identity(image));
        const known = byCanonical.get(image.canonicalName);
        if (known !== undefined) expect(known, `${name} and another image share ${image.canonicalName}`).toBe(identity(image));
        byCanonical.set(image.canonicalName, identity(image));
      }
    }
    expect(parsed).toBeGreaterThan(4000);
  });
});

