import { describe, expect, it } from 'vitest';
import { SingleLayerer, type LayeringGraph } from '../../../src/layering/index.js';
import { compare, RealImages, type RealImage } from '../../../bench/layering/real-compare.js';
import type { PullRecord } from '../../../bench/layering/real-pulls.js';
import type { Algorithm } from '../../../bench/layering/simulate.js';
import { imageKey, type Pull } from '../../../bench/layering/trace.js';

const PATHS = { libc: '/debian/libc6_2.36_amd64', bash: '/debian/bash_5.2_amd64', curl: '/debian/curl_7.88_amd64' };
const INSTALLED: Record<string, number> = { [PATHS.libc]: 1000, [PATHS.bash]: 300, [PATHS.curl]: 200 };
const GZIP: Record<string, number> = { [PATHS.libc]: 400, [PATHS.bash]: 100, [PATHS.curl]: 80 };

function image(pull: Pull, paths: string[], registryGroups: string[][]): RealImage {
  const graph: LayeringGraph = { nodes: paths.map((path) => ({ path, narSize: INSTALLED[path]!, references: path === PATHS.libc ? [] : [PATHS.libc] })), roots: paths.slice(-1) };
  return {
    key: imageKey(pull),
    release: pull.release,
    packages: [...pull.packages],
    graph,
    sizes: new Map(paths.map((p) => [p, INSTALLED[p]!])),
    popularity: new Map(),
    registryLayers: registryGroups.map((group) => ({ paths: group, size: 1 })),
    gzipSizes: new Map(paths.map((p) => [p, GZIP[p]!])),
    tarSizes: new Map(paths.map((p) => [p, INSTALLED[p]! + 512])),
  };
}

const record = (node: string, layers: Array<[number, boolean]>): PullRecord => ({
  node,
  image: 'x:latest',
  manifestBytes: 10,
  configBytes: 0,
  layers: layers.map(([bytes, downloaded], index) => ({ digest: `sha256:${index}`, size: bytes, index, downloaded, bytes: downloaded ? bytes : 0, uncompressedBytes: downloaded ? bytes * 2 : 0 })),
});

describe('the real bench comparison', () => {
  const bashPull: Pull = { node: 'n1', release: 'main', packages: ['bash'] };
  const curlPull: Pull = { node: 'n1', release: 'main', packages: ['curl'] };
  const otherNode: Pull = { node: 'n2', release: 'main', packages: ['curl'] };
  const trace = [bashPull, curlPull, bashPull, otherNode];
  const images = new RealImages(new Map([
    [imageKey(bashPull), image(bashPull, [PATHS.bash, PATHS.libc], [[PATHS.bash, PATHS.libc]])],
    // Not what SingleLayerer gives: the cross-check must notice.
    [imageKey(curlPull), image(curlPull, [PATHS.curl, PATHS.libc], [[PATHS.libc], [PATHS.curl]])],
  ]));
  const single = new SingleLayerer();
  const algorithms: Algorithm[] = [
    { name: 'single', layerer: single, popularity: () => new Map() },
    { name: 'floor', layerer: null, popularity: () => new Map() },
  ];
  const records = [record('n1', [[500, true], [5, true]]), record('n1', [[480, true], [5, true]]), record('n1', [[500, false], [5, false]]), record('n2', [[480, true], [5, true]])];
  const result = compare(trace, images, records, algorithms, 4, single);

  it('replays each node alone: a repeated image costs nothing, a new image with a shared package costs its whole single layer', () => {
    const n1 = result.rows.find((r) => r.node === 'n1')!;
    expect(n1.simulated['single']).toEqual({ installed: 1300 + 1200, gzip: 500 + 480 });
    expect(n1.simulated['floor']).toEqual({ installed: 1300 + 200, gzip: 500 + 80 });
    expect(n1.floor).toEqual({ installed: 1500, gzip: 580, tar: 1500 + 3 * 512 });
    expect(n1.real).toEqual({ gzip: 990, topLayersGzip: 10, tar: 1980, metadata: 30 });
    expect(n1).toMatchObject({ pulls: 3, images: 2 });
  });

  it('sums the nodes into the total row', () => {
    const total = result.rows.at(-1)!;
    expect(total.node).toBe('total');
    expect(total.floor.gzip).toBe(580 + 480);
    expect(total.real.gzip).toBe(990 + 485);
    expect(total.simulated['single']!.installed).toBe(2500 + 1200);
  });

  it('counts the images whose registry layers hold exactly the layerer\'s groups', () => {
    expect(result).toMatchObject({ groupsMatched: 1, images: 2, layersPerImage: 2 });
  });
});
