# SPDX-License-Identifier: GPL-2.0
#
# p2pmap top-level Makefile.
#
#   make                 kernel modules (against KDIR) and user-space tools
#   make W=1             the same, with the kernel's extra warnings
#   make check           host tests, then every guest test in the QEMU rig
#   make demo            the main job, told in the rig
#   make bench           p2pmap bench in the rig; results in build/bench/
#   make setup           install what the build and the rig need (Debian)
#   make KDIR=/path      build the modules against another kernel tree
#   make checkpatch      the house rules: checkpatch, kernel-doc, W=1, uapi
#   make debug-kernel    build (or find cached) the KASAN/lockdep/P2PDMA kernel
#   make check-debug     every test again, on the debug kernel
#
# The only version number is in VERSION.

VERSION := $(shell cat VERSION)
TOP := $(CURDIR)

# The Debian 6.1 headers that scripts/setup installs; the rig boots the
# matching linux-image-*-unsigned.
KDIR ?= $(shell scripts/default-kdir)
KRELEASE = $(shell scripts/kernel-release $(KDIR))
CONFTEST_DIR = $(TOP)/build/conftest/$(KRELEASE)

export KDIR

.PHONY: all modules userspace conftest check check-host check-guest demo \
	setup clean checkpatch help debug-kernel check-debug bench

all: modules userspace

help:
	@sed -n '3,15p' Makefile

setup:
	@scripts/setup

# Modules build in place; when KDIR changes, the objects of the previous
# kernel are cleaned first so that no module of the wrong vermagic survives.
build/kdir.stamp: FORCE
	@mkdir -p build
	@if [ "$$(cat $@ 2>/dev/null)" != "$(KDIR)" ]; then \
		if [ -f $@ ]; then $(MAKE) --no-print-directory modules-clean; fi; \
		echo "$(KDIR)" > $@; \
	fi

conftest: build/kdir.stamp
	@if [ -z "$(KRELEASE)" ]; then \
		echo "p2pmap: no kernel tree at KDIR=$(KDIR) (run 'make setup', or pass KDIR=...)" >&2; \
		exit 1; \
	fi
	@if [ ! -f $(CONFTEST_DIR)/p2pmap_conftest.h ] || \
	    [ -n "$$(find scripts/conftest scripts/conftest.sh -newer $(CONFTEST_DIR)/p2pmap_conftest.h)" ]; then \
		echo "  CONFTEST $(KRELEASE)"; \
		scripts/conftest.sh $(KDIR) $(CONFTEST_DIR)/p2pmap_conftest.h; \
	fi

# flock: several shells (or developers' agents) may build in one tree.
modules: conftest
	flock $(TOP)/build/modules.lock \
		$(MAKE) -C $(KDIR) M=$(TOP) P2PMAP_CONFTEST_DIR=$(CONFTEST_DIR) modules

modules-clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -s -C $(KDIR) M=$(TOP) P2PMAP_CONFTEST_DIR=/nonexistent clean; fi

userspace:
	$(MAKE) -C userspace

# The README's test command: everything a fresh clone needs, then every test.
check: setup
	@$(MAKE) --no-print-directory all
	@tests/run-all

demo: setup
	@$(MAKE) --no-print-directory all
	@tests/demo

# p2pmap bench in the rig (16 MiB CMB); BENCH_ARGS go to p2pmap bench
bench: setup
	@$(MAKE) --no-print-directory all
	@tests/bench/p2pmap-bench -- $(BENCH_ARGS)

# The debug kernel (KASAN, lockdep, kmemleak, fault injection, P2PDMA),
# built once per configuration and cached (docs/debug-kernel.md).
debug-kernel:
	@scripts/debug-kernel --build

# The guest suite on the debug kernel, each kernel path once (run-all
# --plan debug: CI's 90 minutes hold make check, the kernel's build and
# this). The modules are rebuilt against it; the next plain 'make'
# rebuilds them for the stock kernel.
check-debug: setup
	@scripts/debug-kernel --build
	@kdir=$$(scripts/debug-kernel --print-kdir) && \
		$(MAKE) --no-print-directory KDIR="$$kdir" all
	@tests/run-all --kernel debug --no-host --plan debug

# checkpatch --strict, kernel-doc of exports, W=1, the uapi header alone
checkpatch: setup conftest
	@tests/lint

clean: modules-clean
	$(MAKE) -C userspace clean
	rm -rf build

FORCE:
