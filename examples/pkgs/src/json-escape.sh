#!@busybox@/bin/sh
# json-escape (libjson @version@): stdin (or the arguments) as a JSON string.
. '@lib@/lib/libjson.sh'
if [ $# -gt 0 ]; then printf '%s' "$*" | json_escape; else json_escape; fi
