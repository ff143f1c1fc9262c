# greeter: a top-level "application" tying most packages together.
install_script "$src" "$out/bin/greeter" busybox libgreet hello cowsay jq tree cacert out version
mkdir -p "$out/etc/greeter"
cat > "$out/etc/greeter/config.json" <<'JSON'
{
  "name": "stowage",
  "cow": "default",
  "motd": ["layered images", "from Nix store paths"]
}
JSON
