#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The built p2pmap command, end to end on the host: exit codes, messages,
# --version against the VERSION file, JSON that a real parser accepts,
# write errors. On a host without the p2pmap module (the usual case: the
# module runs in the rig) 'version' must exit 3 with the "not loaded"
# message. Prints TAP.
set -u
top=${P2PMAP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
p2pmap=$top/build/guest/bin/p2pmap
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

result() {	# result STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
		for f in out err; do
			[ -s "$tmp/$f" ] && sed "s/^/# $f: /" "$tmp/$f"
		done
		echo "# exit status: $rc"
	fi
}

run() {		# run ARGS...: sets rc, $tmp/out, $tmp/err; no LD_LIBRARY_PATH
	env -u LD_LIBRARY_PATH "$p2pmap" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

json_valid() {
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$tmp/out" 2>>"$tmp/err"
}

version=$(cat "$top/VERSION")

run --version
[ $rc = 0 ] && [ "$(cat "$tmp/out")" = "p2pmap $version" ] && [ ! -s "$tmp/err" ]
result $? "--version prints 'p2pmap $version' from VERSION and exits 0"

run -o json --version
[ $rc = 0 ] && json_valid &&
	python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["p2pmap"]["version"] == sys.argv[2]' \
		"$tmp/out" "$version" 2>>"$tmp/err"
result $? "-o json --version is valid JSON with the version"

run --help
[ $rc = 0 ] && grep -q '^usage: p2pmap ' "$tmp/out" && grep -q '^  version ' "$tmp/out" &&
	[ ! -s "$tmp/err" ]
result $? "--help prints the usage and the commands on stdout, exit 0"

run
[ $rc = 2 ] && grep -q '^usage: p2pmap ' "$tmp/err" && [ ! -s "$tmp/out" ]
result $? "no arguments: usage on stderr, exit 2"

run frobnicate
[ $rc = 2 ] && [ "$(cat "$tmp/err")" = "p2pmap: unknown command 'frobnicate' (see 'p2pmap --help')" ]
result $? "an unknown command exits 2 and names it"

run version -o yaml
[ $rc = 2 ] && grep -qF "invalid output format 'yaml'" "$tmp/err" && [ ! -s "$tmp/out" ]
result $? "a bad -o value exits 2 before doing anything"

run version
if [ -e /sys/module/p2pmap ]; then
	[ $rc = 0 ]
	result $? "version exits 0 with the module loaded on this host"
else
	[ $rc = 3 ] && grep -q '^module     unavailable$' "$tmp/out" &&
		[ "$(cat "$tmp/err")" = "p2pmap: module p2pmap not loaded (/dev/p2pmap missing)" ]
	result $? "version without the module: exit 3, 'module p2pmap not loaded (/dev/p2pmap missing)'"
fi

run version -o json
if [ -e /sys/module/p2pmap ]; then
	[ $rc = 0 ] && json_valid
	result $? "version -o json: valid JSON, exit 0"
else
	[ $rc = 3 ] && json_valid &&
		python3 - "$tmp/out" <<'PY' 2>>"$tmp/err"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["module"]
assert m["available"] is False, m
assert m["error"]["code"] == "not_loaded", m
assert m["error"]["errno"] == 2, m
assert m["error"]["message"] == "module p2pmap not loaded (/dev/p2pmap missing)", m
assert d["library"]["version"] == d["p2pmap"]["version"], d
PY
	result $? "version -o json without the module: valid JSON with the error, exit 3"
fi

env -u LD_LIBRARY_PATH "$p2pmap" --version >/dev/full 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q 'writing the output failed' "$tmp/err"
result $? "output that cannot be written exits 1 with a message"

echo "1..$n"
exit $failed
