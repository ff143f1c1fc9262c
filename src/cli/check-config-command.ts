import { loadConfig } from '../config/load.js';
import { configFileArgument } from './arguments.js';

/** `stowage check-config [--config FILE]`: validate the configuration, print it, and exit. */
export async function checkConfigCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('usage: stowage check-config [--config FILE]\n\nValidate the configuration (file, then STOWAGE_* variables over it), print it with every default, exit.\n');
    return 0;
  }
  const file = configFileArgument(args, env);
  const config = await loadConfig({ ...(file ? { file } : {}), env });
  process.stdout.write(`configuration is valid${file ? ` (${file})` : ''}:\n${JSON.stringify(config, null, 2)}\n`);
  return 0;
}
