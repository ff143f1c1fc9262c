import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WORKER_MODULES } from '../../../src/workers/module-worker.js';
import { moduleOf, readSourceGraph, type EnvRead, type ImportEdge } from './import-graph.js';

/**
 * The import rules of docs/architecture.md, checked on every import under src/. A rule that
 * today's tree breaks and that is being fixed elsewhere is listed in EXCEPTIONS by name, so it
 * stays visible; an exception that no longer matches anything fails too, so the list only
 * shrinks.
 */

const srcDir = fileURLToPath(new URL('../../../src/', import.meta.url));
const graph = readSourceGraph(srcDir);

/** Which modules each module may import (besides itself). Keep in step with the doc's table. */
const ALLOWED: Record<string, readonly string[]> = {
  oci: [],
  // The bounded LRU every in-process cache is made of (stores, sources, builder, push rules),
  // and the admission queue bounding builds and package-set evaluations.
  cache: [],
  layering: [],
  log: [],
  workers: [],
  config: [],
  // Passwords are compared on worker threads.
  auth: ['workers'],
  storage: ['oci', 'cache'],
  sources: ['oci', 'workers', 'cache'],
  // Turning a name into a source request needs the request type and the sources' name errors.
  'image-name': ['oci', 'sources'],
  // An SBOM describes a closure: the source's path records, and Nix's base-32 hash codec.
  sbom: ['sources'],
  // The push namespace rule asks whether a name is a buildable package list.
  repository: ['image-name', 'oci', 'sources', 'storage', 'cache'],
  builder: ['image-name', 'layering', 'sbom', 'sources', 'storage', 'oci', 'workers', 'log', 'cache'],
  registry: ['image-name', 'builder', 'repository', 'storage', 'sources', 'oci', 'auth', 'log'],
  web: ['image-name', 'builder', 'storage', 'sources', 'oci', 'log', 'cache'],
  // Counts builds and requests: the builder's observer and tracker types.
  metrics: ['builder'],
  cli: ['app', 'builder', 'config', 'image-name', 'layering', 'log', 'oci', 'repository', 'sources', 'storage'],
  app: ['auth', 'builder', 'config', 'image-name', 'layering', 'log', 'metrics', 'oci', 'registry', 'repository', 'sources', 'storage', 'web', 'workers'],
  main: ['cli', 'config', 'log'],
};

/** Composition: the only modules that may construct concrete stores and sources. */
const COMPOSITION = new Set(['app', 'cli', 'main']);

/**
 * What other modules may import from storage/ and sources/: interfaces, errors and helpers
 * written against the interfaces; never a concrete backend or source.
 */
const PUBLIC_SURFACE: Record<string, readonly string[]> = {
  storage: ['storage/types.ts', 'storage/errors.ts', 'storage/blob-io.ts', 'storage/keyed-mutex.ts', 'storage/metadata-keys.ts', 'storage/metadata-batch.ts', 'storage/sorted-page.ts', 'storage/one-time-migration.ts', 'storage/coherent-cache.ts'],
  sources: ['sources/types.ts', 'sources/errors.ts', 'sources/binary-cache/nix-base32.ts'],
};

/** Modules that may import fastify: the two HTTP modules, the app that mounts them, and the
 * HTTP metrics hook (it counts fastify's responses). */
const FASTIFY_USERS = new Set(['registry', 'web', 'app', 'metrics']);

/** Modules that may read process.env: configuration and the entry points that hand it over. */
const ENV_READERS = new Set(['config', 'main', 'cli']);

/** Packages src/ may import: the runtime dependencies (dist/ ships without dev dependencies). */
const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { dependencies?: Record<string, string> };
const RUNTIME_PACKAGES = new Set(Object.keys(packageJson.dependencies ?? {}));
/** Files that run only from src/, never from dist/: register-tsx.mjs gives workers tsx's loader. */
const SOURCE_ONLY_FILES = new Set(['workers/register-tsx.mjs']);

/** Worker entry modules run on their own thread, loaded by URL; importing one would run it here. */
const WORKER_ENTRIES = new Set(WORKER_MODULES.map((module) => `workers/${module}.ts`));

interface Violation {
  readonly rule: string;
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

/** A known break of a rule: the rule, the importing file and the imported file or name. */
interface Exception {
  readonly name: string;
  readonly rule: string;
  readonly file: string;
  readonly what: string;
}

const EXCEPTIONS: readonly Exception[] = [
  // The web routes answer errors with the registry's RegistryError; the error-table work
  // moves the error envelope out of registry/.
  { name: 'web-uses-registry-error', rule: 'module-dependency', file: 'web/web-deps.ts', what: 'registry/registry-error.ts' },
  { name: 'web-uses-registry-error', rule: 'module-dependency', file: 'web/api-routes.ts', what: 'registry/registry-error.ts' },
  { name: 'web-uses-registry-error', rule: 'module-dependency', file: 'web/build-routes.ts', what: 'registry/registry-error.ts' },
  { name: 'web-uses-registry-error', rule: 'module-dependency', file: 'web/repository-routes.ts', what: 'registry/registry-error.ts' },
  // Image names are checked with the Nix source's attribute-path grammar; it belongs with
  // image-name (or each source) once a second grammar (Debian) arrives.
  { name: 'image-name-uses-nix-attr-path', rule: 'public-surface', file: 'image-name/image-name.ts', what: 'sources/attr-path.ts' },
];

function violations(imports: readonly ImportEdge[] = graph.imports, envReads: readonly EnvRead[] = graph.envReads): Violation[] {
  const found: Violation[] = [];
  const report = (rule: string, edge: ImportEdge, what: string): void => {
    found.push({ rule, file: edge.file, line: edge.line, what });
  };
  for (const edge of imports) {
    const from = moduleOf(edge.file);
    if (edge.target !== null) {
      const to = moduleOf(edge.target);
      if (WORKER_ENTRIES.has(edge.target)) report('worker-entries-not-imported', edge, edge.target);
      if (to === from) continue;
      if (!(ALLOWED[from] ?? []).includes(to)) report('module-dependency', edge, edge.target);
      const surface = PUBLIC_SURFACE[to];
      if (surface && !COMPOSITION.has(from) && !surface.includes(edge.target)) report('public-surface', edge, edge.target);
      if ((from === 'registry' || from === 'web') && to === 'builder') {
        for (const name of edge.names) if (name.endsWith('Keys')) report('no-metadata-keys', edge, name);
      }
      // The HTTP side reads through the read models, never the key space itself.
      if ((from === 'registry' || from === 'web') && edge.target === 'storage/metadata-keys.ts') {
        report('no-metadata-keys', edge, edge.target);
      }
    } else if (edge.pkg !== null) {
      if ((edge.pkg === 'fastify' || edge.pkg.startsWith('@fastify/')) && !FASTIFY_USERS.has(from)) report('fastify-only-in-http', edge, edge.pkg);
      if (from === 'layering') report('layering-is-pure', edge, edge.pkg);
      const builtin = edge.pkg.startsWith('node:') || builtinModules.includes(edge.pkg);
      if (!builtin && !RUNTIME_PACKAGES.has(edge.pkg) && !SOURCE_ONLY_FILES.has(edge.file)) report('runtime-dependencies-only', edge, edge.pkg);
      if (from === 'oci' && edge.pkg !== 'node:crypto') report('oci-imports-nothing', edge, edge.pkg);
    }
  }
  for (const read of envReads) {
    if (!ENV_READERS.has(moduleOf(read.file))) found.push({ rule: 'env-only-in-config', file: read.file, line: read.line, what: 'process.env' });
  }
  return found;
}

const matches = (exception: Exception, violation: Violation): boolean =>
  exception.rule === violation.rule && exception.file === violation.file && exception.what === violation.what;

const format = (v: Violation): string => `${v.rule}: src/${v.file}:${v.line} uses ${v.what}`;

describe('import rules (docs/architecture.md)', () => {
  const all = violations();

  it('reads the whole tree', () => {
    expect(graph.files.length).toBeGreaterThan(100);
    expect(graph.imports.length).toBeGreaterThan(500);
    const modules = new Set(graph.files.map(moduleOf));
    for (const module of modules) expect(Object.keys(ALLOWED), `module ${module} has no rule`).toContain(module);
  });

  it('breaks no rule outside the named exceptions', () => {
    const unexcused = all.filter((v) => !EXCEPTIONS.some((e) => matches(e, v)));
    expect(unexcused.map(format)).toEqual([]);
  });

  it('has no exception that the tree no longer needs', () => {
    const stale = EXCEPTIONS.filter((e) => !all.some((v) => matches(e, v)));
    expect(stale.map((e) => `${e.name} (${e.file} → ${e.what}): delete it`)).toEqual([]);
  });

  it('allows no cycle between modules', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const cycle = (module: string, trail: string[]): string[] | null => {
      if (visiting.has(module)) return [...trail, module];
      if (done.has(module)) return null;
      visiting.add(module);
      for (const next of ALLOWED[module] ?? []) {
        const found = cycle(next, [...trail, module]);
        if (found) return found;
      }
      visiting.delete(module);
      done.add(module);
      return null;
    };
    for (const module of Object.keys(ALLOWED)) expect(cycle(module, [])).toBeNull();
  });

  it('catches a break of each kind', () => {
    // The checks above pass on a clean tree; these prove they would fail on a dirty one.
    const edge = (file: string, target: string | null, pkg: string | null, names: string[] = []): ImportEdge => ({ file, line: 1, specifier: '', target, pkg, names });
    const check = (e: ImportEdge): string[] => violations([e], []).map((v) => v.rule);
    expect(check(edge('layering/x.ts', 'storage/types.ts', null))).toContain('module-dependency');
    expect(check(edge('layering/x.ts', null, 'node:fs'))).toContain('layering-is-pure');
    expect(check(edge('sources/x.ts', 'builder/image-builder.ts', null))).toContain('module-dependency');
    expect(check(edge('builder/x.ts', 'storage/fs-blob-store.ts', null))).toContain('public-surface');
    expect(check(edge('storage/x.ts', null, 'fastify'))).toContain('fastify-only-in-http');
    expect(check(edge('web/x.ts', 'builder/records.ts', null, ['MetadataKeys']))).toContain('no-metadata-keys');
    expect(check(edge('sources/x.ts', 'workers/nar-decoder.ts', null))).toContain('worker-entries-not-imported');
    expect(check(edge('builder/x.ts', null, 'vitest'))).toContain('runtime-dependencies-only');
    expect(check(edge('app.ts', 'storage/fs-blob-store.ts', null))).toEqual([]);
    expect(violations([], [{ file: 'storage/x.ts', line: 1 }]).map((v) => v.rule)).toEqual(['env-only-in-config']);
  });
});
