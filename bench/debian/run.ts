/**
 * Debian layer build benchmark: a cold `shell/git/curl` build (every package layer written
 * anew, gzip -6, with the `.deb`s already cached) against `dpkg-deb --fsys-tarfile` of the
 * same `.deb`s piped to `gzip -6` and to `pigz -6`, one package after another as the layers
 * are. Prints the times side by side with their ratios.
 *
 *   npm run bench:debian                          shell/git/curl, 3 rounds
 *   npm run bench:debian -- --packages jq,curl --repeat 5
 *   npm run bench:debian -- --cold        the first round downloads every .deb (fresh cache)
 *
 * Also prints the process's peak RSS, which stays bounded whatever the closure's size (every
 * package is streamed from its `.deb`).
 *
 * Needs Debian's archive (through the machine's apt sources) the first time, to fill the
 * cache under `--cache` (default: the tests' shared cache).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { writeRootFsLayer } from '../../src/builder/layer/index.js';
import { createDebianSource } from '../../src/compose-debian.js';
import { parseConfig } from '../../src/config/load.js';
import { SHELL_PACKAGES } from '../../src/sources/debian/resolve/index.js';
import { MemoryBlobStore } from '../../src/storage/memory-blob-store.js';

const { values } = parseArgs({
  options: {
    packages: { type: 'string', default: 'git,curl' },
    repeat: { type: 'string', default: '3' },
    cache: { type: 'string', default: join(tmpdir(), 'stowage-test-debian-cache') },
    cold: { type: 'boolean', default: false },
  },
});
const sharedCache = values.cache;
if (values.cold) {
  // Verified indexes are reused; only the .deb cache starts empty, so round one downloads.
  values.cache = await mkdtemp(join(tmpdir(), 'stowage-bench-debs-'));
  await cp(join(sharedCache, 'index'), join(values.cache, 'index'), { recursive: true }).catch(() => undefined);
}
const repeat = Math.max(1, Number.parseInt(values.repeat, 10));
const dataDir = await mkdtemp(join(tmpdir(), 'stowage-bench-debian-'));
const config = parseConfig({ dataDir, source: { kind: 'debian', debian: { cacheDir: values.cache } } });
const source = await createDebianSource(config, dataDir, pino({ level: 'warn' }));
const packages = [...new Set([...SHELL_PACKAGES, ...values.packages.split(',')])].sort();
const signal = new AbortController().signal;
const closure = await source.resolve({ packages, revision: 'latest', system: 'x86_64-linux' }, { signal });
if (!closure.rootFs) throw new Error('the Debian source gave no root-fs closure');
const reader = closure.rootFs.reader;
const paths = closure.paths.map((info) => info.path);
const debFile = (hash: string): string => {
  const sha = hash.replace(/^sha256:/, '');
  return join(values.cache, 'debs', 'sha256', sha.slice(0, 2), `${sha}.deb`);
};
const debs = closure.paths.map((info) => debFile(info.narHash ?? ''));

async function stowage(): Promise<{ seconds: number; bytes: number }> {
  const started = performance.now();
  let bytes = 0;
  for (const path of paths) {
    const blob = await writeRootFsLayer({ reader, paths: [path], compression: 'gzip', level: 6, store: new MemoryBlobStore() });
    bytes += blob.size;
  }
  return { seconds: (performance.now() - started) / 1000, bytes };
}

function pipeline(compressor: 'gzip' | 'pigz'): Promise<{ seconds: number; bytes: number }> {
  const script = `total=0; for f in "$@"; do n=$(dpkg-deb --fsys-tarfile "$f" | ${compressor} -6 | wc -c); total=$((total + n)); done; echo $total`;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script, 'bench', ...debs], { maxBuffer: 1024 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolve({ seconds: (performance.now() - started) / 1000, bytes: Number(stdout.trim()) });
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
// Warm-up: fills the .deb cache (downloads on the first run) and the page cache.
const warm = performance.now();
await stowage();
const warmSeconds = (performance.now() - warm) / 1000;
const rounds = { stowage: [] as number[], gzip: [] as number[], pigz: [] as number[] };
let sizes = { stowage: 0, gzip: 0, pigz: 0 };
for (let round = 0; round < repeat; round++) {
  const s = await stowage();
  const g = await pipeline('gzip');
  const p = await pipeline('pigz');
  rounds.stowage.push(s.seconds);
  rounds.gzip.push(g.seconds);
  rounds.pigz.push(p.seconds);
  sizes = { stowage: s.bytes, gzip: g.bytes, pigz: p.bytes };
}
const installed = closure.paths.reduce((total, info) => total + info.narSize, 0);
const row = (name: string, seconds: number, bytes: number): string =>
  `${name.padEnd(34)} ${seconds.toFixed(2).padStart(7)} s  ${(bytes / 1e6).toFixed(1).padStart(7)} MB  ratio stowage/this ${(median(rounds.stowage) / seconds).toFixed(2)}`;
console.log(`shell/${values.packages.split(',').join('/')}: ${paths.length} packages, ${(installed / 1e6).toFixed(0)} MB installed, ${repeat} rounds (median)`);
console.log(`first round (${values.cold ? 'downloading every .deb' : 'cache warm-up'}): ${warmSeconds.toFixed(2)} s, ratio to stowage cached ${(warmSeconds / median(rounds.stowage)).toFixed(2)}`);
console.log(row('stowage (one gzip -6 layer each)', median(rounds.stowage), sizes.stowage));
console.log(row('dpkg-deb --fsys-tarfile | gzip -6', median(rounds.gzip), sizes.gzip));
console.log(row('dpkg-deb --fsys-tarfile | pigz -6', median(rounds.pigz), sizes.pigz));
console.log(`peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
await rm(dataDir, { recursive: true, force: true });
if (values.cold) await rm(values.cache, { recursive: true, force: true });
