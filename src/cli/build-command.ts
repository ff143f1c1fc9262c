import { resolve } from 'node:path';
import { writeOciLayout } from '../builder/oci-layout.js';
import { readBlob } from '../storage/blob-io.js';
import { isValidTag } from '../oci/reference.js';
import { BuildFailedError, PackageNotFoundError } from '../sources/errors.js';
import { ConfigError } from '../config/env.js';
import { commandConfig, formatBytes, commandImage, parseCommandArgs, withApp } from './command-app.js';
import { createProgressReporter } from './progress.js';

const USAGE = `usage: stowage build <packages...> --output DIR [--tag TAG] [--data-dir DIR] [--config FILE] [--quiet]

Build the image of <packages...> (as in a pull: "shell/hello", or "shell hello") without a
server, and write it to DIR as an OCI image layout tagged TAG (default: the image tag, latest).
Layers are cached in the data directory like the server's, and the digests are the ones the
registry serves for the same image. Progress goes to stderr: a bar on a terminal, lines otherwise.
`;

/** `stowage build`: an image into an OCI image layout, offline. */
export async function buildCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    output: { type: 'string', short: 'o' },
    tag: { type: 'string', short: 't' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length === 0 || typeof values.output !== 'string') throw new ConfigError(`build needs packages and --output DIR\n\n${USAGE}`);
  const tag = typeof values.tag === 'string' ? values.tag : 'latest';
  if (!isValidTag(tag)) throw new ConfigError(`"${tag}" is not a valid tag`);
  const output = resolve(values.output);
  const config = await commandConfig(values, env);

  return withApp(config, env, async (app) => {
    const image = commandImage(positionals, tag, config);
    const progress = createProgressReporter(process.stderr, process.stderr.isTTY === true);
    const stop = app.builder.tracker.subscribe((status) => {
      if (!values.quiet && status.image === image.canonicalName && status.revision === tag) progress.update(status);
    });
    let built;
    try {
      built = await app.builder.build(image);
    } catch (error) {
      progress.finish();
      if (error instanceof PackageNotFoundError || error instanceof BuildFailedError) {
        process.stderr.write(`stowage: ${error.message}\n`);
        if (error instanceof BuildFailedError && error.logTail) process.stderr.write(`${error.logTail}\n`);
        return 1;
      }
      throw error;
    } finally {
      stop();
    }
    progress.finish();
    const layout = await writeOciLayout(app.blobs, built, output, tag);
    const primary = JSON.parse((await readBlob(app.blobs, built.primary.oci.digest)).toString('utf8')) as { layers: Array<{ size: number }> };
    const size = primary.layers.reduce((total, layer) => total + layer.size, 0);
    if (!values.quiet) {
      process.stderr.write(
        `${built.built ? 'built' : 'found in the cache:'} ${image.canonicalName}:${tag}, ${primary.layers.length} layers, ${formatBytes(size)}; ` +
          `wrote ${layout.blobsWritten} blobs (${formatBytes(layout.bytesWritten)}) to ${output} as :${tag}\n`,
      );
    }
    process.stdout.write(`${layout.descriptor.digest}\n`);
    return 0;
  });
}
