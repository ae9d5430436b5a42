#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# nvme-cmb refuses a CMB whose DMA would be remapped or bounced (an IOMMU
# translating for the controller) and serves it otherwise; the refusal's
# reason is readable. Meaningful both ways: the rig's default machine has
# no IOMMU; with "--qemu-arg -device --qemu-arg intel-iommu" it has one.
dbg=/sys/kernel/debug/p2pmap-nvme-cmb
n=0
fail=0
check() {	# check OK|FAIL DESCRIPTION
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

if [ ! -r $dbg/controllers ]; then
	echo "1..0 # SKIP p2pmap_nvme_cmb.ko is not loaded"
	exit 0
fi
line=$(grep '^0000:03:00.0 ' $dbg/controllers)
echo "# $line"
group=$(readlink /sys/bus/pci/devices/0000:03:00.0/iommu_group 2>/dev/null)
translated=0
if [ -n "$group" ] && [ "$(cat /sys/kernel/iommu_groups/$(basename "$group")/type 2>/dev/null)" != identity ]; then
	translated=1
fi
if [ $translated = 1 ]; then
	echo "# the controller's DMA is translated by an IOMMU (group $(basename "$group"))"
	case "$line" in
	*" none: DMA goes through dma_ops "*|*" none: an IOMMU domain"*) r=OK ;;
	*) r=FAIL ;;
	esac
	check $r "a CMB behind a translating IOMMU is refused, with the reason"
	if [ -e $dbg/0000:03:00.0 ]; then r=FAIL; else r=OK; fi
	check $r "no provider for the refused CMB"
else
	echo "# no IOMMU translates the controller's DMA"
	case "$line" in
	*" cmb "*) r=OK ;;
	*) r=FAIL ;;
	esac
	check $r "the CMB is served when DMA reaches it as it is"
	if grep -q '^state: live' $dbg/0000:03:00.0/info; then r=OK; else r=FAIL; fi
	check $r "its provider is live"
fi
echo "1..$n"
exit $fail
