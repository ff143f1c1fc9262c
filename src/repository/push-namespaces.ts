import { IMAGE_NAME_OPTIONS, parseImageName, SHELL_META_PACKAGE, type ImageNameOptions } from '../image-name/image-name.js';
import type { PackageSource } from '../sources/types.js';
import { LruMap } from '../cache/lru-map.js';

/**
 * Which repository names may be pushed to, so that a push can never change what a package-list
 * name serves, under any spelling. A name is served from pushed storage only when pushes to it
 * are allowed, and a push is allowed only to a name that
 *   - contains neither the `shell` meta-package nor an image-name option (`arm64`, `amd64`,
 *     `zstd`, `gzip`) as any component: those are image names by construction; and
 *   - lies under a configured namespace (`push.namespaces`, e.g. `myteam` allows `myteam/...`),
 *     or else is not a buildable package list: its packages, sorted and deduplicated as the
 *     builder reads them, are not all known to the package source at `latest` for any system.
 * The first component of each namespace is reserved: no name containing it is built, so no
 * spelling of a namespace name (`app/myteam` for `myteam/app`) is a package list either.
 *
 * Since every spelling of a package list parses to the same packages, either all spellings
 * resolve (none can be pushed) or none does (pushes cannot shadow a build). The source is
 * asked through `PackageSource.listPackages`, the cheap listing the web UI's search uses; a
 * component with a `.` is taken as resolvable (nested attribute paths are not listed), and a
 * source without a listing allows pushes under namespaces only. Answers are cached in a
 * bounded LRU for `ttlMs`, so a package that appears later takes its name back from pushes.
 */
export interface PushNamespacesOptions {
  /** Repository prefixes pushes always go to, e.g. `myteam` or `org/team`. */
  readonly namespaces: readonly string[];
  readonly imageNames: ImageNameOptions;
  /** How long an answer about a name is trusted; default 5 minutes. */
  readonly ttlMs?: number;
  /** Names whose answer is remembered; default 10,000. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export type PushDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const OPTION_COMPONENTS: ReadonlySet<string> = new Set([SHELL_META_PACKAGE, ...IMAGE_NAME_OPTIONS]);

export class PushNamespaces {
  private readonly answers: LruMap<string, { readonly decision: PushDecision; readonly at: number }>;
  private readonly namespaces: readonly string[];
  private readonly reserved: ReadonlySet<string>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** How many times the package source was asked (tests count them). */
  sourceLookups = 0;

  constructor(
    private readonly source: Pick<PackageSource, 'listPackages'>,
    private readonly options: PushNamespacesOptions,
  ) {
    this.namespaces = options.namespaces.map((namespace) => namespace.replace(/\/+$/, ''));
    this.reserved = new Set(this.namespaces.map((namespace) => namespace.split('/')[0] as string));
    this.answers = new LruMap(options.maxEntries ?? 10_000, () => 1);
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Remembered answers, for tests and diagnostics. */
  get cachedAnswers(): number {
    return this.answers.size;
  }

  /** True when `name` is never built: it is under a namespace, or names a namespace's root. */
  isReserved(name: string): boolean {
    return name.split('/').some((component) => this.reserved.has(component));
  }

  /** Whether a push to `name` is allowed, and where to push instead when it is not. */
  async decide(name: string, signal?: AbortSignal): Promise<PushDecision> {
    const cached = this.answers.get(name);
    if (cached !== undefined && this.now() - cached.at < this.ttlMs) return cached.decision;
    const decision = await this.evaluate(name, signal);
    this.answers.set(name, { decision, at: this.now() });
    return decision;
  }

  private async evaluate(name: string, signal?: AbortSignal): Promise<PushDecision> {
    const components = name.split('/');
    const option = components.find((component) => OPTION_COMPONENTS.has(component));
    if (option !== undefined) return this.deny(`"${option}" makes ${name} an image name built from packages`);
    if (this.namespaces.some((namespace) => name.startsWith(`${namespace}/`))) return { allowed: true };
    if (this.isReserved(name)) return this.deny(`${name} contains a push namespace's name but does not start with it`);
    let packages: readonly string[];
    let systems: readonly string[];
    try {
      const image = parseImageName(name, 'latest', this.options.imageNames);
      packages = image.request.packages;
      systems = image.systems;
    } catch {
      return { allowed: true }; // not a package list at all (too many packages, not attribute paths)
    }
    const listPackages = this.source.listPackages?.bind(this.source);
    if (listPackages === undefined) return this.deny(`this registry cannot tell whether ${name} is a package list`);
    const controller = new AbortController();
    const options = { signal: signal ?? controller.signal };
    for (const system of systems) {
      this.sourceLookups += 1;
      const known = new Set((await listPackages({ revision: 'latest', system }, options)).map((item) => item.name));
      if (packages.every((item) => item.includes('.') || known.has(item))) return this.deny(`${name} is a package list this registry builds`);
    }
    return { allowed: true };
  }

  private deny(why: string): PushDecision {
    const where =
      this.namespaces.length > 0
        ? `push under ${this.namespaces.map((namespace) => `${namespace}/`).join(' or ')}`
        : 'push to a name that is not a list of packages, such as <team>/<app>';
    return { allowed: false, reason: `pushes may not change what an image name builds: ${why}; ${where}` };
  }
}
