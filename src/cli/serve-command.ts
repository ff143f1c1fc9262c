import { buildApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { configFileArgument } from './arguments.js';

/** `stowage serve [--config FILE]`: serve until SIGINT or SIGTERM. */
export async function serveCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const file = configFileArgument(args, env);
  const config = await loadConfig({ ...(file ? { file } : {}), env });
  const { server, logger } = await buildApp(config, { env });

  await new Promise<void>((resolve, reject) => {
    const shutdown = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      server.close().then(resolve, reject);
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    server.listen({ host: config.host, port: config.port }).then(
      () => logger.info({ host: config.host, port: config.port, dataDir: config.dataDir, packageSet: config.source.packageSet }, 'stowage is serving'),
      reject,
    );
  });
  return 0;
}
