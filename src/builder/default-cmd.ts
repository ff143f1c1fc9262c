/**
 * The `Cmd` an image gets, so `docker run IMAGE` does something without arguments:
 * - with the `shell` meta-package (and so `/bin/sh`): `/bin/sh`;
 * - a single package whose `bin/` holds exactly one executable: that executable (`greeter`
 *   runs `/bin/greeter`);
 * - otherwise none: the image has several commands, and the caller names one
 *   (`docker run IMAGE jq --version`).
 */
export function defaultCmd(shell: boolean, packages: readonly string[], binaries: ReadonlySet<string>): { cmd: string[] } | Record<string, never> {
  if (shell) return binaries.has('sh') ? { cmd: ['/bin/sh'] } : {};
  const [only] = binaries;
  return packages.length === 1 && binaries.size === 1 && only !== undefined ? { cmd: [`/bin/${only}`] } : {};
}
