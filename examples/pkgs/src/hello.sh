#!@busybox@/bin/sh
# hello @version@ - print a friendly greeting (stowage example package set).
. '@libgreet@/lib/libgreet.sh'

case "${1-}" in
    "") greet ;;
    -n|--name) [ $# -ge 2 ] || die "option '$1' requires an argument"; greet "$2" ;;
    -v|--version) version_line hello '@version@' ;;
    -h|--help) printf 'Usage: hello [--name NAME] [--version] [--help]\n' ;;
    *) die "unrecognized option '$1'" ;;
esac
