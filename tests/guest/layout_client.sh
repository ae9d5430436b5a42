#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The pNFS-style client, 'p2pmap layout write' (busybox sh, in the rig, in
# a directory of the file system under test): it writes a new file and
# overwrites part of an existing one straight to the blocks, commits and
# returns, and another process reading through the VFS sees exactly the
# input; on a recall (a conflicting layout, a truncate) it stops its I/O,
# commits, returns, and writes the rest through write(2), reporting it.
# Prints TAP.
n=0
failed=0
out=/tmp/layout_client.out
err=/tmp/layout_client.err
fs=$(stat -f -c %T .)
case $fs in ext*) fs=ext4 ;; esac

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

# json KEY: the value of a top-level member of the JSON output
json() {
	sed -n "s/^  \"$1\": \"*\([^\",]*\)\"*,*\$/\1/p" $out
}

# wait_layout PID FILE: until PID holds a layout of FILE (its PROT_NONE
# mapping of the file appears in its maps), at most 30 s
wait_layout() {
	i=0
	while [ $i -lt 300 ] && ! grep -q " $(pwd)/$2\$" /proc/$1/maps 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
}

# wait_written FILE REF: until the first 4 KiB of FILE, read with O_DIRECT
# (the blocks), are REF's: a client writing REF into FILE through a layout
# holds it and has done its first I/O, at most 30 s. Its mapping alone
# (wait_layout) is not enough: the layout is set up after it, and a
# conflict or a truncate that comes first fails the layout get (-EAGAIN,
# "broken while being set up"): the debug kernel's slow set-up lost that
# race once.
wait_written() {
	head -c 4096 "$2" >first.ref
	i=0
	while [ $i -lt 300 ] &&
		! dd if="$1" iflag=direct bs=4096 count=1 2>/dev/null | cmp -s - first.ref; do
		sleep 0.1
		i=$((i + 1))
	done
}

dd if=/dev/urandom of=in.bin bs=1024 count=3075 2>/dev/null	# 3 MiB + 3 KiB

# ---- a new file -------------------------------------------------------------
run p2pmap -o json layout write new.bin --input in.bin
if [ "$fs" = xfs ]; then
	# unwritten extents allocated by map_blocks, committed with the size
	[ $rc = 0 ] && [ "$(json bytes_layout)" = 3148800 ] &&
		[ "$(json bytes_write)" = 0 ] && [ "$(json fallback)" = null ] &&
		[ "$(json size)" = 3148800 ] && cmp -s in.bin new.bin
	result $? "xfs: a new file is written through a layout (unwritten extents, size extended) and reads back the same"
else
	# ext4 cannot allocate for a layout: refused, and the client falls back
	[ $rc = 0 ] && [ "$(json bytes_layout)" = 0 ] &&
		[ "$(json bytes_write)" = 3148800 ] &&
		grep -q '"fallback": ".*hole' $out && cmp -s in.bin new.bin
	result $? "ext4: a new file cannot get a read-write layout; the client says why and writes through write(2)"
fi

# ---- overwrite of an existing file, unaligned ------------------------------
dd if=/dev/urandom of=old.bin bs=1M count=4 2>/dev/null
sync
# (not dd bs=1: a system call a byte took minutes on the debug kernel)
head -c 1048583 in.bin >part.bin
{ head -c 100 old.bin; cat part.bin; tail -c +$((100 + 1048583 + 1)) old.bin; } >want.bin
run p2pmap -o json layout write old.bin 100 --input part.bin
[ $rc = 0 ] && [ "$(json bytes_layout)" = 1048583 ] &&
	[ "$(json bytes_write)" = 0 ] && [ "$(json size)" = 4194304 ] &&
	cmp -s want.bin old.bin
result $? "$fs: an unaligned overwrite of written blocks goes through the layout; a reader sees exactly the new bytes"

run p2pmap layout show old.bin 0 1M
[ $rc = 0 ] && grep -q "^layout [0-9]* (read): bytes 0-1048576" $out &&
	grep -q " written .* yes\$" $out
result $? "$fs: 'p2pmap layout show' lists written extents a CMB can stage"

run p2pmap layout read old.bin 100 1048583 --to back.bin
[ $rc = 0 ] && cmp -s part.bin back.bin
result $? "$fs: 'p2pmap layout read' reads the bytes back through a read layout"

# ---- recalled by a conflicting layout -------------------------------------
dd if=/dev/urandom of=big.in bs=1M count=8 2>/dev/null
dd if=/dev/urandom of=big.bin bs=1M count=8 2>/dev/null
sync
p2pmap -o json layout write big.bin --input big.in --pace 0.4 >big.out 2>big.err &
client=$!
wait_layout $client big.bin
wait_written big.bin big.in
# the conflicting layout is refused (EAGAIN) while the holder is recalled
p2pmap layout show big.bin 0 4096 >/dev/null 2>show.err
show_rc=$?
i=0
while [ $i -lt 30 ] && ! p2pmap layout show big.bin 0 4096 >/dev/null 2>&1; do
	sleep 0.1
	i=$((i + 1))
done
wait $client
rc=$?
cp big.out $out
cp big.err $err
[ $show_rc = 1 ] && grep -q "conflicting layout" show.err && [ $i -lt 30 ] &&
	[ $rc = 0 ] && [ "$(json recall)" = conflict ] &&
	[ "$(json bytes_layout)" -gt 0 ] && [ "$(json bytes_write)" -gt 0 ] &&
	[ $(( $(json bytes_layout) + $(json bytes_write) )) = 8388608 ] &&
	cmp -s big.in big.bin
result $? "$fs: recalled by a conflicting layout, the client commits, returns at once and writes the rest through write(2)"

# ---- recalled by a truncate -----------------------------------------------
dd if=/dev/urandom of=big.bin bs=1M count=8 2>/dev/null
sync
p2pmap -o json layout write big.bin --input big.in --pace 0.4 >big.out 2>big.err &
client=$!
wait_layout $client big.bin
wait_written big.bin big.in
t0=$(cut -d' ' -f1 /proc/uptime)
truncate -s 1M big.bin
trc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
wait $client
rc=$?
cp big.out $out
cp big.err $err
ms=$(awk "BEGIN { printf \"%d\", ($t1 - $t0) * 1000 }")
echo "# truncate took $ms ms"
if [ "$fs" = xfs ]; then
	cause=break
else
	cause=unmap
fi
# The truncate did not wait for the break time (5 s). The client's
# write(2)s of the rest race with it: the file ends at 1 MiB or 8 MiB, and
# its first MiB, written before the truncate, is the client's either way.
size=$(stat -c %s big.bin)
echo "# size after the race: $size"
[ $trc = 0 ] && [ $ms -lt 3000 ] && [ $rc = 0 ] &&
	[ "$(json recall)" = $cause ] && [ "$(json bytes_write)" -gt 0 ] &&
	{ [ $size = 1048576 ] || [ $size = 8388608 ]; } &&
	cmp -s -n 1048576 big.in big.bin
result $? "$fs: recalled by a truncate ($cause), the client returns within the break time and the truncate completes"

rm -f in.bin new.bin old.bin want.bin part.bin back.bin big.in big.bin big.out big.err show.err \
	first.ref
echo "1..$n"
exit $failed
