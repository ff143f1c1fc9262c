/**
 * Pull traces: one pull per line, `{"node":"n1","release":"main","packages":["git","curl"]}`.
 * `release` says whether the security updates apply to the image's package set.
 */
import { readFileSync } from 'node:fs';
import type { Release } from './package-set.js';

/** One image pull by one node. */
export interface Pull {
  /** Node (host) name; each node keeps its own cache of layers. */
  readonly node: string;
  /** Package-set release the image is built from. */
  readonly release: Release;
  /** Requested packages; the image key is their sorted, deduplicated list plus the release. */
  readonly packages: readonly string[];
}

/** Parses JSON lines; blank lines and lines starting with `#` are skipped. @throws Error on a bad line. */
export function parseTrace(text: string, source = 'trace'): Pull[] {
  const pulls: Pull[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${where}: not JSON`);
    }
    pulls.push(toPull(value, where));
  });
  return pulls;
}

export function readTrace(file: string): Pull[] {
  return parseTrace(readFileSync(file, 'utf8'), file);
}

export function formatTrace(pulls: readonly Pull[]): string {
  return pulls.map((p) => JSON.stringify({ node: p.node, release: p.release, packages: p.packages })).join('\n') + '\n';
}

/** Canonical key of the image a pull asks for. */
export function imageKey(pull: Pull): string {
  return `${pull.release}:${[...new Set(pull.packages)].sort().join(',')}`;
}

function toPull(value: unknown, where: string): Pull {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: expected an object`);
  const { node, release, packages } = value as Record<string, unknown>;
  if (typeof node !== 'string' || node === '') throw new Error(`${where}: "node" must be a non-empty string`);
  if (release !== 'main' && release !== 'security') throw new Error(`${where}: "release" must be main or security`);
  if (!Array.isArray(packages) || packages.length === 0 || !packages.every((p) => typeof p === 'string')) {
    throw new Error(`${where}: "packages" must be a non-empty list of names`);
  }
  return { node, release, packages: packages as string[] };
}
