import { nameProblem } from '../oci/reference.js';
import { assertValidAttrPath } from '../sources/attr-path.js';
import type { ImageRequest } from '../sources/types.js';
import { InvalidPackageNameError } from '../sources/errors.js';
import { InvalidImageNameError } from './errors.js';

/**
 * How a repository name becomes a package list: every path component is a package attribute
 * path; `shell` adds the configured shell packages; order and duplicates do not matter, so
 * `shell/git` and `git/shell/git` are one image, named canonically `git/shell`.
 */
export const SHELL_META_PACKAGE = 'shell';

export interface ImageNameOptions {
  readonly maxPackages: number;
  readonly shellPackages: readonly string[];
  readonly system: string;
}

export interface ParsedImageName {
  /** The components sorted and deduplicated: the image's identity for tags and digests. */
  readonly canonicalName: string;
  /** The components as requested (sorted, deduplicated), before meta-packages are expanded. */
  readonly components: readonly string[];
  /** True when the `shell` meta-package was asked for. */
  readonly shell: boolean;
  readonly request: ImageRequest;
}

/** @throws InvalidImageNameError */
export function parseImageName(name: string, revision: string, options: ImageNameOptions): ParsedImageName {
  const problem = nameProblem(name);
  if (problem !== null) throw new InvalidImageNameError(name, problem);
  const components = [...new Set(name.split('/'))].sort();
  if (components.length > options.maxPackages) {
    throw new InvalidImageNameError(name, `it lists ${components.length} packages; at most ${options.maxPackages} are allowed`);
  }
  const shell = components.includes(SHELL_META_PACKAGE);
  const packages = new Set(components.filter((component) => component !== SHELL_META_PACKAGE));
  if (shell) for (const item of options.shellPackages) packages.add(item);
  for (const item of packages) {
    try {
      assertValidAttrPath(item);
    } catch (error) {
      if (error instanceof InvalidPackageNameError) throw new InvalidImageNameError(name, error.message);
      throw error;
    }
  }
  return {
    canonicalName: components.join('/'),
    components,
    shell,
    request: { packages: [...packages].sort(), revision, system: options.system },
  };
}
