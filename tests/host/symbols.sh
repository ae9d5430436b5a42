#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# libp2pmap's ABI: the shared library exports exactly the functions that
# include/libp2pmap.h declares (as the compiler reads the header, with
# gcc -aux-info), each in the version node P2PMAP_0.1 or a later one, the
# version script names nothing else, and every function has kernel-doc
# with a Return: section. Prints TAP.
set -u
top=${P2PMAP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
header=$top/include/libp2pmap.h
map=$top/userspace/lib/libp2pmap.map
lib=$top/build/guest/lib/libp2pmap.so.0
CC=${CC:-cc}
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

result() {	# result STATUS DESCRIPTION [DETAILS FILE]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
		[ -n "${3:-}" ] && sed 's/^/# /' "$3"
	fi
}

# What the header declares: extern functions, from the compiler itself.
$CC -fsyntax-only -aux-info "$tmp/aux" -I"$top/include/uapi" -I"$top/include" \
	-x c "$header" 2>"$tmp/cc.err"
grep -F "/* $header:" "$tmp/aux" 2>/dev/null | grep ' extern ' |
	sed -E 's/^.*[ *]([a-z_][a-z0-9_]*) \(.*/\1/' | sort >"$tmp/declared"
[ -s "$tmp/declared" ] && ! grep -qv '^p2pmap_' "$tmp/declared"
result $? "include/libp2pmap.h declares functions, all named p2pmap_*" "$tmp/cc.err"

# What the library exports: defined dynamic symbols, without version.
nm -D --defined-only "$lib" >"$tmp/nm" 2>&1
awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$tmp/nm" | sort >"$tmp/exported"
diff -u --label declared --label exported "$tmp/declared" "$tmp/exported" >"$tmp/diff"
result $? "libp2pmap.so.0 exports exactly the functions of libp2pmap.h" "$tmp/diff"

# Every exported symbol carries a version from the version script.
awk '$2 != "A" && $3 !~ /@@?P2PMAP_[0-9]+\.[0-9]+$/' "$tmp/nm" >"$tmp/unversioned"
[ -s "$tmp/exported" ] && [ ! -s "$tmp/unversioned" ]
result $? "every exported symbol is versioned P2PMAP_x.y" "$tmp/unversioned"

# The version script lists declared functions only.
sed -e 's#/\*.*\*/##' "$map" | grep -oE '^[[:space:]]*p2pmap_[a-z0-9_]+;' |
	tr -d ' \t;' | sort >"$tmp/mapped"
comm -13 "$tmp/declared" "$tmp/mapped" >"$tmp/extra"
[ -s "$tmp/mapped" ] && [ ! -s "$tmp/extra" ]
result $? "libp2pmap.map names no function the header lacks" "$tmp/extra"

# kernel-doc: "NAME() - summary" in a /** comment that has a Return: line.
: >"$tmp/undocumented"
while read -r f; do
	awk -v f="$f" '
		/^\/\*\*/ { doc = ""; indoc = 1 }
		indoc { doc = doc $0 "\n" }
		indoc && /\*\// { indoc = 0; last = doc }
		!indoc && $0 ~ "[ *]" f " *\\(" && last != "" {
			if (last ~ ("\\* " f "\\(\\) - ") && last ~ /\* Return:/) ok = 1
			last = ""
		}
		END { exit !ok }' "$header" || echo "$f" >>"$tmp/undocumented"
done <"$tmp/declared"
[ -s "$tmp/declared" ] && [ ! -s "$tmp/undocumented" ]
result $? "every function of libp2pmap.h has kernel-doc with Return:" "$tmp/undocumented"

# The soname matches the file the rig installs.
objdump -p "$lib" 2>&1 | awk '$1 == "SONAME" { print $2 }' >"$tmp/soname"
[ "$(cat "$tmp/soname")" = libp2pmap.so.0 ]
result $? "the soname is libp2pmap.so.0" "$tmp/soname"

echo "1..$n"
exit $failed
