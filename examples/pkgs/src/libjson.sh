# libjson @version@ - JSON helpers for POSIX sh (stowage example package set).
# Usage:  . @lib@/lib/libjson.sh
LIBJSON_VERSION='@version@'
LIBJSON_AWK='@busybox@/bin/awk'
LIBJSON_PROG='@lib@/lib/libjson/json.awk'

# json_query FILTER RAW: read JSON on stdin, print the value at FILTER
# ("." or a path like ".a.b" / ".xs[0]"), compact. RAW=1 unquotes strings.
json_query() {
    "$LIBJSON_AWK" -v q="$1" -v raw="${2:-0}" -f "$LIBJSON_PROG"
}

# json_escape: read text on stdin, print it as one JSON string literal.
json_escape() {
    "$LIBJSON_AWK" '
        BEGIN { ORS = ""; print "\"" }
        NR > 1 { print "\\n" }
        {
            gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r")
            print
        }
        END { print "\"\n" }'
}
