/**
 * Flags for every `nix <subcommand>` stowage runs (`nix path-info`, `nix store sign`,
 * `nix copy`): the `nix` command is an experimental feature that a fresh installation leaves
 * off, and stowage must not depend on the machine's nix.conf turning it on (with
 * `source.useSystemConfig` or from `stowage catalog`, stowage writes no nix.conf of its own).
 * `--extra-` adds to whatever the configuration enables instead of replacing it.
 */
export const NIX_COMMAND_FLAGS: readonly string[] = ['--extra-experimental-features', 'nix-command'];
