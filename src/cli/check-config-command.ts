import { loadConfig } from '../config/load.js';
import { configFileArgument } from './arguments.js';

/** `stowage check-config [--config FILE]`: validate the configuration, print it, and exit. */
export async function checkConfigCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const file = configFileArgument(args, env);
  const config = await loadConfig({ ...(file ? { file } : {}), env });
  process.stdout.write(`configuration is valid${file ? ` (${file})` : ''}:\n${JSON.stringify(config, null, 2)}\n`);
  return 0;
}
