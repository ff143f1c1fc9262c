import { nameProblem } from '../oci/reference.js';
import type { LayerCompression } from '../oci/media-types.js';
import { assertValidAttrPath } from '../sources/attr-path.js';
import type { ImageRequest } from '../sources/types.js';
import { InvalidPackageNameError } from '../sources/errors.js';
import { InvalidImageNameError } from './errors.js';

/**
 * How a repository name becomes an image request.
 *
 * Leading components may be options: `arm64` or `amd64` pick the platform (Nixery's `arm64/`
 * prefix), `zstd` or `gzip` the layer compression. Options are recognised only before the
 * first package, so a package called `zstd` is still reachable as `shell/zstd`.
 *
 * Every other component is a package attribute path; `shell` adds the configured shell
 * packages; order and duplicates do not matter, so `shell/git` and `git/shell/git` are one
 * image, named canonically `git/shell`.
 */
export const SHELL_META_PACKAGE = 'shell';

const PLATFORM_OPTIONS: Readonly<Record<string, string>> = { arm64: 'aarch64-linux', amd64: 'x86_64-linux' };
const COMPRESSION_OPTIONS: Readonly<Record<string, LayerCompression>> = { zstd: 'zstd', gzip: 'gzip' };
/** Every component that can be an option of an image name (`arm64`, `zstd`, ...). */
export const IMAGE_NAME_OPTIONS: readonly string[] = [...Object.keys(PLATFORM_OPTIONS), ...Object.keys(COMPRESSION_OPTIONS)];

export interface ImageNameOptions {
  readonly maxPackages: number;
  readonly shellPackages: readonly string[];
  /**
   * Grammar of package names (default: Nix attribute paths). A source whose names differ
   * (Debian's `python3.11`, `0ad`) passes its own check.
   * @throws InvalidPackageNameError
   */
  readonly assertPackageName?: (name: string) => void;
  /**
   * A second package universe reached by a leading component (`nix/` in the routed default):
   * `nix/shell/hello` asks that universe, with its own shell packages and name grammar;
   * every other name asks the default one. The prefix comes before every option.
   */
  readonly prefixed?: {
    readonly prefix: string;
    readonly shellPackages: readonly string[];
    readonly assertPackageName?: (name: string) => void;
  };
  /** Systems images are built for; the first is the default. */
  readonly systems: readonly string[];
  readonly compression: LayerCompression;
}

export interface ParsedImageName {
  /**
   * Options then packages, sorted and deduplicated: the image's identity for tags and digests.
   * It parses back to this same image (see `nameOrder`), so no two images share it.
   */
  readonly canonicalName: string;
  /** The package components as requested (sorted, deduplicated), before meta-packages are expanded. */
  readonly components: readonly string[];
  /** The universe prefix and the package components without options, spelled so they read back as such. */
  readonly packagesName: string;
  /** True when the `shell` meta-package was asked for. */
  readonly shell: boolean;
  readonly compression: LayerCompression;
  /** Systems to build for: one when the name picks a platform, else every configured system. */
  readonly systems: readonly string[];
  /** The request for the first of `systems`; use `requestFor` for the others. */
  readonly request: ImageRequest;
  /** The universe prefix the name started with (`nix`), or null for the default universe. */
  readonly universe: string | null;
}

/** @throws InvalidImageNameError */
export function parseImageName(name: string, revision: string, options: ImageNameOptions): ParsedImageName {
  const problem = nameProblem(name);
  if (problem !== null) throw new InvalidImageNameError(name, problem);
  const parts = name.split('/');
  const universe = options.prefixed !== undefined && parts.length > 1 && parts[0] === options.prefixed.prefix ? options.prefixed : undefined;
  if (universe) parts.shift();
  const shellPackages = universe ? universe.shellPackages : options.shellPackages;
  const assertPackageName = (universe ? universe.assertPackageName : options.assertPackageName) ?? assertValidAttrPath;
  const { platform, compression } = takeOptions(parts);
  const components = [...new Set(parts)].sort();
  if (components.length > options.maxPackages) {
    throw new InvalidImageNameError(name, `it lists ${components.length} packages; at most ${options.maxPackages} are allowed`);
  }
  const shell = components.includes(SHELL_META_PACKAGE);
  const packages = new Set(components.filter((component) => component !== SHELL_META_PACKAGE));
  if (shell) for (const item of shellPackages) packages.add(item);
  for (const item of packages) {
    try {
      assertPackageName(item);
    } catch (error) {
      if (error instanceof InvalidPackageNameError) throw new InvalidImageNameError(name, error.message);
      throw error;
    }
  }
  if (platform !== undefined && !options.systems.includes(platform)) {
    throw new InvalidImageNameError(name, `this registry does not build for ${platform}; it builds for ${options.systems.join(', ')}`);
  }
  const systems = platform !== undefined ? [platform] : options.systems;
  const optionParts = [
    ...(platform !== undefined ? [Object.keys(PLATFORM_OPTIONS).find((key) => PLATFORM_OPTIONS[key] === platform) as string] : []),
    ...(compression !== undefined ? [compression] : []),
  ];
  // In the default universe a leading universe prefix would be read as the other universe.
  const leading = new Set([...IMAGE_NAME_OPTIONS, ...(options.prefixed !== undefined && !universe ? [options.prefixed.prefix] : [])]);
  const named = nameOrder(components, leading);
  const universePart = universe ? [universe.prefix] : [];
  const canonicalName = [...universePart, ...optionParts, ...named].join('/');
  if (!readsBack(canonicalName.split('/'), { universe: universe?.prefix ?? null, prefix: options.prefixed?.prefix, platform, compression, named })) {
    throw new InvalidImageNameError(name, 'its packages cannot be named apart from its options; add a package that is not an option (such as shell/)');
  }
  return {
    canonicalName,
    packagesName: [...universePart, ...named].join('/'),
    components,
    shell,
    compression: compression ?? options.compression,
    systems,
    request: { packages: [...packages].sort(), revision, system: systems[0] as string, ...(universe ? { universe: universe.prefix } : {}) },
    universe: universe ? universe.prefix : null,
  };
}

/** The same image for another system. */
export function requestFor(image: ParsedImageName, system: string): ImageRequest {
  return { ...image.request, system };
}

/**
 * The names the access rules are asked about for a package-list image besides the spelling a
 * request used: its canonical name (`extra/tool` for `tool/extra`, `tool/extra/tool`) and its
 * package list without options (`extra/tool` for `gzip/extra/tool` or `amd64/extra/tool`, the
 * universe prefix kept). One image has many spellings; a rule naming it must hold for all.
 */
export function imageSpellings(image: ParsedImageName): string[] {
  return [...new Set([image.canonicalName, image.packagesName])];
}

/**
 * The leading options of a name (removed from `parts`): each kind once, and never the last
 * component, which is always a package.
 */
function takeOptions(parts: string[]): { platform: string | undefined; compression: LayerCompression | undefined } {
  let platform: string | undefined;
  let compression: LayerCompression | undefined;
  while (parts.length > 1) {
    const head = parts[0] as string;
    if (head in PLATFORM_OPTIONS && platform === undefined) platform = PLATFORM_OPTIONS[head];
    else if (head in COMPRESSION_OPTIONS && compression === undefined) compression = COMPRESSION_OPTIONS[head];
    else break;
    parts.shift();
  }
  return { platform, compression };
}

/**
 * Sorted packages, except that packages named like a leading word (`gzip`, `zstd`, `arm64`, a
 * universe prefix) do not lead: `hello/gzip` (the packages gzip and hello) is named so, since
 * `gzip/hello` is hello with gzip layers. Only names that would lead with one change.
 */
export function nameOrder(sorted: readonly string[], leading: ReadonlySet<string>): string[] {
  const first = sorted.findIndex((component) => !leading.has(component));
  return first <= 0 ? [...sorted] : [...sorted.slice(first), ...sorted.slice(0, first)];
}

/** Whether `parts` parse back to this universe, these options and these packages. */
function readsBack(
  parts: string[],
  image: { universe: string | null; prefix: string | undefined; platform: string | undefined; compression: LayerCompression | undefined; named: readonly string[] },
): boolean {
  const universe = image.prefix !== undefined && parts.length > 1 && parts[0] === image.prefix ? parts.shift() : undefined;
  if ((universe ?? null) !== image.universe) return false;
  const { platform, compression } = takeOptions(parts);
  return platform === image.platform && compression === image.compression && parts.join('/') === image.named.join('/');
}
