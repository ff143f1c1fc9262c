import { join, resolve } from 'node:path';
import type { Config } from './config/schema.js';
import { ConfigError } from './config/env.js';
import type { Logger } from './log/logger.js';
import { readAptSources, type AptSource } from './sources/debian/archive/apt-sources.js';
import { DebianArchiveIndex } from './sources/debian/archive/debian-archive-index.js';
import { HttpDebFetcher, type HttpDebFetcherOptions } from './sources/debian/deb-fetcher.js';
import { DebianPackageSource } from './sources/debian/debian-package-source.js';
import { debianNameOf, debianPopularity, ociSpellingOf, resolveClosure } from './sources/debian/resolve/index.js';

/** Hooks for tests: count downloads, replace the HTTP client. */
export type DebianFetcherHooks = Pick<HttpDebFetcherOptions, 'get' | 'onDownload'>;

/**
 * The Debian source from `source.debian`: archives from the machine's apt sources (or the
 * configured mirror URLs), indexes verified and cached under the cache dir, `.deb`s fetched
 * on demand into a verified, bounded cache. Nothing is fetched here; the first request does.
 * @throws ConfigError when no archive or suite is left to serve.
 */
export async function createDebianSource(config: Config, dataDir: string, log: Logger, hooks: DebianFetcherHooks = {}): Promise<DebianPackageSource> {
  const settings = config.source.debian;
  const cacheDir = settings.cacheDir ? resolve(settings.cacheDir) : resolve(dataDir, 'debian');
  const sources = archivesOf(config, await readAptSources(settings.aptDir));
  if (sources.length === 0) throw new ConfigError(`source.debian: no archive to serve (apt sources in ${settings.aptDir}, suites ${settings.suites.join(', ') || 'all'})`);
  let index: DebianArchiveIndex;
  try {
    index = new DebianArchiveIndex({
      sources,
      architectures: settings.architectures,
      cacheDir: join(cacheDir, 'index'),
      refreshIntervalMs: settings.refreshIntervalMs,
      keyring: settings.keyring,
      http: { timeoutMs: settings.timeoutMs, retries: settings.retries, onRetry: (info) => log.warn(info, 'Debian index request failed; retrying') },
      onRefreshError: ({ suite, architecture, error }) => log.warn({ suite, architecture, reason: error.message }, 'Debian index refresh failed; serving the last good index'),
    });
  } catch (error) {
    throw new ConfigError(`source.debian: ${(error as Error).message}`);
  }
  const fetcher = new HttpDebFetcher({
    dir: join(cacheDir, 'debs'),
    concurrency: settings.concurrency,
    retries: settings.retries,
    timeoutMs: settings.timeoutMs,
    backoffMs: 500,
    maxBytes: settings.cacheMaxBytes,
    onRetry: (info) => log.warn(info, '.deb download failed; retrying'),
    ...hooks,
  });
  log.info({ archives: [...new Set(sources.map((source) => source.uri))], revisions: index.revisions() }, 'serving Debian packages');
  return new DebianPackageSource({
    index,
    resolveClosure: (snapshot, names) => resolveClosure(snapshot, names),
    files: fetcher,
    // A component that spells no Debian name stays as written, so it is reported unknown.
    debianName: (component) => debianNameOf(component) ?? component,
    ociName: (name) => ociSpellingOf(name) ?? name,
    popularity: (snapshot) => debianPopularity(snapshot),
  });
}

/** The apt sources, or the configured mirrors in their place; narrowed to the configured suites. */
function archivesOf(config: Config, apt: readonly AptSource[]): AptSource[] {
  const settings = config.source.debian;
  const aptSuites = [...new Set(apt.flatMap((source) => source.suites))];
  const suites = (available: readonly string[]): string[] => (settings.suites.length > 0 ? available.filter((suite) => settings.suites.includes(suite)) : [...available]);
  if (settings.archives.length > 0) {
    const wanted = settings.suites.length > 0 ? settings.suites : aptSuites;
    return settings.archives.map((uri) => ({
      uri: uri.endsWith('/') ? uri : `${uri}/`,
      suites: [...wanted],
      components: settings.components,
      signedBy: null,
      architectures: [],
      origin: 'source.debian.archives',
    }));
  }
  return apt.map((source) => ({ ...source, suites: suites(source.suites) })).filter((source) => source.suites.length > 0);
}
