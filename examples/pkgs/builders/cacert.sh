# cacert: etc/ssl/certs/ca-bundle.crt, a PEM-shaped (but fake) CA bundle,
# plus the usual compatibility symlinks. It references no store paths.
mkdir -p "$out/etc/ssl/certs" "$out/etc/pki/tls/certs"
bundle="$out/etc/ssl/certs/ca-bundle.crt"
{
    printf '##\n## Stowage example CA bundle %s (NOT real certificates)\n##\n' "$version"
    i=1
    while [ "$i" -le 12 ]; do
        # ~900 bytes of deterministic "DER" per entry, from a SHA-256 chain.
        seed="stowage-example-ca-$i"
        j=0
        while [ "$j" -lt 28 ]; do
            seed=$(printf '%s' "$seed" | sha256sum | cut -d' ' -f1)
            printf '%s' "$seed"
            j=$((j + 1))
        done > "$NIX_BUILD_TOP/der.hex"
        printf '\nStowage Example Root CA %d\n' "$i"
        printf '==========================\n'
        printf -- '-----BEGIN CERTIFICATE-----\n'
        xxd -r -p "$NIX_BUILD_TOP/der.hex" | base64 -w 64
        printf -- '-----END CERTIFICATE-----\n'
        i=$((i + 1))
    done
} > "$bundle"
ln -s ca-bundle.crt "$out/etc/ssl/certs/ca-certificates.crt"
ln -s certs/ca-bundle.crt "$out/etc/ssl/cert.pem"
ln -s ../../../ssl/certs/ca-bundle.crt "$out/etc/pki/tls/certs/ca-bundle.crt"
