# hello: bin/hello (busybox shebang, sources libgreet), a man page and docs.
install_script "$src" "$out/bin/hello" busybox libgreet version
mkdir -p "$out/share/man/man1" "$out/share/doc/hello"
cat > "$out/share/man/man1/hello.1" <<'MAN'
.TH HELLO 1 "" "hello" "stowage example package set"
.SH NAME
hello \- print a friendly greeting
.SH SYNOPSIS
.B hello
[\fB\-\-name\fR \fINAME\fR] [\fB\-\-version\fR] [\fB\-\-help\fR]
.SH DESCRIPTION
Prints "Hello, world!" on standard output.
MAN
printf 'hello %s: prints "Hello, world!".\n' "$version" > "$out/share/doc/hello/README"
