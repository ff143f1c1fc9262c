import { createCipheriv, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A synthetic closure for the build benchmark: store paths in a directory of their own, made
 * of many small files and a few big ones, with contents that are deterministic pseudo-random
 * and partly compressible (like binaries: runs of noise between runs of text), so that every
 * run and every machine gets the same bytes. Nothing is committed: it is generated on demand.
 */
export interface GeneratedClosureOptions {
  /** Directory to hold the store paths (created; reused when it holds the same closure). */
  readonly dir: string;
  /** Total file bytes at least (default 1.1 GB). */
  readonly bytes: number;
  /** Small files (default 20,000); big files are added until `bytes` is reached. */
  readonly smallFiles: number;
  /** Store paths (default 300); the big files go to the first tenth of them. */
  readonly storePaths: number;
}

export interface GeneratedClosure {
  readonly dir: string;
  /** `/nix/store/<name>` of each store path, sorted. */
  readonly storePaths: readonly string[];
  readonly files: number;
  readonly bytes: number;
}

/** Bytes of each run of noise or text inside a file. */
const RUN_BYTES = 4096;
/** Share of runs that are noise (incompressible); the rest is text. */
const NOISE_RUNS = 0.35;
const MARKER = 'closure.json';

/** Deterministic noise: AES-128-CTR of zeros under a key derived from `seed`. */
function noise(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** 512 pseudo-words of 2–11 letters, the same each run. */
const WORDS: readonly Buffer[] = (() => {
  const bytes = noise('words', 512 * 12);
  return Array.from({ length: 512 }, (_unused, i) => {
    const length = 2 + ((bytes[i * 12] ?? 0) % 10);
    const letters = Array.from({ length }, (_letter, j) => 97 + ((bytes[i * 12 + 1 + (j % 11)] ?? 0) % 26));
    return Buffer.from([...letters, 32]);
  });
})();

/** `length` bytes of file content for `seed`: noise runs and runs of words chosen by noise. */
export function fileContent(seed: string, length: number): Buffer {
  const out = noise(seed, length);
  const choices = noise(`${seed}/text`, Math.ceil(length / 2) + 2);
  let pick = 0;
  for (let start = 0; start < length; start += RUN_BYTES) {
    const end = Math.min(start + RUN_BYTES, length);
    if ((out[start] ?? 0) < 256 * NOISE_RUNS) continue;
    let offset = start;
    while (offset < end) {
      const word = WORDS[((choices[pick] ?? 0) | ((choices[pick + 1] ?? 0) << 8)) & 511] as Buffer;
      pick = (pick + 2) % (choices.length - 1);
      offset += word.copy(out, offset, 0, Math.min(word.length, end - offset));
    }
  }
  return out;
}

/** A size from a log-uniform distribution over [min, max), driven by `unit` in [0, 1). */
function logUniform(unit: number, min: number, max: number): number {
  return Math.floor(min * (max / min) ** unit);
}

/** Generate (or reuse) the closure described by `options`. */
export async function generateClosure(options: GeneratedClosureOptions): Promise<GeneratedClosure> {
  const marker = path.join(options.dir, MARKER);
  const wanted = JSON.stringify({ version: 1, ...options, dir: undefined });
  if (existsSync(marker)) {
    const saved = JSON.parse(await readFile(marker, 'utf8')) as { key: string; closure: GeneratedClosure };
    if (saved.key === wanted) return saved.closure;
  }
  await rm(options.dir, { recursive: true, force: true });
  await mkdir(options.dir, { recursive: true });
  const names = Array.from({ length: options.storePaths }, (_unused, i) => {
    const hash = createHash('sha256').update(`path ${i}`).digest('hex').slice(0, 32).replace(/[eotu]/g, 'a');
    return `${hash}-pkg${i}-1.0`;
  });
  for (const name of names) {
    await mkdir(path.join(options.dir, name, 'lib'), { recursive: true });
    await mkdir(path.join(options.dir, name, 'share', 'doc'), { recursive: true });
    await mkdir(path.join(options.dir, name, 'bin'), { recursive: true });
  }
  const sizes = noise('sizes', 8 * (options.smallFiles + 10_000));
  const unit = (i: number): number => sizes.readUInt32LE(i * 4) / 2 ** 32;
  let bytes = 0;
  let files = 0;
  const write = async (file: string, seed: string, size: number, executable: boolean): Promise<void> => {
    const handle = await open(file, 'w');
    try {
      for (let offset = 0; offset < size; offset += 8 * 2 ** 20) {
        await handle.write(fileContent(`${seed}@${offset}`, Math.min(8 * 2 ** 20, size - offset)));
      }
    } finally {
      await handle.close();
    }
    await chmod(file, executable ? 0o555 : 0o444);
    bytes += size;
    files += 1;
  };
  for (let i = 0; i < options.smallFiles; i++) {
    const name = names[i % names.length] as string;
    const kind = i % 10 === 0 ? 'bin' : i % 3 === 0 ? 'share/doc' : 'lib';
    // Every 400th file repeats an earlier one's content, as store paths do: hard links.
    const seed = i % 400 === 399 ? `small ${i - 200}` : `small ${i}`;
    const size = logUniform(unit(i % 400 === 399 ? i - 200 : i), 64, 160 * 1024);
    await write(path.join(options.dir, name, kind, `f${i}`), seed, size, kind === 'bin');
  }
  for (let i = 0; i < names.length; i += 7) await symlink(`../lib/f${i}`, path.join(options.dir, names[i] as string, 'bin', `link${i}`));
  const heavy = Math.max(1, Math.floor(names.length / 10));
  for (let i = 0; bytes < options.bytes; i++) {
    const size = logUniform(unit(options.smallFiles + i), 2 ** 20, 48 * 2 ** 20);
    await write(path.join(options.dir, names[i % heavy] as string, 'lib', `big${i}.so`), `big ${i}`, size, false);
  }
  const closure: GeneratedClosure = { dir: options.dir, storePaths: names.map((name) => `/nix/store/${name}`).sort(), files, bytes };
  await writeFile(marker, JSON.stringify({ key: wanted, closure }));
  return closure;
}
