// SPDX-License-Identifier: GPL-2.0
/*
 * libp2pmap against the real module: a successful open clears the caller's
 * error, the version the library reads is the one sysfs shows and speaks
 * the library's ABI, handles are independent, close-on-exec, and nothing
 * leaks over many opens, successful or not.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libp2pmap.h>

#include "kselftest_harness.h"

static int count_fds(void)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* The fd this process has open on @path, or -1. */
static int find_fd(const char *path)
{
	char link[300], target[256];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	int fd = -1;
	ssize_t n;

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, path)) {
			fd = atoi(d->d_name);
			break;
		}
	}
	closedir(dir);
	return fd;
}

/* A successful open and version query clear a stale error. */
TEST(success_clears_error)
{
	struct p2pmap_version v;
	struct p2pmap_error e;
	struct p2pmap *h = NULL;

	memset(&e, 0x5a, sizeof(e));
	ASSERT_EQ(0, p2pmap_open(&h, &e)) TH_LOG("%s", e.msg);
	ASSERT_NE(NULL, h);
	EXPECT_EQ(P2PMAP_ERR_NONE, e.code);
	EXPECT_EQ(0, e.sys_errno);
	EXPECT_STREQ("", e.msg);

	memset(&e, 0x5a, sizeof(e));
	EXPECT_EQ(0, p2pmap_get_version(h, &v, &e)) TH_LOG("%s", e.msg);
	EXPECT_EQ(P2PMAP_ERR_NONE, e.code);
	EXPECT_STREQ("", e.msg);
	p2pmap_close(h);
}

/* The module version read by the library is /sys/module/p2pmap/version. */
TEST(version_matches_sysfs)
{
	char sysfs[64] = "", lib[64];
	struct p2pmap_version v;
	struct p2pmap_error e;
	struct p2pmap *h;
	unsigned int bit;
	FILE *f;

	f = fopen("/sys/module/p2pmap/version", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(sysfs, sizeof(sysfs), f));
	fclose(f);
	sysfs[strcspn(sysfs, "\n")] = '\0';

	ASSERT_EQ(0, p2pmap_open(&h, &e)) TH_LOG("%s", e.msg);
	memset(&v, 0, sizeof(v));
	ASSERT_EQ(0, p2pmap_get_version(h, &v, &e)) TH_LOG("%s", e.msg);
	p2pmap_close(h);

	snprintf(lib, sizeof(lib), "%u.%u.%u", v.major, v.minor, v.patch);
	EXPECT_STREQ(sysfs, lib);
	EXPECT_STREQ(p2pmap_library_version(), lib);
	EXPECT_EQ(p2pmap_library_abi(), v.abi);
	EXPECT_EQ(sizeof(v), v.size);
	/* every feature the module reports, the library can name */
	for (bit = 0; bit < 64; bit++)
		if (v.features & (1ULL << bit))
			EXPECT_NE(NULL, p2pmap_feature_name(1ULL << bit))
				TH_LOG("feature bit %u has no name", bit);
}

/* Two handles at once; closing one leaves the other working. */
TEST(handles_independent)
{
	struct p2pmap *a, *b;
	struct p2pmap_version v;
	struct p2pmap_error e;

	ASSERT_EQ(0, p2pmap_open(&a, &e)) TH_LOG("%s", e.msg);
	ASSERT_EQ(0, p2pmap_open(&b, &e)) TH_LOG("%s", e.msg);
	EXPECT_NE(a, b);
	p2pmap_close(a);
	EXPECT_EQ(0, p2pmap_get_version(b, &v, &e)) TH_LOG("%s", e.msg);
	p2pmap_close(b);
}

/* The library's descriptor is close-on-exec: children do not inherit it. */
TEST(fd_close_on_exec)
{
	struct p2pmap_error e;
	struct p2pmap *h;
	int fd;

	ASSERT_EQ(-1, find_fd(P2PMAP_DEVICE_PATH));
	ASSERT_EQ(0, p2pmap_open(&h, &e)) TH_LOG("%s", e.msg);
	fd = find_fd(P2PMAP_DEVICE_PATH);
	ASSERT_LE(0, fd);
	EXPECT_NE(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	p2pmap_close(h);
	EXPECT_EQ(-1, find_fd(P2PMAP_DEVICE_PATH));
}

/* 500 opens and closes, and 500 failed opens, leak no descriptor. */
TEST(no_descriptor_leak)
{
	struct p2pmap_error e;
	struct p2pmap *h;
	int before, i;

	before = count_fds();
	ASSERT_LT(0, before);
	for (i = 0; i < 500; i++) {
		ASSERT_EQ(0, p2pmap_open(&h, &e)) TH_LOG("%s", e.msg);
		p2pmap_close(h);
		/* opens, then fails the version ioctl: the fd must be closed */
		ASSERT_EQ(-ENOTTY, p2pmap_open_path("/dev/null", &h, &e));
	}
	EXPECT_EQ(before, count_fds());
}

TEST_HARNESS_MAIN
