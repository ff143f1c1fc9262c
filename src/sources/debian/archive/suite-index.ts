import { createHash } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { XzDecoder } from '../../binary-cache/xz-decoder.js';
import { DebianArchiveUnavailableError, DebianIndexIntegrityError } from '../errors.js';
import type { DebianPackage } from '../types.js';
import type { ArchiveHttpClient } from './archive-http.js';
import { SignatureError, verifyClearsigned } from './gpgv.js';
import type { IndexCache } from './index-cache.js';
import { PackagesParser } from './packages-parser.js';
import { parseRelease, releaseExpiry, type ReleaseFile, type ReleaseInfo } from './release.js';

/** What to fetch for one suite of one archive. */
export interface SuiteIndexRequest {
  readonly suite: string;
  readonly components: readonly string[];
  readonly architecture: string;
  /** Keyrings the InRelease must be signed by. */
  readonly keyrings: readonly string[];
  readonly http: ArchiveHttpClient;
  readonly cache: IndexCache;
  /** The clock Valid-Until is checked against. */
  readonly now: () => Date;
  /** The gpgv executable (default `gpgv`). */
  readonly gpgv?: string;
  readonly signal?: AbortSignal;
}

/** One Packages file a suite index was read from. */
export interface PackagesFileRef {
  /** Path below `dists/<suite>/`, e.g. `main/binary-amd64/Packages.xz`. */
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

/** A verified suite: its Release and every stanza of its Packages files, in index order. */
export interface SuiteIndex {
  readonly archiveUrl: string;
  readonly suite: string;
  readonly architecture: string;
  readonly release: ReleaseInfo;
  /** SHA256 of the verified Release text: equal texts mean an unchanged suite. */
  readonly releaseSha256: string;
  readonly files: readonly PackagesFileRef[];
  readonly packages: readonly DebianPackage[];
}

/** Compressions tried, best first: the first one the Release lists is fetched. */
const VARIANTS: ReadonlyArray<{ suffix: string; decoder: () => Transform | null }> = [
  { suffix: '.xz', decoder: () => new XzDecoder({ memlimit: 256 * 1024 * 1024, outputBytes: 1024 * 1024 }) },
  { suffix: '.gz', decoder: () => createGunzip() },
  { suffix: '', decoder: () => null },
];

const sha256Of = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Fetches, verifies and parses one suite: `dists/<suite>/InRelease` checked by gpgv against
 * the keyrings and its Valid-Until against the clock, then each component's Packages file
 * checked against the size and SHA256 the signed Release lists. Verified files are cached by
 * content, so an unchanged Packages file is never downloaded twice. When the archive cannot be
 * reached and there is no `previous` (start-up), the cached last good InRelease is verified
 * again and used. `previous` is the index in service: an unchanged Release returns it as is,
 * and a Release older than it is refused (a rollback).
 * @throws DebianIndexIntegrityError for a bad signature, an expired Release, a hash or size mismatch, a malformed file.
 * @throws DebianArchiveUnavailableError when the archive cannot be reached and nothing usable is cached.
 */
export async function fetchSuiteIndex(request: SuiteIndexRequest, previous?: SuiteIndex): Promise<SuiteIndex> {
  const archiveUrl = request.http.archiveUrl;
  const releasePath = `dists/${request.suite}/InRelease`;
  const refuse = (file: string, reason: string): DebianIndexIntegrityError => new DebianIndexIntegrityError(archiveUrl, file, reason);
  let signed: Buffer | null;
  let fromCache = false;
  try {
    signed = await request.http.get(releasePath, request.signal);
  } catch (error) {
    // The cached copy stands in only at start-up; a refresh that cannot reach the archive
    // fails, so the caller keeps its index and retries sooner.
    if (!(error instanceof DebianArchiveUnavailableError) || previous) throw error;
    signed = await request.cache.readInRelease(archiveUrl, request.suite);
    if (signed === null) throw error;
    fromCache = true;
  }
  if (signed === null) throw refuse(releasePath, 'the archive has no such file (is the suite name right?)');
  let text: string;
  try {
    text = (await verifyClearsigned(signed, { keyrings: request.keyrings, gpgv: request.gpgv, signal: request.signal })).text;
  } catch (error) {
    if (error instanceof SignatureError) throw refuse(releasePath, `${fromCache ? 'the cached copy: ' : ''}${error.message}`);
    throw error;
  }
  let release: ReleaseInfo;
  try {
    release = parseRelease(text);
  } catch (error) {
    throw refuse(releasePath, (error as Error).message);
  }
  // A validly signed Release of another suite (an old stable's, say) must not stand in for this one.
  if (release.suite !== request.suite && release.codename !== request.suite) {
    throw refuse(releasePath, `it is the Release of suite "${release.suite}" (codename "${release.codename}"), not of "${request.suite}"`);
  }
  const expired = releaseExpiry(release, request.now());
  if (expired !== null) throw refuse(releasePath, expired);
  const releaseSha256 = sha256Of(text);
  if (previous && previous.releaseSha256 === releaseSha256 && previous.architecture === request.architecture) return previous;
  if (previous?.release.date && release.date && release.date.getTime() < previous.release.date.getTime()) {
    throw refuse(releasePath, `it is dated ${release.date.toISOString()}, older than the one in service (${previous.release.date.toISOString()})`);
  }

  const files: PackagesFileRef[] = [];
  const packages: DebianPackage[] = [];
  const parser = new PackagesParser({ suite: request.suite, archiveUrl }, (pkg) => packages.push(pkg));
  for (const component of request.components) {
    const base = `${component}/binary-${request.architecture}/Packages`;
    const variant = VARIANTS.find((v) => release.sha256.has(`${base}${v.suffix}`));
    if (!variant) throw refuse(releasePath, `it lists no ${base} index (architecture or component not published?)`);
    const path = `${base}${variant.suffix}`;
    const listed = release.sha256.get(path) as ReleaseFile;
    const bytes = await fetchPackagesFile(request, release, path, listed, refuse);
    files.push({ path, sha256: listed.sha256, size: listed.size });
    try {
      await decodeInto(bytes, variant.decoder(), parser);
    } catch (error) {
      throw refuse(`dists/${request.suite}/${path}`, (error as Error).message);
    }
  }
  if (!fromCache) await request.cache.writeInRelease(archiveUrl, request.suite, signed);
  return { archiveUrl, suite: request.suite, architecture: request.architecture, release, releaseSha256, files, packages };
}

async function fetchPackagesFile(
  request: SuiteIndexRequest,
  release: ReleaseInfo,
  path: string,
  listed: ReleaseFile,
  refuse: (file: string, reason: string) => DebianIndexIntegrityError,
): Promise<Buffer> {
  const cached = await request.cache.readVerified(listed.sha256);
  if (cached !== null && cached.length === listed.size) return cached;
  const plain = `dists/${request.suite}/${path}`;
  // by-hash names cannot change under us while the mirror publishes a new Release.
  const byHash = `dists/${request.suite}/${path.slice(0, path.lastIndexOf('/'))}/by-hash/SHA256/${listed.sha256}`;
  let bytes = release.acquireByHash ? await request.http.get(byHash, request.signal) : null;
  bytes ??= await request.http.get(plain, request.signal);
  if (bytes === null) throw refuse(plain, 'the archive does not have the file its Release lists');
  if (bytes.length !== listed.size) throw refuse(plain, `it is ${bytes.length} bytes, the signed Release says ${listed.size}`);
  const actual = sha256Of(bytes);
  if (actual !== listed.sha256) throw refuse(plain, `its SHA256 is ${actual}, the signed Release says ${listed.sha256}`);
  await request.cache.writeVerified(listed.sha256, bytes);
  return bytes;
}

async function decodeInto(bytes: Buffer, decoder: Transform | null, parser: PackagesParser): Promise<void> {
  const source = Readable.from([bytes]);
  const stream = decoder ? source.pipe(decoder) : source;
  if (decoder) source.once('error', (error) => decoder.destroy(error));
  for await (const chunk of stream as AsyncIterable<Buffer>) parser.push(chunk);
  parser.end();
}
