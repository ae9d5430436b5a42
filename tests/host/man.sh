#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# p2pmap(8) documents what the command does: every command of the table
# (as 'p2pmap --help' lists them), every option, every exit code of
# userspace/cli/cli.h; and it holds no version number (VERSION does).
# Prints TAP.
set -u
top=${P2PMAP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
man=$top/userspace/cli/p2pmap.8
n=0
failed=0

result() {	# result STATUS DESCRIPTION [DETAIL]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
		[ -n "${3:-}" ] && echo "# $3"
	fi
}

# The sections a man page needs.
missing=
for s in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS"; do
	grep -qx "\.SH \"\\{0,1\\}$s\"\\{0,1\\}" "$man" || missing="$missing '$s'"
done
[ -z "$missing" ]
result $? "p2pmap.8 has the NAME ... EXIT STATUS sections" "missing:$missing"

# Commands: '  NAME  help' lines of --help, each a .TP/.B entry of COMMANDS.
commands=$("$top/build/guest/bin/p2pmap" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')
missing=
for c in $commands; do
	sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$man" | grep -qx "\.B $c" || missing="$missing $c"
done
[ -n "$commands" ] && [ -z "$missing" ]
result $? "every command ($(echo $commands)) is documented under COMMANDS" "missing:$missing"

# Options.
missing=
for o in '\\-o' '\\-\\-output' '\\-h' '\\-\\-help' '\\-V' '\\-\\-version'; do
	sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man" | grep -q "^\.BR .*$o\\b" || missing="$missing $o"
done
[ -z "$missing" ]
result $? "every option is documented under OPTIONS" "missing:$missing"

# Exit codes: the values of enum cli_exit, each a .TP entry of EXIT STATUS.
codes=$(sed -n '/^enum cli_exit {/,/^};/s/.*= *\([0-9]*\),.*/\1/p' "$top/userspace/cli/cli.h")
missing=
for c in $codes; do
	sed -n '/^\.SH "\{0,1\}EXIT STATUS/,/^\.SH /p' "$man" | grep -qx "\.B $c" || missing="$missing $c"
done
[ -n "$codes" ] && [ -z "$missing" ]
result $? "every exit code ($(echo $codes)) is documented under EXIT STATUS" "missing:$missing"

# No version number but the one in VERSION.
! grep -nF "$(cat "$top/VERSION")" "$man" >/dev/null
result $? "p2pmap.8 does not hold the version number" "$(grep -nF "$(cat "$top/VERSION")" "$man")"

echo "1..$n"
exit $failed
