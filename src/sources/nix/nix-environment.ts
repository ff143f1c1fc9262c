import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Variables passed through from stowage's own environment to Nix commands. */
const PASSED_THROUGH = [
  'PATH', 'HOME', 'USER', 'LANG', 'TMPDIR', 'NIX_PATH', 'NIX_REMOTE', 'NIX_STORE_DIR', 'NIX_STATE_DIR',
  'NIX_LOG_DIR', 'NIX_SSL_CERT_FILE', 'SSL_CERT_FILE', 'NIX_USER_CONF_FILES',
] as const;

export interface NixEnvironmentOptions {
  /** Where stowage keeps its Nix settings and Nix's caches. */
  readonly dir: string;
  readonly useSystemConfig: boolean;
  readonly substituters: string;
  readonly trustedPublicKeys: string;
}

/**
 * The environment every Nix command runs with. Unless told to use the machine's configuration,
 * stowage writes a nix.conf of its own: the defaults of Debian's nix-bin break an offline root
 * build (they want a nixbld group and cache.nixos.org), and the operator decides substituters in
 * stowage's config, not in /etc/nix. Nix's narinfo cache goes under `dir` too, so it never mixes
 * with the user's ~/.cache.
 */
export async function prepareNixEnvironment(
  options: NixEnvironmentOptions,
  parentEnv: Readonly<Record<string, string | undefined>>,
): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = parentEnv[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  const cacheDir = join(options.dir, 'cache');
  await mkdir(cacheDir, { recursive: true });
  env.XDG_CACHE_HOME = cacheDir;
  if (!options.useSystemConfig) {
    const confDir = join(options.dir, 'etc');
    await mkdir(confDir, { recursive: true });
    await writeFile(join(confDir, 'nix.conf'), nixConf(options));
    env.NIX_CONF_DIR = confDir;
    // A user-level nix.conf would override ours; only an explicit setting may add one.
    env.NIX_USER_CONF_FILES = parentEnv.NIX_USER_CONF_FILES ?? join(confDir, 'nix.conf');
  }
  return env;
}

function nixConf(options: NixEnvironmentOptions): string {
  return [
    '# Written by stowage at startup; edit stowage\'s configuration instead.',
    'build-users-group =',
    `substituters = ${options.substituters}`,
    'trusted-substituters =',
    `trusted-public-keys = ${options.trustedPublicKeys}`,
    'experimental-features = nix-command',
    'sandbox = true',
    'connect-timeout = 10',
    '',
  ].join('\n');
}
