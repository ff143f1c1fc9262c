#!/usr/bin/env node
import { exitWith } from './cli/exit.js';
import { checkConfigCommand } from './cli/check-config-command.js';
import { serveCommand } from './cli/serve-command.js';
import { catalogCommand } from './cli/catalog-command.js';
import { buildCommand } from './cli/build-command.js';
import { layersCommand } from './cli/layers-command.js';
import { gcCommand } from './cli/gc-command.js';
import { popularityCommand } from './cli/popularity-command.js';

type Command = (args: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;

/** Subcommands of the `stowage` executable; each lives in `src/cli/<name>-command.ts`. */
const COMMANDS: Readonly<Record<string, { run: Command; summary: string }>> = {
  serve: { run: serveCommand, summary: 'serve the registry (default)' },
  'check-config': { run: checkConfigCommand, summary: 'validate the configuration and print it' },
  catalog: { run: catalogCommand, summary: 'generate, import or check package catalogs (stowage catalog help)' },
  build: { run: buildCommand, summary: 'build an image into an OCI image layout, without a server (build --help)' },
  layers: { run: layersCommand, summary: 'print how an image is layered: layers, sizes, store paths' },
  popularity: { run: popularityCommand, summary: 'write the package-set popularity table the layering groups paths by' },
  gc: { run: gcCommand, summary: 'delete blobs nothing references (--dry-run to see what), safe while serving' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(14)} ${summary}`);
  return `usage: stowage <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nevery command takes --config FILE (or STOWAGE_CONFIG)\n`;
}

async function main(given: readonly string[]): Promise<number> {
  // `docker run IMAGE stowage gc` passes the program's own name first: allow it.
  const argv = given[0] === 'stowage' ? given.slice(1) : given;
  const [name = 'serve', ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const command = COMMANDS[name.startsWith('-') ? 'serve' : name];
  if (!command) {
    process.stderr.write(`stowage: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(name.startsWith('-') ? argv : args, process.env);
}

exitWith(main(process.argv.slice(2)));
