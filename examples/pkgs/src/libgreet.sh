# libgreet @version@ - a tiny shared shell library (stowage example package set).
# Usage:  . @out@/lib/libgreet.sh
LIBGREET_VERSION='@version@'
LIBGREET_SHELL='@busybox@/bin/sh'

# greet [NAME]: print the classic greeting.
greet() {
    printf '%s\n' "Hello, ${1:-world}!"
}

# die MESSAGE...: print "<program>: MESSAGE" on stderr and exit 1.
die() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

# version_line NAME VERSION: the --version output used by every tool.
version_line() {
    printf '%s (stowage example package set) %s\n' "$1" "$2"
}

# repeat_char CHAR COUNT: print CHAR COUNT times (no newline).
repeat_char() {
    _rc_i=0
    while [ "$_rc_i" -lt "$2" ]; do
        printf '%s' "$1"
        _rc_i=$((_rc_i + 1))
    done
}
