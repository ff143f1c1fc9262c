import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/config/env.js';

describe('loadConfig', () => {
  it('fills defaults for the embedded setup', async () => {
    const config = await loadConfig({ env: {} });
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(5000);
    expect(config.source.packageSet).toBe('examples/pkgs');
    expect(config.image.maxLayers).toBeLessThan(125);
  });

  it('layers the file under environment variables', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-config-'));
    const file = join(dir, 'config.yaml');
    await writeFile(file, 'port: 6000\nimage:\n  compression: zstd\n  maxLayers: 50\n');
    const config = await loadConfig({ file, env: { STOWAGE_PORT: '7000', STOWAGE_SHELL_PACKAGES: 'bash, coreutils' } });
    expect(config.port).toBe(7000);
    expect(config.image.compression).toBe('zstd');
    expect(config.image.maxLayers).toBe(50);
    expect(config.source.shellPackages).toEqual(['bash', 'coreutils']);
  });

  it('rejects unknown keys and bad values with the key named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stowage-config-'));
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ prot: 1, image: { maxLayers: 500 } }));
    const error = await loadConfig({ file, env: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('prot');
    expect((error as Error).message).toContain('image.maxLayers');
  });

  it('refuses more than one serving worker with the in-process metadata store, and takes it with redis', async () => {
    const error = await loadConfig({ env: { STOWAGE_SERVER_WORKERS: '2' } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('server.workers');
    expect((error as Error).message).toContain('metadata.backend redis');
    const config = await loadConfig({ env: { STOWAGE_SERVER_WORKERS: '2', STOWAGE_METADATA_BACKEND: 'redis' } });
    expect(config.server.workers).toBe(2);
    expect((await loadConfig({ env: {} })).server.workers).toBe(1);
  });

  it('rejects malformed environment values', async () => {
    await expect(loadConfig({ env: { STOWAGE_PORT: 'eighty' } })).rejects.toThrow(/STOWAGE_PORT/);
    await expect(loadConfig({ env: { STOWAGE_NIX_SYSTEM_CONFIG: 'maybe' } })).rejects.toThrow(/STOWAGE_NIX_SYSTEM_CONFIG/);
  });
});
