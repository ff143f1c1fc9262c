import { writeFile } from 'node:fs/promises';
import { packageSetPopularity, popularityByName } from '../layering/index.js';
import { serialisePopularity } from '../builder/popularity-table.js';
import { ConfigError } from '../config/env.js';
import { commandConfig, parseCommandArgs, withApp } from './command-app.js';

/**
 * `stowage popularity [--output FILE] [--revision R] [ATTR...]`: realise every package of the
 * package set (or the named ones), and write how many packages' closures hold each store path,
 * keyed by store-path name. Put the file beside the package set as `popularity.json` (or name
 * it in `image.popularityFile`) and the layering groups paths that travel together.
 */
export async function popularityCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    output: { type: 'string', short: 'o' },
    revision: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write('usage: stowage popularity [--output FILE] [--revision R] [ATTR...]\n');
    return 0;
  }
  const config = await commandConfig(values, env);
  const revision = typeof values.revision === 'string' ? values.revision : 'latest';
  const system = config.source.systems[0] as string;
  return withApp(config, env, async (app) => {
    const signal = new AbortController().signal;
    let names = positionals;
    if (names.length === 0) {
      if (!app.source.listPackages) throw new ConfigError('this package source cannot list its packages: name them as arguments');
      names = (await app.source.listPackages({ revision, system }, { signal })).map((item) => item.name);
    }
    process.stderr.write(`popularity: realising ${names.length} packages\n`);
    const closure = await app.source.resolve({ packages: [...names].sort(), revision, system }, { signal });
    const graph = { nodes: closure.paths.map((info) => ({ path: info.path, narSize: info.narSize, references: info.references })), roots: closure.roots };
    const table = popularityByName(packageSetPopularity(graph));
    const text = serialisePopularity(table);
    if (typeof values.output === 'string') {
      await writeFile(values.output, text);
      process.stderr.write(`popularity: wrote ${table.size} store path names to ${values.output}\n`);
    } else {
      process.stdout.write(text);
    }
    return 0;
  });
}
