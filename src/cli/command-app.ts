import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pino } from 'pino';
import { buildApp, imageNameOptionsOf, type App } from '../app.js';
import { loadConfig, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/env.js';
import { parseImageName, type ParsedImageName } from '../image-name/image-name.js';
import { InvalidImageNameError } from '../image-name/errors.js';

/** Options every offline command takes besides its own. */
export const COMMON_OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** Parse a command's arguments; unknown options are a ConfigError (exit 1 with the message). */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

/** The configuration, with `--data-dir` over it, for a command that runs without a server. */
export async function commandConfig(values: { config?: string | boolean; 'data-dir'?: string | boolean }, env: NodeJS.ProcessEnv): Promise<Config> {
  const file = typeof values.config === 'string' ? values.config : env.STOWAGE_CONFIG || undefined;
  const config = await loadConfig({ ...(file ? { file } : {}), env });
  return typeof values['data-dir'] === 'string' ? parseConfig({ ...config, dataDir: values['data-dir'] }) : config;
}

/**
 * Run `fn` with the same composition the server uses (stores, Nix source, builder) but no
 * listening socket; logs go to stderr at `warn` unless the config asks for less, so stdout
 * stays the command's output.
 */
export async function withApp<T>(config: Config, env: NodeJS.ProcessEnv, fn: (app: App) => Promise<T>): Promise<T> {
  const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
  const logger = pino({ level, base: { service: 'stowage' } }, pino.destination(2));
  const app = await buildApp(config, { env, logger });
  try {
    return await fn(app);
  } finally {
    await app.server.close();
  }
}

/** The image the positionals name, as the server would parse it. @throws ConfigError */
export function commandImage(positionals: readonly string[], tag: string, config: Config): ParsedImageName {
  try {
    return parseImageName(imageNameOf(positionals), tag, imageNameOptionsOf(config));
  } catch (error) {
    if (error instanceof InvalidImageNameError) throw new ConfigError(error.message);
    throw error;
  }
}

/** The image name from positionals: `shell/hello` and `shell hello` are the same image. */
export function imageNameOf(positionals: readonly string[]): string {
  return positionals.flatMap((part) => part.split('/')).filter((part) => part !== '').join('/');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
