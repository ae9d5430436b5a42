#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The p2pmap command against the real module (busybox sh, in the rig):
# 'version' reports the module's version as sysfs does, and '--version'
# agrees; with the module unloaded, 'version' exits 3 with the "not loaded"
# message; with the module loaded but /dev/p2pmap gone, exit 3 with a
# message that says so; with /dev/p2pmap unreadable, exit 1 and "permission
# denied". Everything is put back as it was (the rig unloads the modules
# afterwards). Prints TAP.
n=0
failed=0
out=/tmp/cli.out
err=/tmp/cli.err

result() {	# result STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
		sed 's/^/# stdout: /' $out
		sed 's/^/# stderr: /' $err
		echo "# exit status: $rc"
	fi
}

run() {		# run ARGS...: sets rc, $out and $err
	"$@" >$out 2>$err
	rc=$?
}

# The "version" member of the "module" object of p2pmap's JSON output.
json_module_version() {
	awk '/^  "module": \{/ { m = 1 }
	     m && /^    "version": / { gsub(/[",]/, "", $2); print $2; exit }' $out
}

sysver=$(cat /sys/module/p2pmap/version 2>/dev/null)

# ---- with the module ------------------------------------------------------
run p2pmap version -o json
[ $rc = 0 ] && [ -n "$sysver" ] && [ "$(json_module_version)" = "$sysver" ] &&
	grep -qx '    "available": true,' $out
result $? "'p2pmap version -o json' reports module version '$sysver' of /sys/module/p2pmap/version"

run p2pmap version
[ $rc = 0 ] && grep -q "^module     $sysver (ABI [0-9]*)\$" $out && [ ! -s $err ]
result $? "'p2pmap version' prints 'module     $sysver (ABI n)', exit 0"

run p2pmap --version
[ $rc = 0 ] && [ "$(cat $out)" = "p2pmap $sysver" ]
result $? "'p2pmap --version' prints 'p2pmap $sysver'"

# ---- /dev/p2pmap not accessible -------------------------------------------
mode=$(stat -c %a /dev/p2pmap)
chmod 000 /dev/p2pmap
# util-linux's setpriv: busybox sh would run its own applet of that name
run /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups p2pmap version
chmod "$mode" /dev/p2pmap
[ $rc = 1 ] &&
	[ "$(cat $err)" = "p2pmap: permission denied opening /dev/p2pmap (check its mode and your groups)" ]
result $? "an unprivileged user without access to /dev/p2pmap: exit 1, 'permission denied'"

# ---- the module loaded, its node gone ---------------------------------------
mv /dev/p2pmap /dev/p2pmap.cli-test
run p2pmap version -o json
mv /dev/p2pmap.cli-test /dev/p2pmap
[ $rc = 3 ] && grep -qx '      "code": "no_device_node",' $out &&
	[ "$(cat $err)" = "p2pmap: module p2pmap is loaded but /dev/p2pmap is missing (no devtmpfs or udev here?)" ]
result $? "module loaded but /dev/p2pmap missing: exit 3, a message that says so"

# ---- without the module -----------------------------------------------------
# Modules that use p2pmap hold it: unload them first, reload them after.
removed=
holders=$(ls /sys/module/p2pmap/holders 2>/dev/null)
unload() {	# unload MODULE: its holders first
	for h in /sys/module/$1/holders/*; do
		[ -e "$h" ] && unload "$(basename "$h")"
	done
	rmmod "$1" && removed="$1 $removed"
}
unload p2pmap
[ ! -e /sys/module/p2pmap ] && [ ! -e /dev/p2pmap ]
rc=$?
result $rc "rmmod p2pmap (holders unloaded first: ${holders:-none})"

run p2pmap version
[ $rc = 3 ] && [ "$(cat $err)" = "p2pmap: module p2pmap not loaded (/dev/p2pmap missing)" ] &&
	grep -qx 'module     unavailable' $out
result $? "'p2pmap version' without the module: exit 3, 'module p2pmap not loaded (/dev/p2pmap missing)'"

run p2pmap version -o json
[ $rc = 3 ] && grep -qx '    "available": false,' $out &&
	grep -qx '      "code": "not_loaded",' $out &&
	grep -qx '      "message": "module p2pmap not loaded (/dev/p2pmap missing)"' $out
result $? "'p2pmap version -o json' without the module: exit 3, code not_loaded"

run p2pmap --version
[ $rc = 0 ] && [ "$(cat $out)" = "p2pmap $sysver" ]
result $? "'p2pmap --version' needs no module"

run p2pmap stats
[ $rc = 3 ] && [ "$(cat $err)" = "p2pmap: module p2pmap not loaded (/dev/p2pmap missing)" ] && [ ! -s $out ]
result $? "'p2pmap stats' without the module: exit 3, 'module p2pmap not loaded'"

echo data >/tmp/cli.file
run p2pmap check /tmp/cli.file -o json
[ $rc = 3 ] && [ "$(cat $err)" = "p2pmap: module p2pmap not loaded (/dev/p2pmap missing)" ] && [ ! -s $out ]
result $? "'p2pmap check' without the module: exit 3, 'module p2pmap not loaded'"

# topo needs no module: it says what it could not ask, and why
run p2pmap topo
[ $rc = 0 ] && grep -q '^    kernel: not asked: module p2pmap not loaded (/dev/p2pmap missing)$' $out &&
	grep -q ': no P2P: no P2P provider for nvme0: module p2pmap_nvme_cmb not loaded$' $out &&
	grep -q '^note: importers unknown: module p2pmap not loaded$' $out
result $? "'p2pmap topo' without the module: exit 0, the kernel not asked and no provider, with reasons"

reload_ok=0
for m in $removed; do
	modprobe "$m" || reload_ok=1
done
run p2pmap version
[ $reload_ok = 0 ] && [ $rc = 0 ]
result $? "modprobe $(echo $removed) again: 'p2pmap version' exits 0"

echo "1..$n"
exit $failed
