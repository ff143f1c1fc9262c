/**
 * The Debian bookworm dependency graph as a stand-in for a Nix package set, with Nix semantics
 * on top: a package's store path hashes its name, version and the store paths of its
 * references, so a security update changes the path of everything above the updated package.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { LayeringGraph } from '../../src/layering/index.js';

/** `main` is bookworm as released; `security` applies the bookworm-security updates. */
export type Release = 'main' | 'security';
export const RELEASES: readonly Release[] = ['main', 'security'];

/** A package as `graph.json.gz` lists it. */
interface RawPackage {
  readonly version: string;
  readonly size: number;
  readonly section: string;
  readonly refs: readonly string[];
}

/** One package of the set, by dense index. */
export interface PackageInfo {
  /** Debian package name. */
  readonly name: string;
  /** Debian archive section (`utils`, `libs`, ...). */
  readonly section: string;
  /** Direct dependencies, as package indices. */
  readonly refs: readonly number[];
}

/** The package set with both releases' store paths and sizes. */
export class PackageSet {
  readonly packages: readonly PackageInfo[];
  private readonly byName: ReadonlyMap<string, number>;
  /** Store path and NAR size of every package, per release. */
  private readonly paths: Record<Release, readonly string[]>;
  private readonly sizes: Record<Release, readonly number[]>;

  /**
   * @param identity what a store path's name hashes: `references` (name, version and the
   *   references' paths, as Nix does: an update changes every path above it) or `version` (name
   *   and version alone, as Debian's package files are named: an update changes that package only).
   */
  constructor(
    dataDir: string,
    private readonly identity: 'references' | 'version' = 'references',
  ) {
    const graph = readGzipJson(join(dataDir, 'graph.json.gz')) as { packages: Record<string, RawPackage> };
    const updates = readGzipJson(join(dataDir, 'updates.json.gz')) as {
      updates: Record<string, { version: string; size: number }>;
    };
    const names = Object.keys(graph.packages).sort();
    const byName = new Map(names.map((name, i) => [name, i]));
    const raw = names.map((name) => graph.packages[name]!);
    this.byName = byName;
    this.packages = names.map((name, i) => ({
      name,
      section: raw[i]!.section,
      refs: raw[i]!.refs.map((r) => byName.get(r)!).filter((r) => r !== undefined && r !== i),
    }));
    const mainVersions = raw.map((p) => p.version);
    const securityVersions = names.map((name, i) => updates.updates[name]?.version ?? raw[i]!.version);
    this.paths = {
      main: this.storePaths(mainVersions),
      security: this.storePaths(securityVersions),
    };
    this.sizes = {
      main: raw.map((p) => p.size),
      security: names.map((name, i) => updates.updates[name]?.size ?? raw[i]!.size),
    };
  }

  /** Index of a package name. @throws Error for an unknown name. */
  indexOf(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new Error(`unknown package ${name}`);
    return i;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  storePath(release: Release, pkg: number): string {
    return this.paths[release][pkg]!;
  }

  size(release: Release, pkg: number): number {
    return this.sizes[release][pkg]!;
  }

  /** Package indices of the runtime closure of `names`, ascending. */
  closure(names: readonly string[]): number[] {
    const seen = new Set<number>();
    const stack = names.map((n) => this.indexOf(n));
    while (stack.length > 0) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      stack.push(...this.packages[p]!.refs);
    }
    return [...seen].sort((a, b) => a - b);
  }

  /** The closure of `names` in `release`, as the registry would hand it to a layerer. */
  layeringGraph(release: Release, names: readonly string[]): LayeringGraph {
    const nodes = this.closure(names).map((p) => ({
      path: this.storePath(release, p),
      narSize: this.size(release, p),
      references: this.packages[p]!.refs.map((r) => this.storePath(release, r)),
    }));
    return { nodes, roots: names.map((n) => this.storePath(release, this.indexOf(n))) };
  }

  /** Store paths in dependency order: identities are computed bottom-up. */
  private storePaths(versions: readonly string[]): string[] {
    const out = new Array<string>(this.packages.length);
    const state = new Uint8Array(this.packages.length);
    const visit = (root: number): void => {
      const stack: number[] = [root];
      while (stack.length > 0) {
        const p = stack[stack.length - 1]!;
        if (state[p] === 2) {
          stack.pop();
          continue;
        }
        const pending = this.packages[p]!.refs.filter((r) => state[r] !== 2);
        if (state[p] === 0 && pending.length > 0) {
          state[p] = 1;
          stack.push(...pending);
          continue;
        }
        const info = this.packages[p]!;
        const refPaths = this.identity === 'references' ? info.refs.map((r) => out[r]!).sort() : [];
        const hash = createHash('sha256').update(`${info.name}\0${versions[p]}\0${refPaths.join('\0')}`).digest();
        out[p] = `/nix/store/${nix32(hash)}-${info.name}-${versions[p]!.replace(/[^A-Za-z0-9+._?=-]/g, '_')}`;
        state[p] = 2;
        stack.pop();
      }
    };
    for (let p = 0; p < this.packages.length; p++) if (state[p] !== 2) visit(p);
    return out;
  }
}

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** 32 characters of Nix's base-32 alphabet from the first 160 bits of `hash`. */
function nix32(hash: Buffer): string {
  let out = '';
  for (let i = 0; i < 32; i++) {
    const bit = i * 5;
    const byte = bit >>> 3;
    const word = (hash[byte]! << 8) | (hash[byte + 1] ?? 0);
    out += NIX32[(word >>> (11 - (bit & 7))) & 31];
  }
  return out;
}

function readGzipJson(file: string): unknown {
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
}
