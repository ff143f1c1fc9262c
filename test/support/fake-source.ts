import { chmod, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClosureGraph, ImageRequest, PackageSetRevision, PackageSource, PackageSummary, ResolveOptions, StorePathInfo } from '../../src/sources/types.js';
import { BuildFailedError, PackageNotFoundError } from '../../src/sources/errors.js';
import { LocalStoreReader } from '../../src/sources/local-store-reader.js';

const hash = (letter: string) => letter.repeat(32);
export const STORE = {
  lib: `/nix/store/${hash('a')}-libfoo-1.0`,
  tool: `/nix/store/${hash('b')}-tool-1.0`,
  shell: `/nix/store/${hash('c')}-minishell-1.0`,
  extra: `/nix/store/${hash('d')}-extra-2.0`,
} as const;

/**
 * A package source for unit tests: a few store paths in a temp directory, no Nix. `slow` waits
 * until released or aborted; `broken` fails like a Nix build; any tag is a revision.
 */
export class FakePackageSource implements PackageSource {
  readonly reader: LocalStoreReader;
  resolveCalls = 0;
  /** Packages that do not exist for a system, to test indexes that skip it. */
  missingOn: Record<string, string[]> = {};
  private releaseSlow: (() => void) | undefined;

  private constructor(
    readonly storeDir: string,
    readonly name: string,
  ) {
    this.reader = new LocalStoreReader(storeDir);
  }

  /** `name` is what the source calls itself (image labels name it). */
  static async create(name = 'fake'): Promise<FakePackageSource> {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-fake-store-'));
    const base = (path: string) => join(dir, path.slice('/nix/store/'.length));
    await mkdir(join(base(STORE.lib), 'lib'), { recursive: true });
    await writeFile(join(base(STORE.lib), 'lib/libfoo.so'), 'not really a library\n');
    await mkdir(join(base(STORE.tool), 'bin'), { recursive: true });
    await writeFile(join(base(STORE.tool), 'bin/tool'), `#!/bin/sh\n# uses ${STORE.lib}/lib/libfoo.so\necho tool\n`);
    await chmod(join(base(STORE.tool), 'bin/tool'), 0o555);
    await mkdir(join(base(STORE.shell), 'bin'), { recursive: true });
    await writeFile(join(base(STORE.shell), 'bin/minishell'), 'binary\n');
    await symlink('minishell', join(base(STORE.shell), 'bin/sh'));
    await mkdir(join(base(STORE.extra), 'share'), { recursive: true });
    await writeFile(join(base(STORE.extra), 'share/data'), Buffer.alloc(64 * 1024, 1));
    return new FakePackageSource(dir, name);
  }

  async cacheKey(request: ImageRequest): Promise<string> {
    return `${this.name}:${request.revision}:${JSON.stringify(this.missingOn)}`;
  }

  /** The packages `resolve` knows (what push namespaces ask). */
  async listPackages({ system }: PackageSetRevision): Promise<PackageSummary[]> {
    return ['broken', 'extra', 'minishell', 'slow', 'tool'].filter((name) => !(this.missingOn[system] ?? []).includes(name)).map((name) => ({ name }));
  }

  async resolve(request: ImageRequest, { signal }: ResolveOptions): Promise<ClosureGraph> {
    this.resolveCalls += 1;
    if (request.packages.includes('broken')) throw new BuildFailedError('building the packages failed', 'error: builder failed\nbroken.c:1: oops');
    if (request.packages.includes('slow')) {
      await new Promise<void>((resolve, reject) => {
        this.releaseSlow = resolve;
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const roots: Record<string, string> = { tool: STORE.tool, minishell: STORE.shell, extra: STORE.extra, slow: STORE.lib };
    const missing = request.packages.filter((name) => !(name in roots) || (this.missingOn[request.system] ?? []).includes(name));
    if (missing.length > 0) throw new PackageNotFoundError(missing);
    const infos: Record<string, StorePathInfo> = {
      [STORE.lib]: { path: STORE.lib, narSize: 500, references: [] },
      [STORE.tool]: { path: STORE.tool, narSize: 700, references: [STORE.lib] },
      [STORE.shell]: { path: STORE.shell, narSize: 900, references: [] },
      [STORE.extra]: { path: STORE.extra, narSize: 65_000, references: [STORE.lib] },
    };
    const packageRoots = Object.fromEntries(request.packages.map((name) => [name, [roots[name] as string]]));
    const closure = new Set<string>();
    const visit = (path: string): void => {
      if (closure.has(path)) return;
      closure.add(path);
      for (const ref of infos[path]?.references ?? []) visit(ref);
    };
    for (const name of request.packages) visit(roots[name] as string);
    return { paths: [...closure].sort().map((path) => infos[path] as StorePathInfo), roots: request.packages.map((name) => roots[name] as string), packageRoots };
  }

  /** Let a pending `slow` resolution finish. */
  release(): void {
    this.releaseSlow?.();
  }
}
