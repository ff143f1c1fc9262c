#!/usr/bin/env bash
# Build every attribute of the example package set offline and check the
# properties the stowage tests rely on.
#
#   examples/pkgs/check.sh                 # build into /nix/store
#   examples/pkgs/check.sh --store /tmp/s  # build into a separate (chroot) store
#
# Uses a private nix.conf (no substituters, sandboxed, no build users), so it
# works as root without network access. Needs nix-build >= 2.8 and a static
# busybox at /bin/busybox.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
store_args=()
store_root=""
if [ "${1-}" = --store ]; then
    store_args=(--store "$2")
    store_root=$2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/conf" "$tmp/cache"
cat > "$tmp/conf/nix.conf" <<'EOF'
build-users-group =
substituters =
trusted-substituters =
experimental-features = nix-command
sandbox = true
EOF
export NIX_CONF_DIR="$tmp/conf" XDG_CACHE_HOME="$tmp/cache"

attrs=(busybox libgreet hello libjson jq cowsay tree cacert bigdata awkward greeter)
declare -A out
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
# Path of a store path on disk (differs from its logical name with --store).
disk() { echo "$store_root$1"; }
refs() { nix-store "${store_args[@]}" -q --references "$1"; }
nar_size() { nix path-info "${store_args[@]}" -s "$1" | awk '{print $2}'; }

start=$(date +%s)
for a in "${attrs[@]}"; do
    out[$a]=$(nix-build "${store_args[@]}" --no-out-link "$here" -A "$a")
done
out[libjson.lib]=$(nix-build "${store_args[@]}" --no-out-link "$here" -A libjson.lib)
out[libjson.dev]=$(nix-build "${store_args[@]}" --no-out-link "$here" -A libjson.dev)
echo "built ${#attrs[@]} attributes in $(( $(date +%s) - start ))s"

for a in "${attrs[@]}" libjson.lib libjson.dev; do
    printf '  %-12s %9s  %s\n' "$a" "$(nar_size "${out[$a]}")" "${out[$a]}"
done

check "busybox references busybox-static" \
    'refs "${out[busybox]}" | grep -q -- "-busybox-static$"'
check "hello references busybox and libgreet" \
    'refs "${out[hello]}" | grep -qx "${out[busybox]}" && refs "${out[hello]}" | grep -qx "${out[libgreet]}"'
n=0
for a in "${attrs[@]}"; do
    [ "$a" = libgreet ] && continue
    refs "${out[$a]}" | grep -qx "${out[libgreet]}" && n=$((n + 1))
done
check "libgreet is referenced by $n (>= 3) packages" '[ "$n" -ge 3 ]'
check "libjson out -> lib" 'refs "${out[libjson]}" | grep -qx "${out[libjson.lib]}"'
check "libjson dev -> lib" 'refs "${out[libjson.dev]}" | grep -qx "${out[libjson.lib]}"'
check "jq -> libjson lib output" 'refs "${out[jq]}" | grep -qx "${out[libjson.lib]}"'
check "cacert has no references" '[ -z "$(refs "${out[cacert]}")" ]'
check "bigdata narSize >= 5 MB" '[ "$(nar_size "${out[bigdata]}")" -ge 5000000 ]'
aw=$(disk "${out[awkward]}")/share/awkward
check "awkward hard link has 2 names" '[ "$(stat -c %h "$aw/hardlink-a.txt")" = 2 ] && [ "$aw/hardlink-a.txt" -ef "$aw/hardlink-b.txt" ]'
check "awkward unicode name" '[ -f "$aw/résumé ünïcödé.txt" ]'
check "awkward deep path > 255 bytes" \
    '[ "$(cd "$(disk "${out[awkward]}")" && find . -name "deep file.txt" | awk "{print length(\$0)}")" -gt 255 ]'

if [ -z "$store_root" ]; then
    check "hello prints Hello, world!" '[ "$("${out[hello]}/bin/hello")" = "Hello, world!" ]'
    check "bigdata-verify" '"${out[bigdata]}/bin/bigdata-verify" >/dev/null'
fi

# chroot run: closure of hello + busybox under ROOTFS/nix/store, /bin/sh link.
if [ "$(id -u)" = 0 ]; then
    root="$tmp/rootfs"
    mkdir -p "$root/nix/store" "$root/bin"
    for p in $(nix-store "${store_args[@]}" -qR "${out[hello]}" "${out[busybox]}"); do
        cp -a "$(disk "$p")" "$root/nix/store/"
    done
    ln -s "${out[busybox]}/bin/sh" "$root/bin/sh"
    check "chroot: hello" '[ "$(chroot "$root" "${out[hello]}/bin/hello")" = "Hello, world!" ]'
    check "chroot: /bin/sh -c" '[ "$(chroot "$root" /bin/sh -c "echo \$((6 * 7))")" = 42 ]'
fi

exit "$fail"
