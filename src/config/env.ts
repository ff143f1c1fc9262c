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
  { name: 'STOWAGE_PACKAGE_SET', path: ['source', 'packageSet'], type: 'string', description: 'Nix package set: a path, or <nixpkgs>' },
  { name: 'STOWAGE_SYSTEMS', path: ['source', 'systems'], type: 'list', description: 'Nix systems to build for, comma-separated; the first is the default' },
  { name: 'STOWAGE_SHELL_PACKAGES', path: ['source', 'shellPackages'], type: 'list', description: 'attributes the shell meta-package adds (comma-separated)' },
  { name: 'STOWAGE_NIX_BIN_DIR', path: ['source', 'nixBinDir'], type: 'string', description: 'directory of the Nix commands (default: PATH)' },
  { name: 'STOWAGE_NIX_SUBSTITUTERS', path: ['source', 'substituters'], type: 'string', description: 'binary caches Nix may substitute from (space-separated)' },
  { name: 'STOWAGE_NIX_TRUSTED_PUBLIC_KEYS', path: ['source', 'trustedPublicKeys'], type: 'string', description: 'keys trusted for the substituters' },
  { name: 'STOWAGE_NIX_SYSTEM_CONFIG', path: ['source', 'useSystemConfig'], type: 'boolean', description: "use the machine's /etc/nix configuration" },
  { name: 'STOWAGE_NIX_TIMEOUT_MS', path: ['source', 'timeoutMs'], type: 'number', description: 'limit for one Nix evaluation or build' },
  { name: 'STOWAGE_MAX_LAYERS', path: ['image', 'maxLayers'], type: 'number', description: 'most layers per image, top layer included' },
  { name: 'STOWAGE_COMPRESSION', path: ['image', 'compression'], type: 'string', description: 'layer compression: gzip or zstd' },
  { name: 'STOWAGE_GZIP_LEVEL', path: ['image', 'gzipLevel'], type: 'number', description: 'gzip level for layers' },
  { name: 'STOWAGE_ZSTD_LEVEL', path: ['image', 'zstdLevel'], type: 'number', description: 'zstd level for layers' },
  { name: 'STOWAGE_MAX_PACKAGES', path: ['image', 'maxPackages'], type: 'number', description: 'most packages in one image name' },
  { name: 'STOWAGE_BUILD_CONCURRENCY', path: ['builds', 'concurrency'], type: 'number', description: 'image builds running at once' },
  { name: 'STOWAGE_BUILD_MAX_QUEUED', path: ['builds', 'maxQueued'], type: 'number', description: 'builds allowed to wait before 429' },
  { name: 'STOWAGE_BUILD_TIMEOUT_MS', path: ['builds', 'timeoutMs'], type: 'number', description: 'limit for one image build' },
  { name: 'STOWAGE_BUILD_REQUEST_WAIT_MS', path: ['builds', 'requestWaitMs'], type: 'number', description: 'how long a pull waits for a running build before 503 with Retry-After' },
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
