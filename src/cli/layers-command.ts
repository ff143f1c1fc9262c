import type { LayerPlan } from '../builder/image-builder.js';
import { isValidTag } from '../oci/reference.js';
import { BuildFailedError, PackageNotFoundError } from '../sources/errors.js';
import { ConfigError } from '../config/env.js';
import { commandConfig, formatBytes, commandImage, parseCommandArgs, withApp } from './command-app.js';

const USAGE = `usage: stowage layers <packages...> [--tag TAG] [--json] [--data-dir DIR] [--config FILE]

Print how the image of <packages...> is layered: each layer's store paths and their size (NAR
size, before compression). The packages are evaluated and realised with Nix (built if they
are not in the store yet); no layer is written.
`;

/** `stowage layers`: the layering plan of an image. */
export async function layersCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    tag: { type: 'string', short: 't' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new ConfigError(`layers needs packages\n\n${USAGE}`);
  const tag = typeof values.tag === 'string' ? values.tag : 'latest';
  if (!isValidTag(tag)) throw new ConfigError(`"${tag}" is not a valid tag`);
  const config = await commandConfig(values, env);
  return withApp(config, env, async (app) => {
    const image = commandImage(positionals, tag, config);
    let plans: LayerPlan[];
    try {
      plans = await app.builder.plan(image, AbortSignal.timeout(config.builds.timeoutMs));
    } catch (error) {
      if (error instanceof PackageNotFoundError || error instanceof BuildFailedError) {
        process.stderr.write(`stowage: ${error.message}\n`);
        if (error instanceof BuildFailedError && error.logTail) process.stderr.write(`${error.logTail}\n`);
        return 1;
      }
      throw error;
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ image: image.canonicalName, tag, maxLayers: config.image.maxLayers, plans }, null, 2)}\n`);
      return 0;
    }
    for (const plan of plans) process.stdout.write(formatPlan(`${image.canonicalName}:${tag}`, plan, config.image.maxLayers));
    return 0;
  });
}

/** The human-readable plan: a header, then one block per layer, bottom layer first. */
export function formatPlan(reference: string, plan: LayerPlan, maxLayers: number): string {
  const total = plan.layers.reduce((sum, layer) => sum + layer.narSize, 0);
  const lines = [
    `${reference} for ${plan.system}: ${plan.closurePaths} store paths, ${formatBytes(total)}, in ${plan.layers.length} layers plus the top layer (at most ${maxLayers} in all)`,
    '',
    `${'layer'.padStart(5)}  ${'size'.padStart(9)}  store paths`,
  ];
  plan.layers.forEach((layer, i) => {
    const [first, ...rest] = layer.paths;
    lines.push(`${String(i + 1).padStart(5)}  ${formatBytes(layer.narSize).padStart(9)}  ${first ?? ''}`);
    for (const path of rest) lines.push(`${''.padStart(5)}  ${''.padStart(9)}  ${path}`);
  });
  lines.push(`${'top'.padStart(5)}  ${''.padStart(9)}  /bin and /usr/bin links, /etc/passwd, /etc/group, /tmp, /root`, '');
  return `${lines.join('\n')}\n`;
}
