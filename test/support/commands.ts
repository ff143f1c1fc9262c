import { execFile } from 'node:child_process';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a command, failing with its output when it exits non-zero or runs past `timeoutMs`. */
export function run(command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 120_000, env: options.env ?? process.env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}\n${stdout}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** `skopeo copy` from the registry into an OCI layout directory, keeping the registry's digests. */
export function skopeoPull(host: string, image: string, layoutDir: string, tag = 'x'): Promise<CommandResult> {
  return run('skopeo', [
    '--insecure-policy', 'copy', '--quiet', '--preserve-digests', '--src-tls-verify=false',
    `docker://${host}/${image}`, `oci:${layoutDir}:${tag}`,
  ]);
}
