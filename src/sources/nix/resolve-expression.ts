import { importPackageSetBindings } from './import-package-set.js';

/**
 * The Nix expression the Nix source evaluates. It is a fixed text: package names, the package
 * set and the system reach it only as `--argstr` strings, so no input can change the code.
 *
 * mode "eval":  { missing = [ names not found ]; packages = { name = [ output paths ]; }; }
 * mode "build": the list of selected output derivations, for nix-build to realise.
 *
 * Lookup rules: dots separate attributes; an attribute is taken by its exact name, else by the
 * one name that matches case-insensitively (image names are lower-case, nixpkgs attributes are
 * often not: `python3packages.numpy` finds `python3Packages.numpy`). A package contributes its
 * `meta.outputsToInstall` (or its default output), without documentation outputs; naming an
 * output explicitly (`openssl.dev`) selects just that output.
 */
export const RESOLVE_EXPRESSION = String.raw`
{ packageSet, names, system, mode }:
let${importPackageSetBindings('system')}

  upper = [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ];
  lower = [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ];
  toLower = builtins.replaceStrings upper lower;

  isDerivation = value:
    let checked = builtins.tryEval (builtins.isAttrs value && (value.type or null) == "derivation");
    in checked.success && checked.value;

  isAttrSet = value:
    let checked = builtins.tryEval (builtins.isAttrs value);
    in checked.success && checked.value;

  findAttr = set: name:
    if builtins.hasAttr name set then { found = true; value = builtins.getAttr name set; }
    else
      let matches = builtins.filter (candidate: toLower candidate == name) (builtins.attrNames set);
      in if builtins.length matches == 1
        then { found = true; value = builtins.getAttr (builtins.head matches) set; }
        else { found = false; };

  step = state: part:
    if !state.found || !(isAttrSet state.value) then { found = false; }
    else (findAttr state.value part) // { parentIsDerivation = isDerivation state.value; lastPart = part; };

  lookup = name:
    let result = builtins.foldl' step { found = true; value = pkgs; parentIsDerivation = false; lastPart = ""; }
      (builtins.filter builtins.isString (builtins.split "\\." name));
    in if result.found && isDerivation result.value then result else { found = false; };

  documentation = [ "man" "doc" "info" "devdoc" ];

  selectedOutputs = result:
    let
      drv = result.value;
      outputs = drv.outputs or [ "out" ];
      default = drv.outputName or "out";
      explicit = result.parentIsDerivation && builtins.elem result.lastPart outputs;
      toInstall = builtins.filter (output: builtins.elem output outputs && !(builtins.elem output documentation))
        (drv.meta.outputsToInstall or [ default ]);
      wanted = if explicit then [ default ] else if toInstall == [ ] then [ default ] else toInstall;
    in map (output: builtins.getAttr output drv) wanted;

  nameList = builtins.filter (name: builtins.isString name && name != "") (builtins.split " " names);
  results = map (name: { inherit name; result = lookup name; }) nameList;
  found = builtins.filter (entry: entry.result.found) results;
in
  if mode == "eval" then {
    missing = map (entry: entry.name) (builtins.filter (entry: !entry.result.found) results);
    packages = builtins.listToAttrs (map (entry: {
      name = entry.name;
      value = map (output: output.outPath) (selectedOutputs entry.result);
    }) found);
  }
  else builtins.concatLists (map (entry: selectedOutputs entry.result) found)
`;
