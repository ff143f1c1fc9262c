# jq: bin/jq, a tiny jq-alike on top of libjson's "lib" output.
install_script "$src" "$out/bin/jq" busybox libgreet libjson version
