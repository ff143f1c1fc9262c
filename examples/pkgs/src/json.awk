# json.awk - a small recursive-descent JSON parser for (busybox) awk.
# Reads the whole document from stdin; prints the compact value at path `q`
# ("." = document, ".a.b", ".xs[0]", ".a.xs[2].b"). Missing paths print null.
# With raw=1 string results are printed unquoted (like jq -r).
function fail(msg) {
    printf "json: %s at offset %d\n", msg, pos > "/dev/stderr"
    failed = 1
    exit 3
}
function skip_ws(   c) {
    while (pos <= len) {
        c = substr(s, pos, 1)
        if (c != " " && c != "\t" && c != "\n" && c != "\r") break
        pos++
    }
}
function parse_string(   start, c) {
    if (substr(s, pos, 1) != "\"") fail("expected string")
    start = pos
    pos++
    while (pos <= len) {
        c = substr(s, pos, 1)
        if (c == "\\") pos += 2
        else if (c == "\"") { pos++; return substr(s, start, pos - start) }
        else pos++
    }
    fail("unterminated string")
}
function parse_scalar(   start, c, tok) {
    start = pos
    while (pos <= len) {
        c = substr(s, pos, 1)
        if (c == "," || c == "}" || c == "]" || c == " " || c == "\t" || c == "\n" || c == "\r") break
        pos++
    }
    tok = substr(s, start, pos - start)
    if (tok !~ /^(true|false|null|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)$/)
        fail("invalid literal '" tok "'")
    return tok
}
function parse_value(path,   c, out, key, v, n) {
    skip_ws()
    c = substr(s, pos, 1)
    if (c == "{") {
        pos++; out = "{"; n = 0
        skip_ws()
        if (substr(s, pos, 1) == "}") pos++
        else while (1) {
            skip_ws()
            key = parse_string()
            skip_ws()
            if (substr(s, pos, 1) != ":") fail("expected ':'")
            pos++
            v = parse_value(path "." substr(key, 2, length(key) - 2))
            out = out (n++ ? "," : "") key ":" v
            skip_ws()
            c = substr(s, pos, 1); pos++
            if (c == "}") break
            if (c != ",") fail("expected ',' or '}'")
        }
        out = out "}"
    } else if (c == "[") {
        pos++; out = "["; n = 0
        skip_ws()
        if (substr(s, pos, 1) == "]") pos++
        else while (1) {
            v = parse_value(path "[" n "]")
            out = out (n++ ? "," : "") v
            skip_ws()
            c = substr(s, pos, 1); pos++
            if (c == "]") break
            if (c != ",") fail("expected ',' or ']'")
        }
        out = out "]"
    } else if (c == "\"") {
        out = parse_string()
    } else if (c == "") {
        fail("unexpected end of input")
    } else {
        out = parse_scalar()
    }
    value[path] = out
    return out
}
function unquote(str,   out, i, c, n) {
    out = ""
    n = length(str) - 1
    for (i = 2; i <= n; i++) {
        c = substr(str, i, 1)
        if (c == "\\") {
            i++; c = substr(str, i, 1)
            if (c == "n") c = "\n"
            else if (c == "t") c = "\t"
            else if (c == "r") c = "\r"
            else if (c == "b") c = "\b"
            else if (c == "f") c = "\f"
            else if (c == "u") { c = "\\u" substr(str, i + 1, 4); i += 4 }
        }
        out = out c
    }
    return out
}
{ s = s $0 "\n" }
END {
    if (failed) exit 3
    len = length(s); pos = 1
    parse_value("")
    skip_ws()
    if (pos <= len) fail("trailing garbage")
    if (q == "" || q == ".") q = ""
    if (!(q in value)) { print "null"; exit 0 }
    v = value[q]
    if (raw == 1 && substr(v, 1, 1) == "\"") print unquote(v)
    else print v
}
