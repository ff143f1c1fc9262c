import cluster from 'node:cluster';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { configFileArgument } from './arguments.js';
import { runPrimary } from './cluster-primary.js';
import { clusterWorker } from './cluster-worker.js';

const USAGE = `usage: stowage serve [--config FILE]

Serve the registry (and the web UI and /metrics unless turned off) until SIGINT or SIGTERM.
Settings come from the config file (or STOWAGE_CONFIG) and STOWAGE_* variables; see the README.
SIGTERM shuts down gracefully: /readyz fails at once, requests are still served for
server.drainMs, then the server stops accepting, finishes what is in flight and exits.
A second signal exits at once. With server.workers > 1, that many worker processes share
the port and this process only starts, replaces and signals them.
`;

/** `stowage serve [--config FILE]`: serve until SIGINT or SIGTERM. */
export async function serveCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const file = configFileArgument(args, env);
  const config = await loadConfig({ ...(file ? { file } : {}), env });
  if (config.server.workers > 1 && cluster.isPrimary) return runPrimary(config, createLogger(config.logLevel));
  const worker = clusterWorker(env);
  const { server, logger, drain, metrics } = await buildApp(config, {
    env,
    ...(worker ? { metricsText: () => worker.metricsText(), recoverUploads: worker.recoversUploads, logger: createLogger(config.logLevel).child({ worker: worker.id }) } : {}),
  });
  worker?.report(metrics.registry);

  await new Promise<void>((resolve, reject) => {
    const shutdown = (signal: string): void => {
      if (drain.draining) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      drain.begin();
      logger.info({ signal, drainMs: config.server.drainMs }, 'shutting down: draining');
      sleep(config.server.drainMs)
        .then(() => {
          logger.info('drain over: finishing requests in flight and closing');
          return server.close();
        })
        .then(resolve, reject);
    };
    // A worker's SIGINT reaches it from the terminal beside the primary's SIGTERM: only the latter counts.
    process.on('SIGINT', () => (worker ? undefined : shutdown('SIGINT')));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    server.listen({ host: config.host, port: config.port }).then(
      () => {
        const tls = config.server.tlsCertFile !== '';
        logger.info({ host: config.host, port: config.port, tls, http2: tls && config.server.http2, dataDir: config.dataDir, packageSet: config.source.packageSet }, 'stowage is serving');
      },
      reject,
    );
  });
  logger.info('stopped');
  return 0;
}
