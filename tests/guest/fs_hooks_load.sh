#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# p2pmap_fs.ko and the file-system modules: it attaches to XFS and ext4
# when they are loaded before it (the rig loads them first), pins the ones
# it attached to, loads without a file system that cannot be loaded, and
# attaches again once it can. The file system not mounted on /mnt is the
# one taken away. Prints TAP; fails if any check failed or none ran.
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
check() {	# check "NAME" COMMAND...
	name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
loaded() { grep -q "^$1 " /proc/modules; }
refcnt() { cat "/sys/module/$1/refcnt" 2>/dev/null || echo 0; }
attached_since() {	# attached_since MARK FS: the module said so after MARK
	dmesg | sed -n "/$1/,\$p" | grep -q "p2pmap_fs: device-map callbacks attached to $2\$"
}
absent_since() {
	dmesg | sed -n "/$1/,\$p" | grep -q "p2pmap_fs: $2 is not available"
}
mark() {	# a line in the kernel log to search from
	m="p2pmap-fs-hooks-load-$(date +%s)-$$-$n"
	echo "$m" >/dev/kmsg
	echo "$m"
}

case "$(stat -f -c %t /mnt)" in
58465342) mounted=xfs; other=ext4 ;;
ef53) mounted=ext4; other=xfs ;;
*) echo "1..0 # SKIP /mnt is neither XFS nor ext4"; exit 0 ;;
esac

if ! loaded p2pmap_fs && ! modprobe p2pmap_fs 2>/dev/null; then
	echo "1..0 # SKIP p2pmap_fs.ko is not built (fs-hooks/ not in the root Kbuild)"
	exit 0
fi
check "p2pmap_fs is loaded" loaded p2pmap_fs

if ! loaded "$other"; then
	# built into the kernel (the debug kernel): nothing to take away
	skip "$other is built in: it cannot be unloaded"
	echo "1..$n"
	exit $failed
fi

check "$other is pinned while p2pmap_fs is attached to it" \
	test "$(refcnt "$other")" -ge 1
if rmmod "$other" 2>/dev/null; then
	not_ok "rmmod $other fails while p2pmap_fs holds it"
	modprobe "$other"
else
	ok "rmmod $other fails while p2pmap_fs holds it"
fi
check "rmmod p2pmap_fs" rmmod p2pmap_fs
check "rmmod $other once p2pmap_fs is gone" rmmod "$other"

# without a way to load $other, p2pmap_fs loads and attaches to $mounted
modprobe_path=$(cat /proc/sys/kernel/modprobe)
echo /bin/false >/proc/sys/kernel/modprobe
m=$(mark)
check "p2pmap_fs loads without $other" modprobe p2pmap_fs
echo "$modprobe_path" >/proc/sys/kernel/modprobe
check "... and did not load $other" sh -c "! grep -q '^$other ' /proc/modules"
check "... and says $other is not available" absent_since "$m" "$other"
check "... and attached to $mounted" attached_since "$m" "$mounted"

# once the kernel can load $other (the rig's initramfs has modprobe in /bin
# only, not at the kernel's default path), a new p2pmap_fs loads it and
# attaches to both
check "rmmod p2pmap_fs (the one without $other)" rmmod p2pmap_fs
for p in /sbin/modprobe /bin/modprobe /usr/sbin/modprobe; do
	if [ -x "$p" ]; then echo "$p" >/proc/sys/kernel/modprobe; break; fi
done
m=$(mark)
check "p2pmap_fs loads again" modprobe p2pmap_fs
echo "$modprobe_path" >/proc/sys/kernel/modprobe
check "... and loaded $other itself" loaded "$other"
check "... and attached to $other" attached_since "$m" "$other"
check "... and attached to $mounted" attached_since "$m" "$mounted"
check "... and pins $other" test "$(refcnt "$other")" -ge 1

echo "1..$n"
exit $failed
