/**
 * Binary-cache layer build benchmark: an image's layers built from a Nix binary cache (download
 * → decompress → NAR parse → tar → compress) against the Nix source's local store reader on the
 * same store paths, in the same run.
 *
 *   npm run bench:build-cache                              closure of examples/pkgs hello, busybox, bigdata
 *   npm run bench:build-cache -- --attrs greeter,bigdata --nar zstd,xz --http --repeat 7 --json
 *
 * Setup (not timed): the attributes are built, signed with a fresh key and copied with
 * `nix copy --to file://...?compression=<nar>` into one temporary cache per NAR compression;
 * the closure is grouped into layers with the registry's layerer, as an image build does.
 * Timed, per configuration: every store-path layer in order, then the top layer (/bin links:
 * `list()` calls), into a fresh MemoryBlobStore. The narinfos are fetched before the timer
 * starts, as an image build's resolve step has done by then. Configurations run interleaved,
 * one warm-up round then `--repeat` rounds; medians are reported, and every configuration must
 * give the same digests. Target: binary cache / local store at most 1.3x.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeStorePathLayer, writeSyntheticLayer, DEFAULT_COMPRESSION_LEVEL, type LayerCompression } from '../../src/builder/layer/index.js';
import { planTopLayer } from '../../src/builder/top-layer.js';
import { StowageLayerer, closurePopularity, type Layer, type LayeringGraph } from '../../src/layering/index.js';
import { BinaryCache } from '../../src/sources/binary-cache/binary-cache.js';
import { BinaryCacheStoreReader } from '../../src/sources/binary-cache/binary-cache-store-reader.js';
import { closureFromCache } from '../../src/sources/binary-cache/closure.js';
import { createCacheTransport } from '../../src/sources/binary-cache/create-transport.js';
import { RequestPolicy } from '../../src/sources/binary-cache/request-policy.js';
import { parsePublicKey } from '../../src/sources/binary-cache/signatures.js';
import { LocalStoreReader } from '../../src/sources/local-store-reader.js';
import type { StoreReader } from '../../src/sources/types.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { DEFAULT_ATTRIBUTES } from './closure.js';
import { run } from './processes.js';

type NarCompression = 'zstd' | 'xz' | 'none';

interface Config {
  /** `local` (Nix source), or a NAR compression read from the cache. */
  readonly source: 'local' | NarCompression;
  readonly transport: 'disk' | 'file' | 'http';
  readonly compression: LayerCompression;
}

interface Sample {
  readonly seconds: number;
  readonly digests: string;
  readonly bytes: number;
}

const { values } = parseArgs({
  options: {
    pkgs: { type: 'string', default: 'examples/pkgs' },
    attrs: { type: 'string', default: DEFAULT_ATTRIBUTES.join(',') },
    nar: { type: 'string', default: 'zstd,xz' },
    compression: { type: 'string', default: 'gzip,zstd' },
    http: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '5' },
    'max-layers': { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
  },
});

const repeat = Math.max(1, Number.parseInt(values.repeat, 10));
const narCompressions = values.nar.split(',').map((value): NarCompression => {
  if (value === 'zstd' || value === 'xz' || value === 'none') return value;
  throw new Error(`unknown NAR compression ${value}; use zstd, xz or none`);
});
const layerCompressions = values.compression.split(',').map((value): LayerCompression => {
  if (value === 'gzip' || value === 'zstd') return value;
  throw new Error(`unknown layer compression ${value}; use gzip or zstd`);
});

const work = await mkdtemp(path.join(tmpdir(), 'stowage-bench-cache-'));
const servers: ChildProcess[] = [];
try {
  const pkgs = path.resolve(values.pkgs);
  const attrArgs = values.attrs.split(',').flatMap((attr) => ['-A', attr]);
  const roots = (await run('nix-build', ['--no-out-link', pkgs, ...attrArgs])).stdout.split('\n').filter(Boolean);
  const secretKey = path.join(work, 'secret.key');
  await writeFile(secretKey, (await run('nix', ['key', 'generate-secret', '--key-name', 'stowage-bench-1'])).stdout);
  const publicKey = (await run('bash', ['-c', `nix key convert-secret-to-public < '${secretKey}'`])).stdout.trim();
  await run('nix', ['store', 'sign', '--key-file', secretKey, '--recursive', ...roots]);
  const urls = new Map<string, string>();
  for (const nar of narCompressions) {
    const dir = path.join(work, `cache-${nar}`);
    await run('nix', ['copy', '--to', `file://${dir}?compression=${nar}`, ...roots]);
    urls.set(`${nar}:file`, `file://${dir}`);
    if (values.http) urls.set(`${nar}:http`, await serveDirectory(dir));
  }

  const openCache = (url: string): BinaryCache => {
    const transport = createCacheTransport(url);
    return new BinaryCache({
      transport,
      policy: new RequestPolicy({ concurrency: 16, retries: 0, timeoutMs: 60_000, backoffMs: 100, cache: transport.displayUrl }),
      trustedKeys: [parsePublicKey(publicKey)],
      allowUnsigned: false,
      maxNarSize: 2 ** 36,
      narInfoCacheEntries: 10_000,
    });
  };
  const closure = await closureFromCache(openCache(urls.get(`${narCompressions[0]}:file`) as string), roots, AbortSignal.timeout(60_000));
  const graph: LayeringGraph = { nodes: closure.map((info) => ({ path: info.path, narSize: info.narSize, references: info.references })), roots };
  const layers = new StowageLayerer().group(graph, closurePopularity(graph), Number(values['max-layers']) - 1);
  const closurePaths = closure.map((info) => info.path);
  const narBytes = closure.reduce((total, info) => total + info.narSize, 0);

  const configs: Config[] = layerCompressions.flatMap((compression) => [
    { source: 'local' as const, transport: 'disk' as const, compression },
    ...narCompressions.flatMap((nar) => [
      { source: nar, transport: 'file' as const, compression },
      ...(values.http ? [{ source: nar, transport: 'http' as const, compression }] : []),
    ]),
  ]);
  const samples = configs.map(() => [] as Sample[]);
  for (let round = 0; round <= repeat; round++) {
    for (const [i, config] of configs.entries()) {
      const sample = await measure(config);
      if (round > 0) samples[i]?.push(sample);
    }
  }

  const rows = configs.map((config, i) => {
    const sample = median(samples[i] ?? []);
    const local = median(samples[configs.findIndex((other) => other.source === 'local' && other.compression === config.compression)] ?? []);
    if (sample.digests !== local.digests) throw new Error(`${describe(config)} gave other digests than the local store`);
    return { ...config, seconds: sample.seconds, ratio: sample.seconds / local.seconds, layerBytes: sample.bytes };
  });
  const worst = Math.max(...rows.filter((row) => row.source !== 'local').map((row) => row.ratio));
  if (values.json) {
    console.log(JSON.stringify({ attrs: values.attrs, storePaths: closure.length, layers: layers.length + 1, narBytes, repeat, node: process.version, results: rows, worstRatio: worst, target: 1.3 }, null, 2));
  } else {
    printTable(closure.length, layers.length + 1, narBytes, rows, worst);
  }

  /** Every store-path layer, then the top layer, sequentially as an image build does. */
  async function measure(config: Config): Promise<Sample> {
    let reader: StoreReader;
    if (config.source === 'local') {
      reader = new LocalStoreReader();
    } else {
      const cache = openCache(urls.get(`${config.source}:${config.transport}`) as string);
      await closureFromCache(cache, roots, AbortSignal.timeout(60_000));
      reader = new BinaryCacheStoreReader(cache, { allowExternalSymlinks: false, useListings: true, tmpDir: work });
    }
    const store = new MemoryBlobStore();
    const digests: string[] = [];
    let bytes = 0;
    const level = DEFAULT_COMPRESSION_LEVEL[config.compression];
    const started = process.hrtime.bigint();
    for (const layer of layers as Layer[]) {
      const blob = await writeStorePathLayer({ reader, storePaths: layer.paths, compression: config.compression, level, store });
      digests.push(blob.digest);
      bytes += blob.size;
    }
    const top = await planTopLayer(reader, roots, closurePaths);
    const topBlob = await writeSyntheticLayer({ entries: top.entries, compression: config.compression, level, store });
    digests.push(topBlob.digest);
    bytes += topBlob.size;
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, digests: digests.join(' '), bytes };
  }
} finally {
  for (const server of servers) server.kill();
  await rm(work, { recursive: true, force: true });
}

/**
 * A static file server for `dir` in a child process on a free loopback port, so that serving
 * the cache does not take CPU from the measured process's event loop (a real cache is remote).
 */
async function serveDirectory(dir: string): Promise<string> {
  const script = `
    const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
    const root = process.argv[1];
    const server = http.createServer((req, res) => {
      const file = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
      fs.stat(file, (error, info) => {
        if (error || !info.isFile() || !file.startsWith(root)) { res.writeHead(404).end(); return; }
        res.writeHead(200, { 'content-length': info.size });
        fs.createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(res);
      });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(child);
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`cache server exited with ${code}`)));
  });
  return `http://127.0.0.1:${port}`;
}

function describe(config: Config): string {
  return config.source === 'local' ? 'local store (Nix source)' : `binary cache, ${config.source} NARs over ${config.transport}`;
}

function median(samples: readonly Sample[]): Sample {
  const sorted = [...samples].sort((a, b) => a.seconds - b.seconds);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (!middle) throw new Error('no samples');
  return middle;
}

function printTable(
  paths: number,
  layerCount: number,
  narBytes: number,
  rows: ReadonlyArray<Config & { seconds: number; ratio: number; layerBytes: number }>,
  worst: number,
): void {
  const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(2);
  const header = ['layers', 'read from', 'seconds', 'vs local', 'layer MiB'];
  const body = rows.map((row) => [
    `${row.compression} -${DEFAULT_COMPRESSION_LEVEL[row.compression]}`,
    describe(row),
    row.seconds.toFixed(3),
    `${row.ratio.toFixed(2)}x`,
    mib(row.layerBytes),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => (cells[column] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log(`${paths} store paths (${mib(narBytes)} MiB of NARs) in ${layerCount} layers, median of ${repeat} runs\n`);
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const cells of body) console.log(line(cells));
  console.log(`\nworst binary cache / local store ratio: ${worst.toFixed(2)}x (target at most 1.30x)`);
}

