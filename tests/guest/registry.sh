#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# p2pmap's registries (importers, device-map callbacks, providers), tested in
# the kernel by tests/modules/p2pmap_test_registry.ko; this prints its TAP
# and fails if any check failed or none ran.
if ! modprobe p2pmap_test_registry; then
	echo "not ok 1 - load p2pmap_test_registry"
	echo "1..1"
	exit 1
fi
results=$(cat /sys/kernel/debug/p2pmap_test_registry/results)
rmmod p2pmap_test_registry
echo "$results"
echo "$results" | grep -q '^ok ' || exit 1
! echo "$results" | grep -q '^not ok'
