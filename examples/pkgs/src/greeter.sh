#!@busybox@/bin/sh
# greeter @version@ - demo entrypoint (stowage example package set).
export PATH='@hello@/bin:@cowsay@/bin:@jq@/bin:@tree@/bin:@busybox@/bin'
export SSL_CERT_FILE='@cacert@/etc/ssl/certs/ca-bundle.crt'
. '@libgreet@/lib/libgreet.sh'

config=${GREETER_CONFIG:-'@out@/etc/greeter/config.json'}
case "${1-}" in
    --version) version_line greeter '@version@'; exit 0 ;;
    --tree) exec tree "${2:-/}" ;;
    "") ;;
    *) die "unknown option: $1" ;;
esac
[ -r "$SSL_CERT_FILE" ] || die "missing CA bundle $SSL_CERT_FILE"
name=$(jq -r .name "$config")
cow=$(jq -r .cow "$config")
{
    hello --name "$name"
    jq -r '.motd[0]' "$config"
    jq -r '.motd[1]' "$config"
} | cowsay -f "$cow"
