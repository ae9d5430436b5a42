// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap - what p2pmap does on this system, and why. See p2pmap(8).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
	int ret = cli_main(argc, argv, stdout, stderr);

	/* Output that did not reach its destination is a failure. */
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "p2pmap: writing the output failed: %s\n",
			strerror(errno));
		if (ret == CLI_EXIT_OK)
			ret = CLI_EXIT_FAILED;
	}
	return ret;
}
