import { ConfigError } from '../config/env.js';

/** Exit with a command's code, or print why it failed: config errors plainly, others with a stack. */
export function exitWith(result: Promise<number>): void {
  result.then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof ConfigError ? error.message : `failed: ${error instanceof Error ? error.stack : String(error)}`;
      process.stderr.write(`stowage: ${message}\n`);
      process.exit(1);
    },
  );
}
