# bigdata: 6 MiB of deterministic, incompressible bytes and a verifier.
# Bytes come from the MINSTD Lehmer generator (x = 48271 x mod 2^31-1, fixed
# seed), low 24 bits per step. All arithmetic stays below 2^53, so awk's
# doubles are exact and the output is identical everywhere.
mkdir -p "$out/share/bigdata" "$out/bin"
size=6291456   # 6 MiB, a multiple of 3
awk -v n=$((size / 3)) 'BEGIN {
    x = 20240601; s = ""
    for (i = 1; i <= n; i++) {
        x = (48271 * x) % 2147483647
        s = s sprintf("%06x", x % 16777216)
        if (i % 64 == 0) { print s; s = "" }
    }
    if (s != "") print s
}' | xxd -r -p > "$out/share/bigdata/blob.bin"
actual=$(wc -c < "$out/share/bigdata/blob.bin")
[ "$actual" -eq "$size" ] || { echo "blob.bin is $actual bytes, want $size" >&2; exit 1; }
(cd "$out/share/bigdata" && sha256sum blob.bin > blob.bin.sha256)

cat > "$out/bin/bigdata-verify" <<SCRIPT
#!$busybox/bin/sh
# bigdata-verify ($pname $version): check share/bigdata/blob.bin's checksum.
cd '$out/share/bigdata' && '$busybox/bin/sha256sum' -c blob.bin.sha256
SCRIPT
chmod 0755 "$out/bin/bigdata-verify"
