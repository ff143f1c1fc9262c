# cowsay: bin/cowsay, bin/cowthink (relative symlink) and a cow file.
install_script "$src" "$out/bin/cowsay" busybox libgreet out version
ln -s cowsay "$out/bin/cowthink"
mkdir -p "$out/share/cowsay/cows"
cat > "$out/share/cowsay/cows/default.cow" <<'COW'
        $thoughts   ^__^
         $thoughts  (oo)\_______
            (__)\       )\/\
                ||----w |
                ||     ||
COW
