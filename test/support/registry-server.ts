import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp, type App, type AppDeps } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const EXAMPLE_PACKAGE_SET = join(REPO_ROOT, 'examples/pkgs');

export interface RunningRegistry {
  readonly app: App;
  /** `127.0.0.1:PORT`, as clients name the registry. */
  readonly host: string;
  readonly url: string;
  readonly dataDir: string;
  /** Every Nix command the registry ran, in order. */
  readonly nixCommands: string[];
  close(): Promise<void>;
}

/**
 * Start a real registry on a free loopback port with its own data directory, the real Nix
 * source and the example package set (unless the config says otherwise).
 */
export async function startRegistry(config: ConfigInput = {}, deps: AppDeps = {}): Promise<RunningRegistry> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stowage-it-'));
  const nixCommands: string[] = [];
  const app = await buildApp(
    parseConfig({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      logLevel: 'warn',
      ...config,
      source: { kind: 'nix', packageSet: EXAMPLE_PACKAGE_SET, ...config.source },
    }),
    { env: process.env, onNixCommand: (command) => nixCommands.push(command), ...deps },
  );
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    app,
    host,
    url: `http://${host}`,
    dataDir,
    nixCommands,
    async close() {
      await app.server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
