/** Store paths and nodes named after packages, for the co-occurrence tests (package names survive in `packageName`). */
import { packageName, type Layer, type LayeringNode } from '../../../src/layering/index.js';

export const MB = 1_000_000;
export const pathOf = (name: string): string => `/nix/store/${name.replace(/[^a-z0-9]/g, 'x').padEnd(32, '0')}-${name}-1.0`;
export const node = (name: string, narSize: number, refs: string[] = []): LayeringNode => ({ path: pathOf(name), narSize, references: refs.map(pathOf) });
/** Each layer's package names, sorted, and the layers sorted: compares layerings whatever their order. */
export const sortedLayerNames = (layers: readonly Layer[]): string[][] => layers.map((l) => l.paths.map(packageName).sort()).sort();

/** A loader, libc and two libraries over it: what binaries in the data-apart fixtures link. */
export const libcStack = (): LayeringNode[] => [node('ld', 200_000), node('libc', 13 * MB, ['ld']), node('libz', 150_000, ['libc']), node('libssl', 4 * MB, ['libc'])];
