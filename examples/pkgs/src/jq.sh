#!@busybox@/bin/sh
# jq @version@ - a very small subset of jq (stowage example package set).
# Supports filters ".", ".key", ".a.b", ".xs[0]" and the -r / -e flags.
. '@libgreet@/lib/libgreet.sh'
. '@libjson@/lib/libjson.sh'

raw=0
exit_status=0
while [ $# -gt 0 ]; do
    case $1 in
        -r|--raw-output) raw=1 ;;
        -e|--exit-status) exit_status=1 ;;
        --version) printf 'jq-%s\n' '@version@'; exit 0 ;;
        -h|--help) printf 'Usage: jq [-r] [-e] FILTER [FILE...]\n'; exit 0 ;;
        --) shift; break ;;
        -?*) die "unknown option: $1" ;;
        *) break ;;
    esac
    shift
done
[ $# -ge 1 ] || die "usage: jq [-r] [-e] FILTER [FILE...]"
filter=$1
shift
case $filter in
    .|.[a-zA-Z_\[]*) ;;
    *) die "unsupported filter: $filter" ;;
esac

run() {
    result=$(json_query "$filter" "$raw") || exit 5
    printf '%s\n' "$result"
    if [ "$exit_status" = 1 ]; then
        case $result in null|false) exit 1 ;; esac
    fi
}
if [ $# -eq 0 ]; then
    run
else
    for f in "$@"; do
        [ -r "$f" ] || die "could not open $f"
        run < "$f"
    done
fi
