# libgreet: lib/libgreet.sh, a shell library sourced by other packages.
substitute "$src" "$out/lib/libgreet.sh" busybox out version
# Versioned names, like a shared object's soname chain (relative symlinks).
ln -s libgreet.sh "$out/lib/libgreet.sh.1"
ln -s libgreet.sh.1 "$out/lib/libgreet.sh.1.0.0"
mkdir -p "$out/share/doc/libgreet"
cat > "$out/share/doc/libgreet/README" <<DOC
libgreet $version: greet, die, version_line, repeat_char.
Use it with:  . $out/lib/libgreet.sh
DOC
