#!@busybox@/bin/sh
# cowsay @version@ - a talking cow (stowage example package set).
PATH='@busybox@/bin'
. '@libgreet@/lib/libgreet.sh'

cowdir='@out@/share/cowsay/cows'
cow=default
case ${0##*/} in cowthink) mode=think ;; *) mode=say ;; esac
while [ $# -gt 0 ]; do
    case $1 in
        -f) [ $# -ge 2 ] || die "option -f requires an argument"; cow=$2; shift ;;
        -l) ls "$cowdir" | sed 's/\.cow$//'; exit 0 ;;
        --version) version_line "cow$mode" '@version@'; exit 0 ;;
        --) shift; break ;;
        -?*) die "unknown option: $1" ;;
        *) break ;;
    esac
    shift
done
[ -r "$cowdir/$cow.cow" ] || die "no such cow: $cow"

if [ $# -gt 0 ]; then text=$*; else text=$(cat); fi
printf '%s\n' "$text" | awk -v mode="$mode" '
    { lines[NR] = $0; if (length($0) > w) w = length($0) }
    END {
        if (NR == 0) { lines[1] = ""; NR = 1 }
        bar = ""; for (i = 0; i < w + 2; i++) bar = bar "_"
        print " " bar
        for (i = 1; i <= NR; i++) {
            if (mode == "think") { l = "("; r = ")" }
            else if (NR == 1) { l = "<"; r = ">" }
            else if (i == 1) { l = "/"; r = "\\" }
            else if (i == NR) { l = "\\"; r = "/" }
            else { l = "|"; r = "|" }
            printf "%s %-" w "s %s\n", l, lines[i], r
        }
        gsub(/_/, "-", bar)
        print " " bar
    }'
thoughts='\\'
[ "$mode" = think ] && thoughts=o
sed "s/\\\$thoughts/$thoughts/g" "$cowdir/$cow.cow"
