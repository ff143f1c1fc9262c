import { importPackageSetBindings } from '../nix/import-package-set.js';

/**
 * The Nix expression `stowage catalog generate` evaluates. A fixed text: the package set, the
 * system and the attribute names reach it only as `--argstr` strings.
 *
 * mode "eval": { system; missing = [ names not found ]; failed = [ names that do not evaluate ];
 *               packages = { "<attr path>" = { outputs; install; version; description; }; }; }
 * mode "build": every output of every package found, for nix-build to realise.
 *
 * `attrs` is a space-separated list of attribute paths, or empty for every derivation at the top
 * level and inside attribute sets marked `recurseForDerivations` (as nix-env -qa finds them),
 * skipping any that fail to evaluate. `install` follows the Nix source's rule: the package's
 * `meta.outputsToInstall` (else its default output) without documentation outputs.
 */
export const CATALOG_EXPRESSION = String.raw`
{ packageSet, system, attrs, mode }:
let
  targetSystem = if system == "" then builtins.currentSystem else system;${importPackageSetBindings('targetSystem')}

  isDerivation = value:
    let checked = builtins.tryEval (builtins.isAttrs value && (value.type or null) == "derivation");
    in checked.success && checked.value;
  isAttrSet = value:
    let checked = builtins.tryEval (builtins.isAttrs value);
    in checked.success && checked.value;
  recurses = value:
    let checked = builtins.tryEval ((value.recurseForDerivations or false) == true);
    in checked.success && checked.value;

  documentation = [ "man" "doc" "info" "devdoc" ];
  describe = drv:
    let
      outputs = drv.outputs or [ "out" ];
      default = drv.outputName or "out";
      toInstall = builtins.filter (output: builtins.elem output outputs && !(builtins.elem output documentation))
        (drv.meta.outputsToInstall or [ default ]);
      version = drv.version or null;
      description = drv.meta.description or null;
    in {
      outputs = builtins.listToAttrs (map (output: { name = output; value = (builtins.getAttr output drv).outPath; }) outputs);
      install = if toInstall == [ ] then [ default ] else toInstall;
    } // (if builtins.isString version then { inherit version; } else { })
      // (if builtins.isString description then { inherit description; } else { });
  evaluated = drv:
    let result = builtins.tryEval (let described = describe drv; in builtins.deepSeq described described);
    in if result.success then result.value else null;

  collect = prefix: set: depth:
    builtins.concatMap (name:
      let
        path = if prefix == "" then name else prefix + "." + name;
        attempt = builtins.tryEval (builtins.getAttr name set);
      in
        if !attempt.success then [ ]
        else if isDerivation attempt.value then [ { name = path; drv = attempt.value; } ]
        else if depth < 4 && isAttrSet attempt.value && recurses attempt.value then collect path attempt.value (depth + 1)
        else [ ])
      (builtins.attrNames set);

  lookup = name:
    let
      step = state: part:
        if state == null || !(isAttrSet state) || !(builtins.hasAttr part state) then null
        else builtins.getAttr part state;
      value = builtins.foldl' step pkgs (builtins.filter builtins.isString (builtins.split "\\." name));
    in if value != null && isDerivation value then { inherit name; drv = value; } else { inherit name; drv = null; };

  nameList = builtins.filter (name: builtins.isString name && name != "") (builtins.split " " attrs);
  requested = if nameList == [ ] then collect "" pkgs 0 else map lookup nameList;
  found = builtins.filter (entry: entry.drv != null) requested;
  described = map (entry: { inherit (entry) name drv; value = evaluated entry.drv; }) found;
  good = builtins.filter (entry: entry.value != null) described;
in
  if mode == "eval" then {
    system = targetSystem;
    missing = map (entry: entry.name) (builtins.filter (entry: entry.drv == null) requested);
    failed = map (entry: entry.name) (builtins.filter (entry: entry.value == null) described);
    packages = builtins.listToAttrs (map (entry: { inherit (entry) name value; }) good);
  }
  else builtins.concatMap (entry: map (output: builtins.getAttr output entry.drv) (entry.drv.outputs or [ "out" ])) good
`;
