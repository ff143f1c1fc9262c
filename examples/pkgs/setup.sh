# Common builder prologue, run as: busybox sh -e setup.sh <package-builder.sh>
# The sandbox has no PATH (it is "/path-not-set"), so make one out of
# busybox applet symlinks in the build directory, then run the package builder.
set -eu

bb="$busyboxStatic/busybox"
tools="$NIX_BUILD_TOP/.tools"
"$bb" mkdir -p "$tools"
for applet in $("$bb" --list); do
    "$bb" ln -s "$bb" "$tools/$applet"
done
export PATH="$tools"
export LC_ALL=C TZ=UTC0 HOME="$NIX_BUILD_TOP"
umask 022

# substitute SRC DEST VAR...: copy SRC to DEST replacing @VAR@ with $VAR.
substitute() {
    _src=$1 _dst=$2
    shift 2
    _expr=""
    for _var in "$@"; do
        eval "_val=\${$_var}"
        case $_val in *'|'*) echo "substitute: '|' in \$$_var" >&2; exit 1 ;; esac
        _expr="$_expr -e s|@$_var@|$_val|g"
    done
    mkdir -p "$(dirname "$_dst")"
    # shellcheck disable=SC2086
    sed $_expr "$_src" > "$_dst"
    if grep -q '@[a-zA-Z]*@' "$_dst"; then
        echo "substitute: unreplaced placeholder in $_dst:" >&2
        grep -n '@[a-zA-Z]*@' "$_dst" >&2
        exit 1
    fi
}

# install_script SRC DEST VAR...: substitute and make executable.
install_script() {
    substitute "$@"
    chmod 0755 "$2"
}

. "$1"
