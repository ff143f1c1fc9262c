import { parseSha256, toNix32Hash, type Sha256Hash } from './nix-hash.js';
import { STORE_DIR, compareStorePaths, isStoreBaseName } from './store-path.js';

/** NAR compressions a narinfo may name; a narinfo without `Compression:` means bzip2. */
export type NarCompression = 'none' | 'xz' | 'zstd' | 'bzip2' | 'gzip' | 'br';
const COMPRESSIONS: ReadonlySet<string> = new Set<NarCompression>(['none', 'xz', 'zstd', 'bzip2', 'gzip', 'br']);

/** A parsed `<hash>.narinfo`: every field Nix writes. */
export interface NarInfo {
  /** `StorePath:` the full store path. */
  readonly storePath: string;
  /** `URL:` where the compressed NAR is, relative to the cache root (`nar/<hash>.nar.zst`). */
  readonly url: string;
  /** `Compression:` (bzip2 when absent, as in Nix). */
  readonly compression: NarCompression;
  /** `FileHash:` hash of the compressed file, when given. */
  readonly fileHash?: Sha256Hash;
  /** `FileSize:` size of the compressed file, when given. */
  readonly fileSize?: number;
  /** `NarHash:` hash of the uncompressed NAR. */
  readonly narHash: Sha256Hash;
  /** `NarSize:` size of the uncompressed NAR in bytes. */
  readonly narSize: number;
  /** `References:` full store paths, sorted (may include the path itself). */
  readonly references: readonly string[];
  /** `Deriver:` the .drv's full store path, when known. */
  readonly deriver?: string;
  /** `System:` the system the path was built for, when given (old caches). */
  readonly system?: string;
  /** `Sig:` lines, `<key name>:<base64 signature>`. */
  readonly signatures: readonly string[];
  /** `CA:` content address of a content-addressed path, when given. */
  readonly ca?: string;
}

export interface NarInfoLimits {
  /** Largest NarSize (and FileSize) accepted; a narinfo declaring more is rejected. */
  readonly maxNarSize: number;
}

/** Why a narinfo was rejected; the caller turns it into a BinaryCacheIntegrityError. */
export class NarInfoFormatError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NarInfoFormatError';
  }
}

const SINGLE_FIELDS = new Set(['StorePath', 'URL', 'Compression', 'FileHash', 'FileSize', 'NarHash', 'NarSize', 'References', 'Deriver', 'System', 'CA']);

/**
 * Parse a narinfo and check it describes `expectedStorePath`. Stricter than Nix where a lax
 * reading would let a broken or hostile cache through: a repeated field, a size that is not a
 * plain decimal number or above the limit, a URL leaving the cache root, or a malformed store
 * path are errors. Unknown fields are ignored, as Nix does.
 * @throws NarInfoFormatError
 */
export function parseNarInfo(text: string, expectedStorePath: string, limits: NarInfoLimits): NarInfo {
  const fields = new Map<string, string>();
  const signatures: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const colon = line.indexOf(': ');
    const key = colon < 0 ? line.replace(/:$/, '') : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 2);
    if (colon < 0 && !line.endsWith(':')) throw new NarInfoFormatError(`malformed line ${JSON.stringify(line.slice(0, 80))}`);
    if (key === 'Sig') {
      signatures.push(value);
    } else if (SINGLE_FIELDS.has(key)) {
      if (fields.has(key)) throw new NarInfoFormatError(`field ${key} appears twice`);
      fields.set(key, value);
    }
  }
  const required = (key: string): string => {
    const value = fields.get(key);
    if (value === undefined || value === '') throw new NarInfoFormatError(`field ${key} is missing`);
    return value;
  };

  const storePath = required('StorePath');
  if (storePath !== expectedStorePath) {
    throw new NarInfoFormatError(`it describes ${JSON.stringify(storePath)} instead`);
  }
  const url = required('URL');
  if (url.startsWith('/') || url.includes('\\') || url.split('/').some((part) => part === '..' || part === '.' || part === '') || /^[a-z][a-z0-9+.-]*:/i.test(url)) {
    throw new NarInfoFormatError(`URL ${JSON.stringify(url)} is not a relative path inside the cache`);
  }
  const compression = fields.get('Compression') ?? 'bzip2';
  if (!COMPRESSIONS.has(compression)) throw new NarInfoFormatError(`unsupported compression ${JSON.stringify(compression)}`);

  const narHash = hashField('NarHash', required('NarHash'));
  const narSize = sizeField('NarSize', required('NarSize'), limits);
  if (narSize === 0) throw new NarInfoFormatError('NarSize is 0');
  const fileHashText = fields.get('FileHash');
  const fileSizeText = fields.get('FileSize');

  const references = (fields.get('References') ?? '').split(' ').filter((name) => name !== '');
  for (const name of references) {
    if (!isStoreBaseName(name)) throw new NarInfoFormatError(`reference ${JSON.stringify(name)} is not a store path name`);
  }
  const deriver = fields.get('Deriver');
  if (deriver !== undefined && deriver !== 'unknown-deriver' && !isStoreBaseName(deriver)) {
    throw new NarInfoFormatError(`Deriver ${JSON.stringify(deriver)} is not a store path name`);
  }
  const system = fields.get('System');
  const ca = fields.get('CA');
  return {
    storePath,
    url,
    compression: compression as NarCompression,
    ...(fileHashText ? { fileHash: hashField('FileHash', fileHashText) } : {}),
    ...(fileSizeText ? { fileSize: sizeField('FileSize', fileSizeText, limits) } : {}),
    narHash,
    narSize,
    references: [...new Set(references)].map((name) => `${STORE_DIR}/${name}`).sort(compareStorePaths),
    ...(deriver && deriver !== 'unknown-deriver' ? { deriver: `${STORE_DIR}/${deriver}` } : {}),
    ...(system ? { system } : {}),
    signatures,
    ...(ca ? { ca } : {}),
  };
}

/**
 * The string a narinfo's signatures sign, as Nix computes it:
 * `1;<store path>;sha256:<nix32 NarHash>;<NarSize>;<references, full paths, comma-joined>`.
 */
export function narInfoFingerprint(info: NarInfo): string {
  return `1;${info.storePath};${toNix32Hash(info.narHash)};${info.narSize};${info.references.join(',')}`;
}

function hashField(key: string, value: string): Sha256Hash {
  try {
    return parseSha256(value);
  } catch {
    throw new NarInfoFormatError(`${key} ${JSON.stringify(value.slice(0, 80))} is not a sha256 hash`);
  }
}

function sizeField(key: string, value: string, limits: NarInfoLimits): number {
  if (!/^[0-9]{1,20}$/.test(value)) throw new NarInfoFormatError(`${key} ${JSON.stringify(value.slice(0, 40))} is not a size`);
  const size = Number(value);
  if (!Number.isSafeInteger(size) || size > limits.maxNarSize) {
    throw new NarInfoFormatError(`${key} ${value} is above the limit of ${limits.maxNarSize} bytes`);
  }
  return size;
}
