# tree: bin/tree, a tree(1)-like directory lister.
install_script "$src" "$out/bin/tree" busybox libgreet version
