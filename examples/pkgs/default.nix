# Example package set for stowage: a tiny, offline, nixpkgs-free set of
# derivations whose only input is a static busybox binary from the host.
#
#   nix-build --no-out-link examples/pkgs -A hello
#   nix-instantiate --eval -E '(import ./examples/pkgs { system = "x86_64-linux"; }).hello.outPath'
#
# See README.md for what every attribute exercises.
{ system ? builtins.currentSystem
  # Directory holding the host's *static* busybox (Debian: busybox-static).
  # /bin is a symlink to usr/bin on merged-/usr systems, and importing a
  # symlink would store the symlink, so prefer the real directory.
, busyboxDir ? (if builtins.pathExists /usr/bin/busybox then /usr/bin else /bin)
}:

let
  # The only external input: a store directory containing just `busybox`.
  # It has to be a directory: Nix runs the builder with argv[0] set to the
  # builder's base name, and busybox only dispatches on argv[1] when argv[0]
  # starts with "busybox" (a bare file import would be "<hash>-busybox-static",
  # which busybox rejects with "applet not found").
  busyboxStatic = builtins.path {
    name = "busybox-static";
    path = busyboxDir;
    filter = path: type: baseNameOf path == "busybox";
  };

  # Minimal stdenv: every package is `busybox sh -e setup.sh <builder>`.
  # All other attributes are exported to the builder's environment.
  mkPkg = { pname, version, builder, ... }@attrs:
    derivation ((removeAttrs attrs [ "builder" ]) // {
      inherit system pname version busyboxStatic;
      name = "${pname}-${version}";
      builder = "${busyboxStatic}/busybox";
      args = [ "sh" "-e" ./setup.sh builder ];
    });

  pkgs = {

    # Shell package: bin/busybox and one symlink per applet, all pointing at
    # the static binary (references: busybox-static).
    busybox = mkPkg {
      pname = "busybox";
      version = "1.35.0";
      builder = ./builders/busybox.sh;
    };

    # Shared shell library used by hello, cowsay, tree, jq and greeter.
    libgreet = mkPkg {
      pname = "libgreet";
      version = "1.0.0";
      builder = ./builders/libgreet.sh;
      src = ./src/libgreet.sh;
      inherit (pkgs) busybox;
    };

    # bin/hello -> "Hello, world!" (references: busybox via the shebang,
    # libgreet via `. .../lib/libgreet.sh`).
    hello = mkPkg {
      pname = "hello";
      version = "2.12.1";
      builder = ./builders/hello.sh;
      src = ./src/hello.sh;
      inherit (pkgs) busybox libgreet;
    };

    # Multi-output package: out (bin/) -> lib, dev (pkg-config, headers) -> lib,
    # lib -> busybox.
    libjson = mkPkg {
      pname = "libjson";
      version = "1.0.0";
      outputs = [ "out" "lib" "dev" ];
      builder = ./builders/libjson.sh;
      srcSh = ./src/libjson.sh;
      srcAwk = ./src/json.awk;
      srcEscape = ./src/json-escape.sh;
      inherit (pkgs) busybox;
    };

    # A jq-like filter (`.`, `.a.b`, `.xs[0]`, `-r`), built on libjson's
    # "lib" output (a reference to a non-default output).
    jq = mkPkg {
      pname = "jq";
      version = "1.7.1";
      builder = ./builders/jq.sh;
      src = ./src/jq.sh;
      libjson = pkgs.libjson.lib;
      inherit (pkgs) busybox libgreet;
    };

    # cowsay + cowthink (relative symlink), data file under share/.
    cowsay = mkPkg {
      pname = "cowsay";
      version = "3.04";
      builder = ./builders/cowsay.sh;
      src = ./src/cowsay.sh;
      inherit (pkgs) busybox libgreet;
    };

    # A tree(1)-like directory lister.
    tree = mkPkg {
      pname = "tree";
      version = "2.1.0";
      builder = ./builders/tree.sh;
      src = ./src/tree.sh;
      inherit (pkgs) busybox libgreet;
    };

    # CA bundle (fake but PEM-shaped). A leaf: no references at all.
    cacert = mkPkg {
      pname = "cacert";
      version = "3.95";
      builder = ./builders/cacert.sh;
    };

    # 6 MiB of deterministic, incompressible bytes plus bin/bigdata-verify.
    bigdata = mkPkg {
      pname = "bigdata";
      version = "1.0.0";
      builder = ./builders/bigdata.sh;
      inherit (pkgs) busybox;
    };

    # Awkward file-system content: odd names, long names and paths,
    # relative/absolute/dangling symlinks, a hard link, empty file and dir.
    awkward = mkPkg {
      pname = "awkward";
      version = "1.0.0";
      builder = ./builders/awkward.sh;
      inherit (pkgs) busybox;
    };

    # Top-level "application" whose closure pulls in most of the set.
    greeter = mkPkg {
      pname = "greeter";
      version = "0.1.0";
      builder = ./builders/greeter.sh;
      src = ./src/greeter.sh;
      inherit (pkgs) busybox libgreet hello cowsay jq tree cacert;
    };
  };

in pkgs
