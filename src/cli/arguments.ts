/** The config file named by `--config FILE` (or `--config=FILE`), else `STOWAGE_CONFIG`. */
export function configFileArgument(args: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] as string;
    if (arg === '--config') return args[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return env.STOWAGE_CONFIG || undefined;
}
