import { PassThrough, type Duplex, type Readable } from 'node:stream';
import { createNarDecompressor, CompressedSizeCheck, DECODER_LIMITS } from './decompress.js';
import { NarDecoderStream, type DecodedNarDigest } from './nar-decoder-worker.js';
import { isBinaryCacheError, BinaryCacheIntegrityError, BinaryCacheUnavailableError, NarInfoNotFoundError, UntrustedNarInfoError } from './errors.js';
import { NarInfoFormatError, parseNarInfo, type NarInfo } from './nar-info.js';
import type { RequestPolicy } from './request-policy.js';
import { checkSignatures, type TrustedKey } from './signatures.js';
import { STORE_DIR, hashPart, isStorePath } from './store-path.js';
import { FileTooLargeError, type CacheTransport } from './transport.js';

export interface BinaryCacheOptions {
  readonly transport: CacheTransport;
  readonly policy: RequestPolicy;
  /** Keys whose signatures make a narinfo trusted. */
  readonly trustedKeys: readonly TrustedKey[];
  /**
   * Accept narinfos without a signature by a trusted key. A signature by a trusted key that
   * does not verify is rejected even then: it means the narinfo was altered.
   */
  readonly allowUnsigned: boolean;
  /** Largest NarSize or FileSize a narinfo may declare. */
  readonly maxNarSize: number;
  /** Verified narinfos kept in memory (they never change for a store path). */
  readonly narInfoCacheEntries: number;
  /** Called when a narinfo is accepted without a trusted signature (allowUnsigned). */
  readonly onUnsigned?: (storePath: string, reason: string) => void;
}

/** A NAR being downloaded and decoded. */
export interface NarStream {
  /** The uncompressed NAR; the caller must destroy it when done with it. */
  readonly stream: Readable;
  /**
   * When the decoder hashed the NAR itself (off the main thread): its SHA-256 and size, known
   * once `stream` has ended; the reader then checks these instead of hashing again.
   */
  readonly digest?: () => DecodedNarDigest | undefined;
}

/** What `nix-cache-info` says about a cache. */
export interface CacheInfo {
  readonly storeDir: string;
  readonly wantMassQuery: boolean;
  readonly priority?: number;
}

const NARINFO_MAX_BYTES = 1024 * 1024;
const CACHE_INFO_MAX_BYTES = 64 * 1024;
const LISTING_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A Nix binary cache (the format cache.nixos.org serves) read without Nix: `nix-cache-info`,
 * signed narinfos, and NAR streams. Narinfos are verified (format, store path, signature) before
 * anyone sees them, then kept in a bounded in-memory cache; failures are never cached.
 */
export class BinaryCache {
  readonly url: string;
  private info: Promise<CacheInfo> | undefined;
  private readonly narInfos = new Map<string, NarInfo>();
  private readonly pending = new Map<string, Promise<NarInfo>>();

  constructor(private readonly options: BinaryCacheOptions) {
    this.url = options.transport.displayUrl;
  }

  /**
   * The cache's `nix-cache-info`, fetched once.
   * @throws BinaryCacheIntegrityError when it is missing or names a store directory other than /nix/store.
   */
  cacheInfo(signal: AbortSignal): Promise<CacheInfo> {
    this.info ??= this.fetchCacheInfo(signal).catch((error: unknown) => {
      this.info = undefined;
      throw error;
    });
    return this.info;
  }

  /**
   * The verified narinfo of `storePath`.
   * @throws NarInfoNotFoundError, UntrustedNarInfoError, BinaryCacheIntegrityError (malformed or
   *   absurd narinfo), BinaryCacheUnavailableError.
   */
  async narInfo(storePath: string, signal: AbortSignal): Promise<NarInfo> {
    if (!isStorePath(storePath)) throw new BinaryCacheIntegrityError(this.url, storePath, 'not a valid store path');
    const hash = hashPart(storePath);
    const cached = this.narInfos.get(hash);
    if (cached && cached.storePath === storePath) {
      // Refresh its place in the LRU order.
      this.narInfos.delete(hash);
      this.narInfos.set(hash, cached);
      return cached;
    }
    let promise = this.pending.get(storePath);
    if (!promise) {
      promise = this.fetchNarInfo(storePath, hash, signal).finally(() => this.pending.delete(storePath));
      this.pending.set(storePath, promise);
    }
    return promise;
  }

  /**
   * Drop the cached narinfo of `storePath`: its NAR did not match it, so the next build fetches
   * it again rather than failing on a stale copy after the cache is repaired.
   */
  forget(storePath: string): void {
    const hash = hashPart(storePath);
    if (this.narInfos.get(hash)?.storePath === storePath) this.narInfos.delete(hash);
  }

  /**
   * The decompressed NAR of a verified narinfo, as a stream. FileSize (when given) is checked
   * on the compressed bytes; NarSize and NarHash are the reader's to check.
   * The caller must destroy the stream when done with it.
   * @throws BinaryCacheIntegrityError when the NAR file is missing; BinaryCacheUnavailableError.
   */
  async openNar(info: NarInfo, signal: AbortSignal): Promise<NarStream> {
    const raw = await this.options.policy.run(`GET ${info.url}`, signal, (attempt) => this.options.transport.open(info.url, attempt));
    if (!raw) throw new BinaryCacheIntegrityError(this.url, info.storePath, `its NAR file ${info.url} is missing`);
    const stages: Duplex[] = [];
    if (info.fileSize !== undefined) {
      stages.push(new CompressedSizeCheck(info.fileSize, (reason) => new BinaryCacheIntegrityError(this.url, info.storePath, reason)));
    }
    // zstd, xz and uncompressed NARs are decoded and hashed on a worker thread; the others'
    // output is hashed by the reader.
    const compression = info.compression;
    const decoder =
      compression === 'zstd' || compression === 'xz' || compression === 'none'
        ? new NarDecoderStream(compression, { ...DECODER_LIMITS, maxOutput: info.narSize })
        : undefined;
    stages.push(...(decoder ? [decoder] : createNarDecompressor(info.compression)));
    const stream = chain(raw, stages, (error, fromTransport) => {
      if (isBinaryCacheError(error)) return error;
      const message = error instanceof Error ? error.message : String(error);
      return fromTransport
        ? new BinaryCacheUnavailableError(this.url, `reading ${info.url} (${info.storePath}) failed: ${message}`, info.storePath)
        : new BinaryCacheIntegrityError(this.url, info.storePath, `cannot decompress its ${info.compression} NAR: ${message}`);
    });
    return decoder ? { stream, digest: () => decoder.digest } : { stream };
  }

  /**
   * The cache's `.ls` listing of a store path (written with `write-nar-listing=1`), as raw bytes
   * (possibly compressed), or null when there is none. Listings are not signed: callers treat them
   * as hints and validate what they read.
   */
  async narListing(storePath: string, signal: AbortSignal): Promise<Buffer | null> {
    const file = `${hashPart(storePath)}.ls`;
    try {
      return await this.options.policy.run(`GET ${file}`, signal, (attempt) => this.options.transport.get(file, { signal: attempt, maxBytes: LISTING_MAX_BYTES }));
    } catch (error) {
      if (error instanceof FileTooLargeError) return null;
      throw error;
    }
  }

  private async fetchCacheInfo(signal: AbortSignal): Promise<CacheInfo> {
    const bytes = await this.get('nix-cache-info', CACHE_INFO_MAX_BYTES, undefined, signal);
    if (!bytes) throw new BinaryCacheIntegrityError(this.url, undefined, 'it has no nix-cache-info: is this a binary cache?');
    const fields = new Map<string, string>();
    for (const line of bytes.toString('utf8').split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const storeDir = fields.get('StoreDir') ?? STORE_DIR;
    if (storeDir !== STORE_DIR) {
      throw new BinaryCacheIntegrityError(this.url, undefined, `its store directory is ${storeDir}; images need paths under ${STORE_DIR}`);
    }
    const priority = Number(fields.get('Priority'));
    return { storeDir, wantMassQuery: fields.get('WantMassQuery') === '1', ...(Number.isFinite(priority) ? { priority } : {}) };
  }

  private async fetchNarInfo(storePath: string, hash: string, signal: AbortSignal): Promise<NarInfo> {
    await this.cacheInfo(signal);
    const bytes = await this.get(`${hash}.narinfo`, NARINFO_MAX_BYTES, storePath, signal);
    if (!bytes) throw new NarInfoNotFoundError(this.url, storePath);
    let info: NarInfo;
    try {
      info = parseNarInfo(bytes.toString('utf8'), storePath, { maxNarSize: this.options.maxNarSize });
    } catch (error) {
      if (error instanceof NarInfoFormatError) throw new BinaryCacheIntegrityError(this.url, storePath, `malformed narinfo: ${error.message}`);
      throw error;
    }
    const check = checkSignatures(info, this.options.trustedKeys);
    if (!check.trusted) {
      const tampered = check.reason === 'its signature does not verify';
      if (!this.options.allowUnsigned || tampered) throw new UntrustedNarInfoError(this.url, storePath, check.reason);
      this.options.onUnsigned?.(storePath, check.reason);
    }
    this.narInfos.set(hash, info);
    while (this.narInfos.size > this.options.narInfoCacheEntries) {
      const oldest = this.narInfos.keys().next().value as string;
      this.narInfos.delete(oldest);
    }
    return info;
  }

  private async get(file: string, maxBytes: number, storePath: string | undefined, signal: AbortSignal): Promise<Buffer | null> {
    try {
      return await this.options.policy.run(`GET ${file}`, signal, (attempt) => this.options.transport.get(file, { signal: attempt, maxBytes }));
    } catch (error) {
      if (error instanceof FileTooLargeError) throw new BinaryCacheIntegrityError(this.url, storePath, `${file} is larger than ${maxBytes} bytes`);
      throw error;
    }
  }
}

/**
 * `raw` piped through `stages` into a stream the caller reads. The first error anywhere tears
 * every stage down and reaches the caller as `classify` makes it: a failing download (the
 * transport's stream) and a failing decoder are different errors. Destroying the returned stream
 * early tears everything down too.
 */
function chain(raw: Readable, stages: readonly Duplex[], classify: (error: unknown, fromTransport: boolean) => Error): Readable {
  const out = new PassThrough({ readableHighWaterMark: 256 * 1024 });
  const all: Array<Readable | Duplex> = [raw, ...stages];
  let failed = false;
  const teardown = (): void => {
    for (const stream of all) stream.destroy();
  };
  const fail = (error: unknown, fromTransport: boolean): void => {
    if (failed) return;
    failed = true;
    teardown();
    out.destroy(classify(error, fromTransport));
  };
  raw.on('error', (error) => fail(error, true));
  let previous: Readable | Duplex = raw;
  for (const stage of stages) {
    stage.on('error', (error) => fail(error, false));
    previous = previous.pipe(stage);
  }
  previous.pipe(out);
  out.on('close', () => {
    if (!out.readableEnded) teardown();
  });
  return out;
}
