// SPDX-License-Identifier: GPL-2.0
/*
 * Host-test helpers: capturing output, finding the source tree.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosttest.h"

int capture_begin(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	return c->f ? 0 : -1;
}

const char *capture_end(struct capture *c)
{
	if (c->f) {
		fclose(c->f);
		c->f = NULL;
	}
	return c->buf ? c->buf : "";
}

void capture_free(struct capture *c)
{
	capture_end(c);
	free(c->buf);
	c->buf = NULL;
}

char *source_path(const char *rel)
{
	char exe[PATH_MAX], *top, *slash, *path;
	const char *env = getenv("P2PMAP_TOP");
	ssize_t n;
	int i;

	if (env && *env) {
		top = strdup(env);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return NULL;
		exe[n] = '\0';
		for (i = 0; i < 3; i++) {	/* NAME, host-tests, build */
			slash = strrchr(exe, '/');
			if (!slash)
				return NULL;
			*slash = '\0';
		}
		top = strdup(exe);
	}
	if (!top)
		return NULL;
	if (asprintf(&path, "%s/%s", top, rel) < 0)
		path = NULL;
	free(top);
	return path;
}
