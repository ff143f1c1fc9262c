import { existsSync } from 'node:fs';
import path from 'node:path';
import { run } from './processes.js';

/** Attributes of `examples/pkgs` whose closure the bench builds by default. */
export const DEFAULT_ATTRIBUTES = ['hello', 'busybox', 'bigdata'] as const;

/**
 * Build `attributes` of the package set at `pkgsDir` and return their runtime closure, sorted.
 * @throws Error when the package set is missing or Nix fails.
 */
export async function resolveClosure(pkgsDir: string, attributes: readonly string[], signal?: AbortSignal): Promise<string[]> {
  if (!existsSync(path.join(pkgsDir, 'default.nix'))) {
    throw new Error(`no package set at ${pkgsDir}; pass --paths <store paths> instead`);
  }
  const attrArgs = attributes.flatMap((attr) => ['-A', attr]);
  const built = await run('nix-build', ['--no-out-link', pkgsDir, ...attrArgs], signal);
  const outputs = lines(built.stdout);
  const closure = await run('nix-store', ['-qR', ...outputs], signal);
  return lines(closure.stdout).sort();
}

function lines(text: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
}
