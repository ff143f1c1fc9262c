# libjson: a multi-output package.
#   lib: lib/libjson.sh + lib/libjson/json.awk      (references busybox)
#   out: bin/json-escape, bin/json-query             (references lib, busybox)
#   dev: include/libjson.h, lib/pkgconfig/libjson.pc,
#        nix-support/propagated-build-inputs         (references lib)
# Nothing references out or dev, so there is no cycle between outputs.

# --- lib
substitute "$srcSh" "$lib/lib/libjson.sh" busybox lib version
mkdir -p "$lib/lib/libjson"
cp "$srcAwk" "$lib/lib/libjson/json.awk"
chmod 0644 "$lib/lib/libjson/json.awk"

# --- out
install_script "$srcEscape" "$out/bin/json-escape" busybox lib version
cat > "$out/bin/json-query" <<SCRIPT
#!$busybox/bin/sh
# json-query FILTER [FILE]: minimal path query (see jq for a friendlier CLI).
. '$lib/lib/libjson.sh'
[ \$# -ge 1 ] || { echo 'usage: json-query FILTER [FILE]' >&2; exit 2; }
if [ \$# -ge 2 ]; then json_query "\$1" 0 < "\$2"; else json_query "\$1" 0; fi
SCRIPT
chmod 0755 "$out/bin/json-query"
mkdir -p "$out/share/doc/libjson"
printf 'libjson %s command-line tools; library in %s\n' "$version" "$lib" \
    > "$out/share/doc/libjson/README"

# --- dev
mkdir -p "$dev/include" "$dev/lib/pkgconfig" "$dev/nix-support"
cat > "$dev/include/libjson.h" <<'HDR'
/* libjson: JSON helpers (stowage example package set). Header-only stub. */
#ifndef LIBJSON_H
#define LIBJSON_H
#define LIBJSON_VERSION_MAJOR 1
#define LIBJSON_VERSION_MINOR 0
int json_escape(const char *in, char *out, unsigned long outlen);
#endif
HDR
cat > "$dev/lib/pkgconfig/libjson.pc" <<PC
prefix=$dev
libdir=$lib/lib
includedir=\${prefix}/include

Name: libjson
Description: JSON helpers for POSIX sh (stowage example package set)
Version: $version
Libs: -L\${libdir} -ljson
Cflags: -I\${includedir}
PC
printf '%s\n' "$lib" > "$dev/nix-support/propagated-build-inputs"
