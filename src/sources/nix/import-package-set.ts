/**
 * The Nix bindings every fixed expression of stowage starts with: import the package set named
 * by the `packageSet` argument (a path, or `<name>` looked up on NIX_PATH) and, when it is a
 * function taking `system`, call it for `systemExpression`. Shared so that resolving, listing
 * and cataloguing always see the same package set.
 */
export function importPackageSetBindings(systemExpression: string): string {
  return String.raw`
  lookupPath = builtins.match "<(.+)>" packageSet;
  setPath = if lookupPath != null
    then builtins.findFile builtins.nixPath (builtins.head lookupPath)
    else /. + packageSet;
  imported = import setPath;
  pkgs = if builtins.isFunction imported
    then imported (if (builtins.functionArgs imported) ? system then { system = ${systemExpression}; } else { })
    else imported;`;
}
