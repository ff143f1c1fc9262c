# awkward: file-system edge cases for layer/tar writers.
d="$out/share/awkward"
mkdir -p "$out/bin" "$d"

# Executable script (references busybox via its shebang).
cat > "$out/bin/awkward" <<SCRIPT
#!$busybox/bin/sh
# awkward ($pname $version): list the awkward files.
cd '$d' && exec '$busybox/bin/ls' -lA
SCRIPT
chmod 0755 "$out/bin/awkward"

printf 'target file\n' > "$d/target.txt"

# Names: spaces, unicode, a leading dash, quotes, a backslash, shell metachars.
printf 'space\n'      > "$d/with space.txt"
printf 'spaces\n'     > "$d/  leading and trailing  "
printf 'unicode\n'    > "$d/résumé ünïcödé.txt"
printf 'cjk+emoji\n'  > "$d/日本語-😀.txt"
printf 'dash\n'       > "$d/-dash-first.txt"
printf 'dashdash\n'   > "$d/--double-dash"
printf 'quotes\n'     > "$d/it's \"quoted\".txt"
printf 'backslash\n'  > "$d/back\\slash.txt"
printf 'meta\n'       > "$d/\$dollar *star? [glob] ;semi&amp|pipe.txt"
printf 'hidden\n'     > "$d/.hidden"
: > "$d/empty"
mkdir "$d/empty-dir"

# Long names: exactly 100 bytes (fills ustar's name field) and 150 bytes.
name100=$(printf 'n%.0s' $(seq 1 96)).txt
name150=long-$(printf 'x%.0s' $(seq 1 141)).txt
[ ${#name100} -eq 100 ] && [ ${#name150} -eq 150 ] || { echo "bad long names" >&2; exit 1; }
printf '100-byte name\n' > "$d/$name100"
printf '150-byte name\n' > "$d/$name150"

# Deep path: 6 directories of 48 bytes; the file's path below the output is
# well over 255 bytes (and over 100 for every prefix/name split in ustar).
deep="deep"
for i in 1 2 3 4 5 6; do
    deep="$deep/level-$i-$(printf 'd%.0s' $(seq 1 40))"
done
mkdir -p "$d/$deep"
printf 'deep file\n' > "$d/$deep/deep file.txt"
rel="share/awkward/$deep/deep file.txt"
[ ${#rel} -gt 255 ] || { echo "deep path too short: ${#rel}" >&2; exit 1; }

# Executable data file.
printf '#!%s/bin/sh\necho exec\n' "$busybox" > "$d/exec.sh"
chmod 0755 "$d/exec.sh"

# Symlinks: relative, relative with .., absolute within this output,
# dangling, to a directory, to a unicode name, and one whose target is
# longer than 100 bytes (forces a PAX linkpath).
ln -s "with space.txt"                 "$d/rel-link"
mkdir "$d/links"
ln -s "../with space.txt"              "$d/links/up-link"
ln -s "$d/target.txt"                  "$d/abs-link"
ln -s "does/not/exist"                 "$d/dangling"
ln -s "deep"                           "$d/deep-link"
ln -s "résumé ünïcödé.txt"             "$d/unicode-link"
ln -s "$name150"                       "$d/long-target-link"
ln -s "$d/$deep/deep file.txt"         "$d/links/abs-deep-link"

# Hard link: two names, one inode, same directory tree.
printf 'one inode, two names\n' > "$d/hardlink-a.txt"
ln "$d/hardlink-a.txt" "$d/hardlink-b.txt"
[ "$(stat -c %h "$d/hardlink-a.txt")" = 2 ] || { echo "hard link failed" >&2; exit 1; }
