/**
 * The environment variables stowage reads, each mapped to one config key. This table is the
 * only place environment variables are interpreted; the README's configuration table follows it.
 */
export interface EnvBinding {
  readonly name: string;
  readonly path: readonly string[];
  readonly type: 'string' | 'number' | 'boolean' | 'list';
  readonly description: string;
}

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { name: 'STOWAGE_HOST', path: ['host'], type: 'string', description: 'address to listen on' },
  { name: 'STOWAGE_PORT', path: ['port'], type: 'number', description: 'port to listen on' },
  { name: 'STOWAGE_DATA_DIR', path: ['dataDir'], type: 'string', description: 'directory for blobs, metadata and Nix settings' },
  { name: 'STOWAGE_LOG_LEVEL', path: ['logLevel'], type: 'string', description: 'pino log level' },
  { name: 'STOWAGE_PACKAGE_SET', path: ['source', 'packageSet'], type: 'string', description: 'Nix package set: a path, <nixpkgs>, or a git repository or URL' },
  { name: 'STOWAGE_PACKAGE_SET_TYPE', path: ['source', 'packageSetType'], type: 'string', description: 'auto, path or git' },
  { name: 'STOWAGE_GIT_REFRESH_MS', path: ['source', 'gitRefreshMs'], type: 'number', description: 'how often git branches and tags are re-read' },
  { name: 'STOWAGE_SYSTEMS', path: ['source', 'systems'], type: 'list', description: 'Nix systems to build for, comma-separated; the first is the default' },
  { name: 'STOWAGE_SHELL_PACKAGES', path: ['source', 'shellPackages'], type: 'list', description: 'attributes the shell meta-package adds (comma-separated)' },
  { name: 'STOWAGE_NIX_BIN_DIR', path: ['source', 'nixBinDir'], type: 'string', description: 'directory of the Nix commands (default: PATH)' },
  { name: 'STOWAGE_NIX_SUBSTITUTERS', path: ['source', 'substituters'], type: 'string', description: 'binary caches Nix may substitute from (space-separated)' },
  { name: 'STOWAGE_NIX_TRUSTED_PUBLIC_KEYS', path: ['source', 'trustedPublicKeys'], type: 'string', description: 'keys trusted for the substituters' },
  { name: 'STOWAGE_NIX_SYSTEM_CONFIG', path: ['source', 'useSystemConfig'], type: 'boolean', description: "use the machine's /etc/nix configuration" },
  { name: 'STOWAGE_NIX_TIMEOUT_MS', path: ['source', 'timeoutMs'], type: 'number', description: 'limit for one Nix evaluation or build' },
  { name: 'STOWAGE_SOURCE', path: ['source', 'kind'], type: 'string', description: 'package source: routed, nix, debian, catalog or mixed' },
  { name: 'STOWAGE_DEBIAN_ARCHIVES', path: ['source', 'debian', 'archives'], type: 'list', description: "Debian archive URLs replacing the apt sources' (comma-separated)" },
  { name: 'STOWAGE_DEBIAN_APT_DIR', path: ['source', 'debian', 'aptDir'], type: 'string', description: 'apt configuration directory the archives are read from' },
  { name: 'STOWAGE_DEBIAN_SUITES', path: ['source', 'debian', 'suites'], type: 'list', description: 'Debian suites served (default: those of the apt sources)' },
  { name: 'STOWAGE_DEBIAN_COMPONENTS', path: ['source', 'debian', 'components'], type: 'list', description: 'components read from STOWAGE_DEBIAN_ARCHIVES' },
  { name: 'STOWAGE_DEBIAN_ARCHITECTURES', path: ['source', 'debian', 'architectures'], type: 'list', description: 'Debian architectures indexed' },
  { name: 'STOWAGE_DEBIAN_KEYRING', path: ['source', 'debian', 'keyring'], type: 'string', description: 'keyring for sources without Signed-By' },
  { name: 'STOWAGE_DEBIAN_CACHE_DIR', path: ['source', 'debian', 'cacheDir'], type: 'string', description: 'Debian index and .deb cache (default: <dataDir>/debian)' },
  { name: 'STOWAGE_DEBIAN_CACHE_MAX_BYTES', path: ['source', 'debian', 'cacheMaxBytes'], type: 'number', description: 'most bytes of .deb files cached' },
  { name: 'STOWAGE_DEBIAN_REFRESH_MS', path: ['source', 'debian', 'refreshIntervalMs'], type: 'number', description: 'age at which a Debian index is refreshed' },
  { name: 'STOWAGE_DEBIAN_CONCURRENCY', path: ['source', 'debian', 'concurrency'], type: 'number', description: '.deb downloads at once' },
  { name: 'STOWAGE_DEBIAN_RETRIES', path: ['source', 'debian', 'retries'], type: 'number', description: 'retries of a failed Debian download' },
  { name: 'STOWAGE_DEBIAN_TIMEOUT_MS', path: ['source', 'debian', 'timeoutMs'], type: 'number', description: 'limit for one Debian download' },
  { name: 'STOWAGE_DEBIAN_SHELL_PACKAGES', path: ['source', 'debian', 'shellPackages'], type: 'list', description: 'Debian packages the shell meta-package adds (comma-separated)' },
  { name: 'STOWAGE_CATALOGS', path: ['source', 'catalogs'], type: 'list', description: 'catalog files or directories (comma-separated)' },
  { name: 'STOWAGE_CACHE_URL', path: ['source', 'binaryCache', 'url'], type: 'string', description: 'binary cache: file://, http(s):// or s3:// URL' },
  { name: 'STOWAGE_CACHE_PUBLIC_KEYS', path: ['source', 'binaryCache', 'trustedPublicKeys'], type: 'list', description: 'keys trusted to sign narinfos (comma-separated)' },
  { name: 'STOWAGE_CACHE_ALLOW_UNSIGNED', path: ['source', 'binaryCache', 'allowUnsigned'], type: 'boolean', description: 'accept narinfos with no trusted signature' },
  { name: 'STOWAGE_CACHE_CONCURRENCY', path: ['source', 'binaryCache', 'concurrency'], type: 'number', description: 'requests to the binary cache at once' },
  { name: 'STOWAGE_CACHE_RETRIES', path: ['source', 'binaryCache', 'retries'], type: 'number', description: 'retries of a failed binary-cache request' },
  { name: 'STOWAGE_CACHE_TIMEOUT_MS', path: ['source', 'binaryCache', 'timeoutMs'], type: 'number', description: 'limit for one binary-cache request' },
  { name: 'STOWAGE_CACHE_MAX_NAR_SIZE', path: ['source', 'binaryCache', 'maxNarSize'], type: 'number', description: 'largest NarSize accepted' },
  { name: 'STOWAGE_MAX_LAYERS', path: ['image', 'maxLayers'], type: 'number', description: 'most layers per image, top layer included' },
  { name: 'STOWAGE_ADAPTIVE_LAYERS', path: ['image', 'adaptiveLayers'], type: 'boolean', description: 'fewest layers within 1% of the layering at maxLayers' },
  { name: 'STOWAGE_COMPRESSION', path: ['image', 'compression'], type: 'string', description: 'layer compression: gzip or zstd' },
  { name: 'STOWAGE_GZIP_LEVEL', path: ['image', 'gzipLevel'], type: 'number', description: 'gzip level for layers' },
  { name: 'STOWAGE_ZSTD_LEVEL', path: ['image', 'zstdLevel'], type: 'number', description: 'zstd level for layers' },
  { name: 'STOWAGE_POPULARITY_FILE', path: ['image', 'popularityFile'], type: 'string', description: 'package-set popularity table for layering' },
  { name: 'STOWAGE_CO_OCCURRENCE', path: ['image', 'coOccurrence', 'enabled'], type: 'boolean', description: 'layer with which packages built images ship together' },
  { name: 'STOWAGE_CO_OCCURRENCE_PERIOD_MS', path: ['image', 'coOccurrence', 'periodMs'], type: 'number', description: 'least time between two co-occurrence tables' },
  { name: 'STOWAGE_CO_OCCURRENCE_WINDOW', path: ['image', 'coOccurrence', 'window'], type: 'number', description: 'recent distinct images the table is computed from' },
  { name: 'STOWAGE_CO_OCCURRENCE_FILE', path: ['image', 'coOccurrence', 'file'], type: 'string', description: 'frozen co-occurrence table file instead of the recorded window' },
  { name: 'STOWAGE_MAX_PACKAGES', path: ['image', 'maxPackages'], type: 'number', description: 'most packages in one image name' },
  { name: 'STOWAGE_AUTH_HTPASSWD_FILE', path: ['auth', 'htpasswdFile'], type: 'string', description: 'htpasswd file (bcrypt) of users who may push and delete' },
  { name: 'STOWAGE_AUTH_ANONYMOUS_PULL', path: ['auth', 'anonymousPull'], type: 'boolean', description: 'whether pulls need no credentials' },
  { name: 'STOWAGE_AUTH_REALM', path: ['auth', 'realm'], type: 'string', description: 'realm named in WWW-Authenticate challenges' },
  { name: 'STOWAGE_AUTH_TOKEN_ENABLED', path: ['auth', 'token', 'enabled'], type: 'boolean', description: 'the Docker token flow (Bearer challenges, /token)' },
  { name: 'STOWAGE_AUTH_TOKEN_SERVICE', path: ['auth', 'token', 'service'], type: 'string', description: 'service named in Bearer challenges and tokens' },
  { name: 'STOWAGE_AUTH_TOKEN_REALM', path: ['auth', 'token', 'realm'], type: 'string', description: 'token endpoint URL in Bearer challenges' },
  { name: 'STOWAGE_AUTH_TOKEN_KEY_FILE', path: ['auth', 'token', 'keyFile'], type: 'string', description: 'P-256 private key (PEM) signing tokens' },
  { name: 'STOWAGE_AUTH_TOKEN_TTL_SECONDS', path: ['auth', 'token', 'ttlSeconds'], type: 'number', description: 'lifetime of issued tokens' },
  { name: 'STOWAGE_AUTH_TOKEN_REFRESH_TTL_SECONDS', path: ['auth', 'token', 'refreshTtlSeconds'], type: 'number', description: 'lifetime of refresh tokens' },
  { name: 'STOWAGE_AUTH_TOKEN_CHALLENGE_ANONYMOUS_READS', path: ['auth', 'token', 'challengeAnonymousReads'], type: 'boolean', description: 'challenge anonymous /v2/ reads too' },
  { name: 'STOWAGE_DELETES', path: ['push', 'deletes'], type: 'boolean', description: 'whether pushed manifests, tags and blobs may be deleted' },
  { name: 'STOWAGE_UPLOAD_TTL_MS', path: ['push', 'uploadTtlMs'], type: 'number', description: 'upload sessions untouched this long are discarded' },
  { name: 'STOWAGE_MAX_UPLOADS', path: ['push', 'maxUploads'], type: 'number', description: 'upload sessions open at once before 429' },
  { name: 'STOWAGE_MAX_UPLOADS_PER_USER', path: ['push', 'maxUploadsPerUser'], type: 'number', description: 'upload sessions one user may hold open at once before 429' },
  { name: 'STOWAGE_PUSH_NAMESPACES', path: ['push', 'namespaces'], type: 'list', description: 'repository prefixes pushes may always go to (comma-separated)' },
  { name: 'STOWAGE_BUILD_CONCURRENCY', path: ['builds', 'concurrency'], type: 'number', description: 'image builds running at once' },
  { name: 'STOWAGE_BUILD_LAYER_PARALLELISM', path: ['builds', 'layerParallelism'], type: 'number', description: 'layers built and gzip threads at once; 0 = one per core' },
  { name: 'STOWAGE_BUILD_MAX_QUEUED', path: ['builds', 'maxQueued'], type: 'number', description: 'builds allowed to wait before 429' },
  { name: 'STOWAGE_BUILD_MAX_PER_CLIENT', path: ['builds', 'maxPerClient'], type: 'number', description: 'builds one client address may have running or waiting before 429' },
  { name: 'STOWAGE_BUILD_TIMEOUT_MS', path: ['builds', 'timeoutMs'], type: 'number', description: 'limit for one image build' },
  { name: 'STOWAGE_BUILD_REQUEST_WAIT_MS', path: ['builds', 'requestWaitMs'], type: 'number', description: 'how long a pull waits for a running build before 503 with Retry-After; 0 = until the build ends' },
  { name: 'STOWAGE_TLS_CERT_FILE', path: ['server', 'tlsCertFile'], type: 'string', description: 'PEM certificate chain for HTTPS (reloaded when it changes)' },
  { name: 'STOWAGE_TLS_KEY_FILE', path: ['server', 'tlsKeyFile'], type: 'string', description: 'PEM private key for HTTPS' },
  { name: 'STOWAGE_HTTP2', path: ['server', 'http2'], type: 'boolean', description: 'offer HTTP/2 besides HTTP/1.1 with TLS' },
  { name: 'STOWAGE_DRAIN_MS', path: ['server', 'drainMs'], type: 'number', description: 'after SIGTERM, serve this long with /readyz failing, then close' },
  { name: 'STOWAGE_KEEP_ALIVE_TIMEOUT_MS', path: ['server', 'keepAliveTimeoutMs'], type: 'number', description: 'idle keep-alive connections close after this long' },
  { name: 'STOWAGE_SERVER_WORKERS', path: ['server', 'workers'], type: 'number', description: 'serving processes sharing the port; more than 1 needs STOWAGE_METADATA_BACKEND=redis' },
  { name: 'STOWAGE_BODY_IDLE_TIMEOUT_MS', path: ['server', 'bodyIdleTimeoutMs'], type: 'number', description: 'a request body that stalls this long is answered 408 and cut' },
  { name: 'STOWAGE_ACCEL_REDIRECT_PREFIX', path: ['server', 'accelRedirectPrefix'], type: 'string', description: 'behind nginx: its internal location of the fs blob store; blob GETs marked by the proxy are answered with X-Accel-Redirect' },
  { name: 'STOWAGE_TRUST_PROXY', path: ['server', 'trustProxy'], type: 'list', description: 'proxies whose X-Forwarded-For gives the client address (addresses, CIDRs, loopback)' },
  { name: 'STOWAGE_GC_IMAGE_RECORD_TTL_MS', path: ['gc', 'imageRecordTtlMs'], type: 'number', description: 'stowage gc forgets built images not pulled this long; 0 = never' },
  { name: 'STOWAGE_STORAGE_BACKEND', path: ['storage', 'backend'], type: 'string', description: 'blob storage: fs or s3' },
  { name: 'STOWAGE_S3_BUCKET', path: ['storage', 's3', 'bucket'], type: 'string', description: 'S3 bucket for blobs' },
  { name: 'STOWAGE_S3_REGION', path: ['storage', 's3', 'region'], type: 'string', description: 'S3 region' },
  { name: 'STOWAGE_S3_ENDPOINT', path: ['storage', 's3', 'endpoint'], type: 'string', description: 'S3-compatible endpoint URL (empty: AWS)' },
  { name: 'STOWAGE_S3_PUBLIC_ENDPOINT', path: ['storage', 's3', 'publicEndpoint'], type: 'string', description: 'endpoint used in redirect URLs (empty: the endpoint)' },
  { name: 'STOWAGE_S3_FORCE_PATH_STYLE', path: ['storage', 's3', 'forcePathStyle'], type: 'boolean', description: 'path-style S3 URLs' },
  { name: 'STOWAGE_S3_PREFIX', path: ['storage', 's3', 'prefix'], type: 'string', description: 'key prefix in the bucket' },
  { name: 'STOWAGE_S3_REDIRECT', path: ['storage', 's3', 'redirect'], type: 'boolean', description: 'redirect blob GETs to presigned S3 URLs' },
  { name: 'STOWAGE_S3_PRESIGN_TTL_SECONDS', path: ['storage', 's3', 'presignTtlSeconds'], type: 'number', description: 'validity of presigned URLs' },
  { name: 'STOWAGE_S3_MAX_ATTEMPTS', path: ['storage', 's3', 'maxAttempts'], type: 'number', description: 'attempts per S3 request' },
  { name: 'STOWAGE_METADATA_BACKEND', path: ['metadata', 'backend'], type: 'string', description: 'metadata and locks: fs or redis' },
  { name: 'STOWAGE_REDIS_URL', path: ['metadata', 'redis', 'url'], type: 'string', description: 'Redis URL' },
  { name: 'STOWAGE_REDIS_PASSWORD_FILE', path: ['metadata', 'redis', 'passwordFile'], type: 'string', description: 'file holding the Redis password' },
  { name: 'STOWAGE_REDIS_KEY_PREFIX', path: ['metadata', 'redis', 'keyPrefix'], type: 'string', description: 'prefix of Redis keys' },
  { name: 'STOWAGE_REDIS_LOCK_TTL_MS', path: ['metadata', 'redis', 'lockTtlMs'], type: 'number', description: 'build lock expiry (renewed while held)' },
  { name: 'STOWAGE_REDIS_COMMAND_TIMEOUT_MS', path: ['metadata', 'redis', 'commandTimeoutMs'], type: 'number', description: 'Redis command timeout' },
  { name: 'STOWAGE_WEB_UI', path: ['web', 'enabled'], type: 'boolean', description: 'serve the landing page, image explorer and their API' },
  { name: 'STOWAGE_PUBLIC_HOST', path: ['web', 'publicHost'], type: 'string', description: 'host[:port] shown in pull commands (default: the request Host)' },
  { name: 'STOWAGE_METRICS', path: ['metrics', 'enabled'], type: 'boolean', description: 'serve Prometheus metrics at /metrics' },
];

/** Config values from environment variables, as a nested object to merge over the file's. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const binding of ENV_BINDINGS) {
    const raw = env[binding.name];
    if (raw === undefined || raw === '') continue;
    setPath(result, binding.path, parseValue(binding, raw));
  }
  return result;
}

function parseValue(binding: EnvBinding, raw: string): unknown {
  switch (binding.type) {
    case 'number': {
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new ConfigError(`${binding.name} must be a number, got "${raw}"`);
      return value;
    }
    case 'boolean':
      if (!['true', 'false', '1', '0'].includes(raw)) {
        throw new ConfigError(`${binding.name} must be true or false, got "${raw}"`);
      }
      return raw === 'true' || raw === '1';
    case 'list':
      return raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
    case 'string':
      return raw;
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else node = node[key] = {};
  }
  node[path[path.length - 1] as string] = value;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
