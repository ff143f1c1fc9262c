# busybox: bin/busybox plus one absolute symlink per applet, all pointing at
# the static binary in the busybox-static input (so every symlink target
# string names that store path, which makes it a runtime reference).
mkdir -p "$out/bin" "$out/share/doc/busybox"
for applet in busybox $(busybox --list); do
    [ -e "$out/bin/$applet" ] || [ -L "$out/bin/$applet" ] && continue
    ln -s "$busyboxStatic/busybox" "$out/bin/$applet"
done

# The applets the example images rely on must be there.
for applet in sh ls cat echo env id mkdir rm cp mv grep sed awk head tail wc \
              sort uname true false test printf pwd whoami find readlink \
              sha256sum; do
    [ -L "$out/bin/$applet" ] || { echo "missing applet: $applet" >&2; exit 1; }
done

cat > "$out/share/doc/busybox/README" <<DOC
busybox $version (stowage example package set)

bin/busybox and bin/<applet> are symlinks to the static binary
$busyboxStatic/busybox.
Busybox picks the applet from the name it was invoked by, so
bin/sh runs the shell, bin/ls runs ls, and so on.
DOC
