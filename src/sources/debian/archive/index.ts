/**
 * The archive side of the Debian source: where indexes come from (the machine's apt sources),
 * how they are verified (gpgv, SHA256 against the signed Release) and cached, and which suites
 * a tag names. `DebianArchiveIndex` is the `DebianIndexProvider` the package side consumes.
 */
export { parseDeb822Sources, parseOneLineSources, readAptSources, type AptSource } from './apt-sources.js';
export { ArchiveHttpClient, DEFAULT_ARCHIVE_HTTP, type ArchiveHttpOptions } from './archive-http.js';
export { DebianArchiveIndex, type DebianArchiveIndexOptions } from './debian-archive-index.js';
export { DEFAULT_DEBIAN_KEYRING, SignatureError, verifyClearsigned, type GpgvOptions, type VerifiedClearsigned } from './gpgv.js';
export { IndexCache } from './index-cache.js';
export { PackagesFormatError, PackagesParser, parsePackages, type PackagesContext } from './packages-parser.js';
export { parseRelease, releaseExpiry, type ReleaseFile, type ReleaseInfo } from './release.js';
export { defaultRevisions, revisionMapOf, type RevisionMap } from './revisions.js';
export { buildSnapshot, snapshotFingerprint } from './snapshot.js';
export { fetchSuiteIndex, type PackagesFileRef, type SuiteIndex, type SuiteIndexRequest } from './suite-index.js';
