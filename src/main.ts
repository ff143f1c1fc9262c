import { buildApp } from './app.js';
import { loadConfig } from './config/load.js';
import { ConfigError } from './config/env.js';

/**
 * `node dist/src/main.js [--config FILE]`: load the config, serve until SIGINT or SIGTERM.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const configIndex = args.indexOf('--config');
  const file = configIndex >= 0 ? args[configIndex + 1] : process.env.STOWAGE_CONFIG;
  const config = await loadConfig({ ...(file ? { file } : {}), env: process.env });
  const { server, logger } = await buildApp(config, { env: process.env });

  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));

  await server.listen({ host: config.host, port: config.port });
  logger.info({ host: config.host, port: config.port, dataDir: config.dataDir, packageSet: config.source.packageSet }, 'stowage is serving');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`stowage: ${error.message}\n`);
  } else {
    process.stderr.write(`stowage: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  }
  process.exit(1);
});
