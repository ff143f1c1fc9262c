import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { EXAMPLE_PACKAGE_SET, REPO_ROOT } from './registry-server.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the `stowage` CLI from source (as the package's bin would), with the example package set. */
export function stowage(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src/cli.ts'), ...args],
      { cwd: REPO_ROOT, env: { ...process.env, STOWAGE_SOURCE: 'nix', STOWAGE_PACKAGE_SET: EXAMPLE_PACKAGE_SET, STOWAGE_LOG_LEVEL: 'warn', ...env }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
