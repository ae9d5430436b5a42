/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap check: the answer of P2PMAP_IOC_CHECK for a file, and how it is
 * printed (split so that tests/host can print answers of its own).
 */
#ifndef _P2PMAP_CLI_CHECK_H
#define _P2PMAP_CLI_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/**
 * struct cli_mount - the mount a file lives on (from /proc/self/mountinfo)
 * @found: the other members are valid.
 * @fstype: "xfs".
 * @source: "/dev/nvme0n1".
 * @dir: "/mnt".
 */
struct cli_mount {
	bool found;
	char fstype[32];
	char source[256];
	char dir[1024];
};

/*
 * cli_mount_of() - the mount of the file system with device number
 * @major:@minor that holds @path (the deepest one when several do)
 * @mountinfo: the contents of /proc/self/mountinfo.
 */
void cli_mount_of(const char *mountinfo, unsigned int major,
		  unsigned int minor, const char *path, struct cli_mount *m);

/**
 * struct cli_check_summary - bytes of the answer by path and reason
 * @p2p: bytes a device would read peer to peer.
 * @pagecache: bytes it would get from the page cache.
 * @none: bytes with no path.
 * @by_reason: @pagecache and @none by enum p2pmap_reason.
 */
struct cli_check_summary {
	uint64_t p2p;
	uint64_t pagecache;
	uint64_t none;
	uint64_t by_reason[P2PMAP_STATS_MAX_REASONS];
};

void cli_check_summarize(const struct p2pmap_check_result *r,
			 struct cli_check_summary *sum);

/**
 * struct cli_check_report - what 'p2pmap check' prints
 * @file: the file as the user named it.
 * @mount: where it lives.
 * @device: the importing PCI function (--device), or NULL.
 * @whole_file: no OFFSET LENGTH were given.
 * @result: the kernel's answer.
 */
struct cli_check_report {
	const char *file;
	struct cli_mount mount;
	const char *device;
	bool whole_file;
	const struct p2pmap_check_result *result;
};

/* Return: 0, or -EINVAL for a JSON writer bug. */
int cli_check_print(FILE *out, enum cli_output output,
		    const struct cli_check_report *rep);

#endif /* _P2PMAP_CLI_CHECK_H */
