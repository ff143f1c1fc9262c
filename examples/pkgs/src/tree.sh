#!@busybox@/bin/sh
# tree @version@ - list directories as a tree (stowage example package set).
# Output follows tree(1): "├── ", "└── ", "│   ", "name -> target" for
# symlinks (not followed), and a final "N directories, M files" line.
PATH='@busybox@/bin'
. '@libgreet@/lib/libgreet.sh'

all=0
while [ $# -gt 0 ]; do
    case $1 in
        -a) all=1 ;;
        --version) version_line tree '@version@'; exit 0 ;;
        -h|--help) printf 'Usage: tree [-a] [DIR...]\n'; exit 0 ;;
        --) shift; break ;;
        -?*) die "unknown option: $1" ;;
        *) break ;;
    esac
    shift
done
[ $# -gt 0 ] || set -- .

ndirs=0
nfiles=0

walk() { # DIR PREFIX
    # Shell globs (not ls) so that any byte sequence in a name survives;
    # ash sorts glob results bytewise, so the order is locale-independent.
    local dir="$1" prefix="$2" path name count i branch next
    if [ "$all" = 1 ]; then
        set -- "$dir"/* "$dir"/.[!.]* "$dir"/..?*
    else
        set -- "$dir"/*
    fi
    count=0
    for path in "$@"; do
        [ -e "$path" ] || [ -L "$path" ] && count=$((count + 1))
    done
    i=0
    for path in "$@"; do
        [ -e "$path" ] || [ -L "$path" ] || continue   # unmatched glob
        i=$((i + 1))
        name=${path##*/}
        if [ "$i" -eq "$count" ]; then branch='└── '; next='    '; else branch='├── '; next='│   '; fi
        if [ -L "$path" ]; then
            printf '%s%s%s -> %s\n' "$prefix" "$branch" "$name" "$(readlink -- "$path")"
            if [ -d "$path" ]; then ndirs=$((ndirs + 1)); else nfiles=$((nfiles + 1)); fi
        elif [ -d "$path" ]; then
            printf '%s%s%s\n' "$prefix" "$branch" "$name"
            ndirs=$((ndirs + 1))
            walk "$path" "$prefix$next"
        else
            printf '%s%s%s\n' "$prefix" "$branch" "$name"
            nfiles=$((nfiles + 1))
        fi
    done
}

for top in "$@"; do
    [ -d "$top" ] || die "$top: not a directory"
    printf '%s\n' "$top"
    walk "$top" ""
done
d=directories; [ "$ndirs" -eq 1 ] && d=directory
f=files; [ "$nfiles" -eq 1 ] && f=file
printf '\n%d %s, %d %s\n' "$ndirs" "$d" "$nfiles" "$f"
