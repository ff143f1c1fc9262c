import type { PackageSummary } from '../types.js';
import { assertValidAttrPath } from '../attr-path.js';
import { RESOLVE_EXPRESSION } from './resolve-expression.js';
import { parsePathInfo } from './path-info.js';
import { importPackageSetBindings } from './import-package-set.js';
import { NIX_COMMAND_FLAGS } from './nix-command-flags.js';

/**
 * Lists the top-level packages of the package set (name, version, description) with one
 * evaluation per package-set state and system, and tells the closure size of packages whose
 * outputs are already in the store. Like RESOLVE_EXPRESSION it is fixed text: the package set
 * and system reach it only as `--argstr` strings. A package that fails to evaluate (an alias
 * that throws, a broken `meta`) is left out.
 */
export const LIST_EXPRESSION = String.raw`
{ packageSet, system }:
let${importPackageSetBindings('system')}
  stringOr = value: if builtins.isString value then value else "";
  describe = name:
    let
      summary =
        let value = builtins.getAttr name pkgs;
        in if builtins.isAttrs value && (value.type or null) == "derivation" then {
          inherit name;
          version = stringOr (value.version or (builtins.parseDrvName (value.name or "")).version);
          description = stringOr ((value.meta or { }).description or "");
        } else null;
      checked = builtins.tryEval (builtins.deepSeq summary summary);
    in if checked.success then checked.value else null;
in builtins.filter (entry: entry != null) (map describe (builtins.attrNames pkgs))
`;

/** Runs a Nix command and returns its stdout. @throws BuildFailedError when it fails. */
export type NixRunner = (command: string, args: readonly string[], what: string, signal: AbortSignal) => Promise<string>;

export interface NixPackageListingOptions {
  /** Absolute path of the package set, or a `<name>` lookup path. */
  readonly packageSet: string;
  readonly run: NixRunner;
  /** The package set's current state; listings are cached per value. */
  readonly fingerprint: (signal: AbortSignal) => Promise<string>;
}

export class NixPackageListing {
  private listing: { key: string; pending: Promise<PackageSummary[]> } | undefined;
  /** Output paths per package, for the current package-set state only. */
  private outputs: { key: string; byName: Map<string, readonly string[]> } = { key: '', byName: new Map() };
  /** Closure sizes by output paths: store paths never change, so neither do these. */
  private readonly sizes = new Map<string, number>();

  constructor(private readonly options: NixPackageListingOptions) {}

  /** Every top-level package, sorted by name; evaluated once per package-set state and system. */
  async packages(system: string, signal: AbortSignal): Promise<PackageSummary[]> {
    const key = `${await this.options.fingerprint(signal)}\u0000${system}`;
    if (this.listing?.key !== key) {
      // Shared by concurrent callers, and not tied to one caller's signal.
      const pending = this.evaluate(system, new AbortController().signal);
      pending.catch(() => {
        if (this.listing?.pending === pending) this.listing = undefined;
      });
      this.listing = { key, pending };
    }
    return abortable(this.listing.pending, signal);
  }

  /** Closure sizes of packages whose outputs are valid store paths; null for the others. */
  async closureSizes(system: string, names: readonly string[], signal: AbortSignal): Promise<Record<string, number | null>> {
    const result: Record<string, number | null> = {};
    const wanted = [...new Set(names)].filter((name) => {
      result[name] = null;
      return isValidAttrPath(name);
    });
    if (wanted.length === 0) return result;
    const outputs = await this.outputsOf(system, wanted, signal);
    const all = [...new Set(wanted.flatMap((name) => outputs.get(name) ?? []))];
    if (all.length === 0) return result;
    const invalid = new Set((await this.options.run('nix-store', ['--check-validity', '--print-invalid', ...all], 'checking the store', signal)).split('\n').filter(Boolean));
    const unsized = wanted.filter((name) => {
      const paths = outputs.get(name) ?? [];
      return paths.length > 0 && paths.every((path) => !invalid.has(path)) && !this.sizes.has(sizeKey(paths));
    });
    if (unsized.length > 0) {
      const roots = [...new Set(unsized.flatMap((name) => outputs.get(name) ?? []))];
      const graph = new Map(parsePathInfo(await this.options.run('nix', [...NIX_COMMAND_FLAGS, 'path-info', '--json', '--recursive', ...roots], 'reading closures', signal)).map((info) => [info.path, info]));
      for (const name of unsized) {
        const paths = outputs.get(name) ?? [];
        const closure = new Set<string>();
        const stack = [...paths];
        while (stack.length > 0) {
          const path = stack.pop() as string;
          if (closure.has(path)) continue;
          closure.add(path);
          stack.push(...(graph.get(path)?.references ?? []));
        }
        this.sizes.set(sizeKey(paths), [...closure].reduce((total, path) => total + (graph.get(path)?.narSize ?? 0), 0));
      }
    }
    for (const name of wanted) {
      const paths = outputs.get(name) ?? [];
      result[name] = paths.length > 0 ? (this.sizes.get(sizeKey(paths)) ?? null) : null;
    }
    return result;
  }

  private async evaluate(system: string, signal: AbortSignal): Promise<PackageSummary[]> {
    const stdout = await this.options.run(
      'nix-instantiate',
      ['--eval', '--strict', '--json', '-E', LIST_EXPRESSION, '--argstr', 'packageSet', this.options.packageSet, '--argstr', 'system', system],
      'listing the package set',
      signal,
    );
    const parsed: unknown = JSON.parse(stdout);
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter((item): item is { name: string; version?: unknown; description?: unknown } => typeof (item as { name?: unknown })?.name === 'string')
      .map((item) => ({
        name: item.name,
        ...(typeof item.version === 'string' && item.version !== '' ? { version: item.version } : {}),
        ...(typeof item.description === 'string' && item.description !== '' ? { description: item.description } : {}),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The installed outputs of each package (empty when it does not exist), evaluating only the unknown ones. */
  private async outputsOf(system: string, names: readonly string[], signal: AbortSignal): Promise<Map<string, readonly string[]>> {
    const key = `${await this.options.fingerprint(signal)}\u0000${system}`;
    if (this.outputs.key !== key) this.outputs = { key, byName: new Map() };
    const known = this.outputs.byName;
    // Names come from clients (package-sizes), unknown ones included: keep the memory bounded,
    // forgetting the oldest first (a forgotten name is evaluated again).
    while (known.size > 0 && known.size + names.length > MAX_REMEMBERED_OUTPUTS) known.delete(known.keys().next().value as string);
    const unknown = names.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      const stdout = await this.options.run(
        'nix-instantiate',
        ['--eval', '--strict', '--json', '-E', RESOLVE_EXPRESSION, '--argstr', 'packageSet', this.options.packageSet, '--argstr', 'names', unknown.join(' '), '--argstr', 'system', system, '--argstr', 'mode', 'eval'],
        'evaluating package outputs',
        signal,
      );
      const packages = ((JSON.parse(stdout) as { packages?: Record<string, unknown> }).packages ?? {}) as Record<string, unknown>;
      for (const name of unknown) {
        const paths = packages[name];
        known.set(name, Array.isArray(paths) ? paths.filter((path): path is string => typeof path === 'string') : []);
      }
    }
    return known;
  }
}

const MAX_REMEMBERED_OUTPUTS = 20_000;

function isValidAttrPath(name: string): boolean {
  try {
    assertValidAttrPath(name);
    return true;
  } catch {
    return false;
  }
}

function sizeKey(paths: readonly string[]): string {
  return [...paths].sort().join(' ');
}

/** Wait for a shared promise, but stop waiting (without cancelling it) when `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
