// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap bench [DIR]: the same file made available to the dummy GPU four
 * ways, at sizes from 4 KiB to 16 times the CMB, with the figures that say
 * what each way costs:
 *
 *   p2p      the file mmap'd MAP_SHARED and imported as a userptr object;
 *            the device copies it into VRAM (COPY jobs); p2pmap stages the
 *            blocks into the CMB and hands the device bus addresses there.
 *            Before that, with DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT, the
 *            file is mapped piece after piece, back to back, without a job
 *            (on a cold CMB, which is dropped again afterwards): that time
 *            is the map-and-stage rate (fault -> staged -> bus address),
 *            the device's read excluded -- and with it any time during
 *            which staging ahead could hide behind a device's copy.
 *   read     read(2) into a host buffer, then the device copies the buffer
 *            into VRAM.
 *   odirect  the same with O_DIRECT.
 *   bio      a bare bio loop reading the file's LBAs into CMB memory
 *            (debugfs p2pmap-nvme-cmb/bench): the limit inside the rig.
 *
 * Per path: throughput, CPU time (the process's, the device engine's job
 * time, and every CPU's), page-cache growth from /proc/meminfo, pages the
 * device got from the page cache (job results and p2pmap's counters), CMB
 * bytes staged. Then the bars, as PASS/FAIL lines.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include <libp2pmap_dgpu.h>

#include "cleanup.h"
#include "cli.h"
#include "json.h"

#define BENCH_FILE		"p2pmap-bench.dat"
#define BENCH_DEBUGFS		"/sys/kernel/debug/p2pmap-nvme-cmb"
#define BENCH_PIECE		(4ULL << 20)	/* bytes a job or a read moves */
/*
 * The bare loop's default shape: the best this rig showed (a sweep of 4-32
 * bios of 128 KiB-1 MiB: 1 MiB bios, 16 in flight, 2.4-3.3 GB/s, where 32 x
 * 128 KiB gave 1.5-2.0), fewer bios when the CMB is smaller than 16 MiB.
 */
#define BENCH_BIO_DEPTH		16
#define BENCH_BIO_BYTES		(1ULL << 20)
#define BENCH_BIO_MAX_DEPTH	256		/* the debugfs loop's limits */
#define BENCH_BIO_MAX_BYTES	(1ULL << 20)
/* the bio loop reads the file again until it has moved this much */
#define BENCH_BIO_MIN_BYTES	(256ULL << 20)
#define BENCH_MAX_SIZES		24
#define BENCH_MAX_EXTENTS	4096
#define BENCH_PAGE		4096ULL
#define BENCH_MAX_ROUNDS	9

const struct cli_option cli_bench_options[] = {
	{ "sizes", CLI_ARG_REQUIRED, "LIST",
	  "file sizes, comma-separated (default 4K,64K,1M,4M and 1/4, 1, 4, 16 times the CMB)" },
	{ "max", CLI_ARG_REQUIRED, "SIZE",
	  "leave out default sizes above SIZE (default 16 times the CMB)" },
	{ "rounds", CLI_ARG_REQUIRED, "N",
	  "measure every size N times, each on a freshly written file, and keep the median (default 3)" },
	{ "bio-depth", CLI_ARG_REQUIRED, "N",
	  "bios the bare bio loop keeps in flight (default 16, fewer if the CMB holds fewer)" },
	{ "bio-size", CLI_ARG_REQUIRED, "SIZE",
	  "bytes per bio of the bare bio loop, 4K..1M (default 1M); depth x size must fit the CMB" },
	{ "svg", CLI_ARG_REQUIRED, "FILE",
	  "write the plot of throughput against size to FILE (SVG)" },
	{ "json", CLI_ARG_REQUIRED, "FILE",
	  "also write the -o json document to FILE" },
	{ "no-progress", CLI_ARG_NONE, NULL,
	  "no progress bar on stderr" },
	{ NULL },
};

enum bench_path {
	BENCH_P2P,
	BENCH_READ,
	BENCH_ODIRECT,
	BENCH_BIO,
	BENCH_NR_PATHS,
};

static const char *const bench_path_names[BENCH_NR_PATHS] = {
	[BENCH_P2P] = "p2p",
	[BENCH_READ] = "read",
	[BENCH_ODIRECT] = "odirect",
	[BENCH_BIO] = "bio",
};

static const char *const bench_path_help[BENCH_NR_PATHS] = {
	[BENCH_P2P] = "mmap + userptr, device COPY from the CMB (P2P)",
	[BENCH_READ] = "read(2) into a host buffer + device COPY",
	[BENCH_ODIRECT] = "O_DIRECT into a host buffer + device COPY",
	[BENCH_BIO] = "bare bio loop, the file's LBAs into the CMB",
};

/* What every path measures around itself. */
struct bench_meter {
	double wall;
	double cpu_proc;
	double cpu_all;
	int64_t cached;
	uint64_t stats_p2p;
	uint64_t stats_fallback;
	uint64_t cmb_staged;
	uint64_t cmb_stall_evictions;
	uint64_t cmb_evicted_ahead;
	uint64_t cmb_evict_ahead_ns;
	uint64_t cmb_space_timeouts;
};

/**
 * struct bench_result - one path at one size
 * @error: 0, or the errno that stopped it (@why says where).
 * @bytes: bytes moved to the device (or into the CMB for bio: the file's
 *	size times @passes).
 * @passes: bio: times the loop read the file (so that it moves at least
 *	BENCH_BIO_MIN_BYTES: a short loop's rate is noise); 1 otherwise.
 * @secs: wall time.
 * @cpu_proc: this process's CPU time (user + system).
 * @cpu_all: busy time of every CPU (/proc/stat).
 * @engine: the device engine's time (sum of the jobs' duration_ns); for
 *	bio the kernel's own time of the loop.
 * @cache_growth: Cached + Buffers growth in /proc/meminfo, bytes.
 * @pages_p2p: pages the jobs reached peer to peer (job results).
 * @pages_pagecache: pages the jobs got from the page cache or host memory.
 * @stats_p2p: p2pmap's pages_p2p counter, its change.
 * @stats_fallback: p2pmap's pages_fallback counter, its change.
 * @cmb_staged: the CMB's staged bytes, their change.
 * @cmb_stall_evictions: extents stage requests evicted themselves (the
 *	evictions a fault waited for), their change.
 * @cmb_evicted_ahead: bytes the CMB's evict-ahead worker evicted while the
 *	device worked, their change.
 * @cmb_evict_ahead_ns: the worker's time, its change.
 * @cmb_space_timeouts: stage requests' waits for space that ran out their
 *	100 ms (an owner slow to put what was revoked), their change.
 * @drained_bytes: bio: bytes the drained loop read (the same LBAs, the same
 *	passes, a piece at a time: all of a piece's bios in flight, then
 *	none).
 * @drained_secs: bio: the drained loop's time, by its own clock.
 * @drains: bio: the drained loop's waits for an empty queue, as it counts.
 * @fault_secs: P2P: time spent in USERPTR_FAULT (map-and-stage), in the
 *	back-to-back pass before the copies.
 * @fault_bytes: P2P: bytes those calls mapped.
 * @fault_measured: P2P: USERPTR_FAULT was there.
 * @map_p2p: P2P: pages of that pass mapped peer to peer (p2pmap's count).
 * @map_fallback: P2P: pages of that pass that fell back (p2pmap's count;
 *	also added to @stats_fallback).
 * @mismatches: pieces whose bytes in VRAM were not the file's.
 * @why: what failed.
 */
struct bench_result {
	int error;
	uint64_t bytes;
	uint64_t passes;
	double secs;
	double cpu_proc;
	double cpu_all;
	double engine;
	int64_t cache_growth;
	uint64_t pages_p2p;
	uint64_t pages_pagecache;
	uint64_t stats_p2p;
	uint64_t stats_fallback;
	int64_t cmb_staged;
	uint64_t cmb_stall_evictions;
	uint64_t cmb_evicted_ahead;
	uint64_t cmb_evict_ahead_ns;
	uint64_t cmb_space_timeouts;
	uint64_t drained_bytes;
	double drained_secs;
	uint64_t drains;
	double fault_secs;
	uint64_t fault_bytes;
	bool fault_measured;
	uint64_t map_p2p;
	uint64_t map_fallback;
	uint64_t mismatches;
	char why[160];
};

struct bench {
	const struct cli_invocation *inv;
	const char *dir;
	char path[4096];
	uint64_t cmb_size;
	char cmb_pci[32];
	uint64_t sizes[BENCH_MAX_SIZES];
	unsigned int nr_sizes;
	unsigned int rounds;
	struct bench_result res[BENCH_MAX_SIZES][BENCH_NR_PATHS];
	struct bench_result round[BENCH_MAX_ROUNDS][BENCH_NR_PATHS];
	double ratio[BENCH_MAX_SIZES][BENCH_MAX_ROUNDS];
	unsigned int nr_ratios[BENCH_MAX_SIZES];
	double dratio[BENCH_MAX_SIZES][BENCH_MAX_ROUNDS];
	unsigned int nr_dratios[BENCH_MAX_SIZES];
	struct p2pmap *p2pmap;
	struct p2pmap_dgpu *dgpu;
	uint64_t piece;
	unsigned int bio_depth;
	uint64_t bio_bytes;
	unsigned int drain_depth;
	uint32_t vram;
	void *vram_map;
	void *host;
	bool progress;
	bool tty;
	uint64_t last_size;
	unsigned int steps, steps_done;
};

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double bench_cpu_proc(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Busy seconds of every CPU: user nice system irq softirq steal. */
static double bench_cpu_all(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return 0;
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
	       sysconf(_SC_CLK_TCK);
}

/* Cached + Buffers of /proc/meminfo, in bytes. */
static int64_t bench_cached(void)
{
	char line[128];
	long long kb, sum = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Cached: %lld kB", &kb) == 1 ||
		    sscanf(line, "Buffers: %lld kB", &kb) == 1)
			sum += kb;
	fclose(f);
	return sum * 1024;
}

/* A counter of the CMB's debugfs stats, or 0. */
static uint64_t bench_cmb_stat(const struct bench *b, const char *key)
{
	char path[256], line[128], name[64];
	unsigned long long v;
	uint64_t ret = 0;
	FILE *f;

	if (!b->cmb_pci[0])
		return 0;
	snprintf(path, sizeof(path), BENCH_DEBUGFS "/%s/stats", b->cmb_pci);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %llu", name, &v) == 2 &&
		    !strcmp(name, key))
			ret = v;
	fclose(f);
	return ret;
}

/* The first CMB in debugfs: its PCI name and size. Return: 0 or -errno. */
static int bench_find_cmb(struct bench *b)
{
	struct dirent *de;
	DIR *d = opendir(BENCH_DEBUGFS);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strchr(de->d_name, ':'))
			continue;
		cli_copy(b->cmb_pci, sizeof(b->cmb_pci), de->d_name);
		break;
	}
	closedir(d);
	if (!b->cmb_pci[0])
		return -ENODEV;
	b->cmb_size = bench_cmb_stat(b, "size");
	return b->cmb_size ? 0 : -ENODEV;
}

static void bench_meter_read(struct bench *b, struct bench_meter *m)
{
	struct p2pmap_stats st;

	memset(&st, 0, sizeof(st));
	p2pmap_get_stats(b->p2pmap, &st, NULL);
	m->stats_p2p = st.pages_p2p;
	m->stats_fallback = st.pages_fallback;
	m->cmb_staged = bench_cmb_stat(b, "staged");
	m->cmb_stall_evictions = bench_cmb_stat(b, "stall_evictions");
	m->cmb_evicted_ahead = bench_cmb_stat(b, "evicted_ahead");
	m->cmb_evict_ahead_ns = bench_cmb_stat(b, "evict_ahead_ns");
	m->cmb_space_timeouts = bench_cmb_stat(b, "space_timeouts");
	m->cached = bench_cached();
	m->cpu_all = bench_cpu_all();
	m->cpu_proc = bench_cpu_proc();
	m->wall = bench_now();
}

static void bench_meter_stop(struct bench *b, const struct bench_meter *m,
			     struct bench_result *r)
{
	struct p2pmap_stats st;

	r->secs = bench_now() - m->wall;
	r->cpu_proc = bench_cpu_proc() - m->cpu_proc;
	r->cpu_all = bench_cpu_all() - m->cpu_all;
	r->cache_growth = bench_cached() - m->cached;
	memset(&st, 0, sizeof(st));
	p2pmap_get_stats(b->p2pmap, &st, NULL);
	r->stats_p2p = st.pages_p2p - m->stats_p2p;
	r->stats_fallback = st.pages_fallback - m->stats_fallback;
	r->cmb_staged = (int64_t)(bench_cmb_stat(b, "staged") - m->cmb_staged);
	r->cmb_stall_evictions = bench_cmb_stat(b, "stall_evictions") -
				 m->cmb_stall_evictions;
	r->cmb_evicted_ahead = bench_cmb_stat(b, "evicted_ahead") -
			       m->cmb_evicted_ahead;
	r->cmb_space_timeouts = bench_cmb_stat(b, "space_timeouts") -
				m->cmb_space_timeouts;
	r->cmb_evict_ahead_ns = bench_cmb_stat(b, "evict_ahead_ns") -
				m->cmb_evict_ahead_ns;
}

/* The file's bytes: every 64-bit word is a function of its offset. */
static uint64_t bench_word(uint64_t off)
{
	return (off * 0x9E3779B97F4A7C15ULL) ^ 0x7032706d61702121ULL;
}

static void bench_fill(void *buf, uint64_t off, uint64_t len)
{
	uint64_t *w = buf, i;

	for (i = 0; i < len / 8; i++)
		w[i] = bench_word(off + i * 8);
}

/* Are the first and last page of a piece in VRAM the file's @off? */
static bool bench_verify(const struct bench *b, uint64_t off, uint64_t len)
{
	const uint64_t *w = b->vram_map;
	uint64_t i, n = len / 8, edge = BENCH_PAGE / 8;

	for (i = 0; i < n; i++) {
		if (i == edge && n > 2 * edge)
			i = n - edge;
		if (w[i] != bench_word(off + i * 8))
			return false;
	}
	return true;
}

static int bench_fail(struct bench_result *r, int err, const char *what)
{
	r->error = err < 0 ? -err : err;
	snprintf(r->why, sizeof(r->why), "%s: %s", what, strerror(r->error));
	return -r->error;
}

/* Write "1" to a control file (drop_caches, drop_cache). Return: 0 or -errno. */
static int bench_write_1(const char *path)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Drop the page cache ("1"), not the inode and dentry caches ("3"): with
 * them gone the first fault of each path re-read the file's inode and
 * extent list from the disk (4-7 ms per round under TCG, traced), a cost
 * the bare bio loop never pays (its extents come from FIEMAP before its
 * clock starts) and no data path is about.
 */
static int bench_drop_caches(void)
{
	sync();
	return bench_write_1("/proc/sys/vm/drop_caches");
}

/*
 * Drop what the CMB holds that nobody uses (debugfs drop_cache), as
 * drop_caches does for the page cache. Return: 0 or -errno.
 */
static int bench_drop_cmb(const struct bench *b)
{
	char path[256];

	snprintf(path, sizeof(path), BENCH_DEBUGFS "/%s/drop_cache", b->cmb_pci);
	return bench_write_1(path);
}

/* Write a fully written file of @size bytes. Return: 0 or -errno. */
static int bench_make_file(struct bench *b, uint64_t size)
{
	_cleanup_fd_ int fd = -1;
	uint64_t off, len;

	unlink(b->path);
	fd = open(b->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (off = 0; off < size; off += len) {
		len = size - off < BENCH_PIECE ? size - off : BENCH_PIECE;
		bench_fill(b->host, off, len);
		if (pwrite(fd, b->host, len, off) != (ssize_t)len)
			return errno ? -errno : -EIO;
	}
	if (fsync(fd))
		return -errno;
	return 0;
}

/* Copy @len bytes of userptr/VRAM object @src at @src_off to VRAM. */
static int bench_copy(struct bench *b, uint32_t src, uint64_t src_off,
		      uint64_t len, struct bench_result *r)
{
	struct drm_p2pmap_dgpu_result res;
	uint64_t job;
	int ret;

	ret = p2pmap_dgpu_copy(b->dgpu, P2PMAP_DGPU_ENGINE_CPU, b->vram, 0, src,
			       src_off, len, &job);
	if (ret)
		return bench_fail(r, ret, "submitting a COPY job");
	ret = p2pmap_dgpu_wait(b->dgpu, job, P2PMAP_DGPU_WAIT_FOREVER, &res);
	if (ret)
		return bench_fail(r, ret, "waiting for a COPY job");
	if (res.error)
		return bench_fail(r, (int)res.error, "the COPY job");
	r->engine += res.duration_ns / 1e9;
	r->pages_p2p += res.pages_p2p;
	r->pages_pagecache += res.pages_pagecache;
	r->bytes += res.bytes;
	return 0;
}

/* Map-and-stage a piece without a job. Return: 0, -ENOTTY (no such ioctl). */
static int bench_fault(struct bench *b, uint32_t handle, uint64_t off,
		       uint64_t len, struct bench_result *r)
{
#ifdef DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT
	struct drm_p2pmap_dgpu_userptr_fault f;
	double t;

	memset(&f, 0, sizeof(f));
	f.handle = handle;
	f.offset = off;
	f.length = (len + BENCH_PAGE - 1) & ~(BENCH_PAGE - 1);
	t = bench_now();
	if (ioctl(p2pmap_dgpu_fd(b->dgpu), DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT,
		  &f))
		return errno == ENOTTY || errno == EINVAL ? -ENOTTY :
		       bench_fail(r, -errno, "USERPTR_FAULT");
	r->fault_secs += bench_now() - t;
	r->fault_bytes += f.length;
	r->fault_measured = true;
	return 0;
#else
	(void)b;
	(void)handle;
	(void)off;
	(void)len;
	(void)r;
	return -ENOTTY;
#endif
}

/* What the P2P path does to one piece of the imported file mapping @fm. */
typedef int bench_piece_fn(struct bench *b,
			   const struct p2pmap_dgpu_file_map *fm, uint64_t off,
			   uint64_t len, struct bench_result *r);

/* Import the file (@fd, @size bytes) and run @fn on each piece in order. */
static int bench_pieces(struct bench *b, int fd, uint64_t size,
			bench_piece_fn *fn, struct bench_result *r)
{
	struct p2pmap_dgpu_file_map fm;
	uint64_t off, len;
	int ret;

	ret = p2pmap_dgpu_import_file(b->dgpu, fd, 0, size, 0, &fm);
	if (ret)
		return bench_fail(r, ret, "importing the file mapping");
	for (off = 0; off < size && !ret; off += len) {
		len = size - off < b->piece ? size - off : b->piece;
		ret = fn(b, &fm, off, len, r);
	}
	p2pmap_dgpu_release_file(b->dgpu, &fm);
	return ret;
}

static int bench_map_piece(struct bench *b,
			   const struct p2pmap_dgpu_file_map *fm, uint64_t off,
			   uint64_t len, struct bench_result *r)
{
	return bench_fault(b, fm->handle, fm->data_offset + off, len, r);
}

static int bench_copy_piece(struct bench *b,
			    const struct p2pmap_dgpu_file_map *fm, uint64_t off,
			    uint64_t len, struct bench_result *r)
{
	int ret = bench_copy(b, fm->handle, fm->data_offset + off, len, r);

	if (!ret && !bench_verify(b, off, len))
		r->mismatches++;
	return ret;
}

/*
 * The map-and-stage pass: every piece of the file mapped for the device,
 * back to back, no job in between; the file's blocks are not in the CMB
 * when it starts (a freshly written file). Pages that fell back to the page
 * cache are added to @r's p2pmap count. Return: 0 or -errno.
 */
static int bench_map_pass(struct bench *b, int fd, uint64_t size,
			  struct bench_result *r)
{
	struct p2pmap_stats before, after;
	int ret;

	memset(&before, 0, sizeof(before));
	memset(&after, 0, sizeof(after));
	p2pmap_get_stats(b->p2pmap, &before, NULL);
	ret = bench_pieces(b, fd, size, bench_map_piece, r);
	p2pmap_get_stats(b->p2pmap, &after, NULL);
	r->map_p2p = after.pages_p2p - before.pages_p2p;
	r->map_fallback = after.pages_fallback - before.pages_fallback;
	return ret;
}

static int bench_p2p(struct bench *b, uint64_t size, struct bench_result *r)
{
	struct bench_meter m;
	_cleanup_fd_ int fd = -1;
	int ret = 0;

	/* no atime: its journal commit grew Buffers during a measurement */
	fd = open(b->path, O_RDWR | O_CLOEXEC | O_NOATIME);
	if (fd < 0)
		return bench_fail(r, -errno, "opening the file");
	ret = bench_map_pass(b, fd, size, r);
	if (ret == -ENOTTY)
		ret = 0;	/* a dummy GPU without USERPTR_FAULT: not measured */
	if (ret)
		return ret;
	/* the copies start from a cold CMB too */
	ret = bench_drop_cmb(b);
	if (ret)
		return bench_fail(r, ret, "dropping the CMB's cache (debugfs drop_cache)");

	bench_meter_read(b, &m);
	ret = bench_pieces(b, fd, size, bench_copy_piece, r);
	bench_meter_stop(b, &m, r);
	r->stats_fallback += r->map_fallback;
	return ret;
}

static int bench_read(struct bench *b, uint64_t size, bool direct,
		      struct bench_result *r)
{
	struct bench_meter m;
	_cleanup_fd_ int fd = -1;
	uint64_t off, len, got;
	uint32_t host;
	ssize_t n;
	int ret;

	fd = open(b->path, O_RDONLY | O_CLOEXEC | O_NOATIME |
		  (direct ? O_DIRECT : 0));
	if (fd < 0)
		return bench_fail(r, -errno, "opening the file");
	bench_meter_read(b, &m);
	ret = p2pmap_dgpu_userptr(b->dgpu, b->host, b->piece, &host);
	if (ret)
		return bench_fail(r, ret, "importing the host buffer");
	for (off = 0; off < size && !ret; off += len) {
		len = size - off < b->piece ? size - off : b->piece;
		for (got = 0; got < len; got += n) {
			n = pread(fd, (char *)b->host + got, len - got, off + got);
			if (n <= 0) {
				ret = bench_fail(r, n ? -errno : -EIO,
						 direct ? "O_DIRECT pread" : "pread");
				break;
			}
		}
		if (!ret)
			ret = bench_copy(b, host, 0, len, r);
		if (!ret && !bench_verify(b, off, len))
			r->mismatches++;
	}
	p2pmap_dgpu_handle_close(b->dgpu, host);
	bench_meter_stop(b, &m, r);
	return ret;
}

/* The file's extents as "SECTOR+NR ..." for the bench file. */
static int bench_extents(int fd, uint64_t size, char *buf, size_t buflen,
			 struct bench_result *r)
{
	size_t fmsz = sizeof(struct fiemap) + 64 * sizeof(struct fiemap_extent);
	_cleanup_free_ struct fiemap *fm = malloc(fmsz);
	uint64_t start = 0, nr = 0;
	size_t used = 0;
	unsigned int i;
	int last = 0;

	if (!fm)
		return bench_fail(r, -ENOMEM, "FIEMAP");
	buf[0] = '\0';
	while (!last && start < size) {
		memset(fm, 0, fmsz);
		fm->fm_start = start;
		fm->fm_length = size - start;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = 64;
		if (ioctl(fd, FS_IOC_FIEMAP, fm))
			return bench_fail(r, -errno, "FIEMAP");
		if (!fm->fm_mapped_extents)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *e = &fm->fm_extents[i];

			if (e->fe_flags & (FIEMAP_EXTENT_UNKNOWN |
					   FIEMAP_EXTENT_UNWRITTEN |
					   FIEMAP_EXTENT_DELALLOC |
					   FIEMAP_EXTENT_ENCODED))
				return bench_fail(r, -EINVAL,
						  "the file is not fully written (FIEMAP)");
			used += snprintf(buf + used, buflen - used, "%llu+%llu ",
					 (unsigned long long)e->fe_physical / 512,
					 (unsigned long long)e->fe_length / 512);
			if (used >= buflen || ++nr > BENCH_MAX_EXTENTS)
				return bench_fail(r, -E2BIG, "too many extents");
			start = e->fe_logical + e->fe_length;
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				last = 1;
		}
	}
	if (!nr)
		return bench_fail(r, -ENODATA, "the file has no extents");
	return 0;
}

/* The value of the line "@key N" of the loop's result @out; Return: 0 or -1. */
static int bench_loop_field(const char *out, const char *key,
			    unsigned long long *v)
{
	size_t len = strlen(key);
	const char *p = out;

	while (p) {
		if (!strncmp(p, key, len) && p[len] == ' ')
			return sscanf(p + len, "%llu", v) == 1 ? 0 : -1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/*
 * One run of the debugfs loop over @size bytes of the file (@fd), @passes
 * times, @depth bios in flight, waiting for none after each @drain bytes (0:
 * never). Return: 0 or -errno; *@bytes, *@ns and *@drains filled.
 */
static int bench_bio_loop(struct bench *b, int fd, uint64_t size,
			  unsigned int depth, uint64_t drain, uint64_t passes,
			  uint64_t *bytes, uint64_t *ns, uint64_t *drains,
			  struct bench_result *r)
{
	_cleanup_free_ char *cmd = malloc(64 * 1024);
	unsigned long long got, took, errors, waits;
	_cleanup_fd_ int dfd = -1;
	char out[256];
	int head, ret;
	ssize_t n;

	if (!cmd)
		return bench_fail(r, -ENOMEM, "bio loop");
	head = snprintf(cmd, 96, "%d %u %llu %llu ", fd, depth,
			(unsigned long long)b->bio_bytes,
			(unsigned long long)passes);
	if (drain)
		head += snprintf(cmd + head, 32, "drain=%llu ",
				 (unsigned long long)drain);
	ret = bench_extents(fd, size, cmd + head, 64 * 1024 - head, r);
	if (ret)
		return ret;
	dfd = open(BENCH_DEBUGFS "/bench", O_RDWR | O_CLOEXEC);
	if (dfd < 0)
		return bench_fail(r, -errno, "opening " BENCH_DEBUGFS "/bench");
	if (write(dfd, cmd, strlen(cmd)) < 0)
		return bench_fail(r, -errno, "the bio loop (debugfs bench)");
	n = read(dfd, out, sizeof(out) - 1);
	if (n <= 0)
		return bench_fail(r, n ? -errno : -EIO, "reading the bio loop's result");
	out[n] = '\0';
	if (bench_loop_field(out, "bytes", &got) ||
	    bench_loop_field(out, "ns", &took) ||
	    bench_loop_field(out, "errors", &errors) ||
	    bench_loop_field(out, "drains", &waits))
		return bench_fail(r, -EPROTO, "parsing the bio loop's result");
	if (errors || strstr(out, "revoked 1"))
		return bench_fail(r, -EIO, "the bio loop");
	if (got != size * passes)
		return bench_fail(r, -EIO, "the bio loop read a different amount");
	*bytes = got;
	*ns = took;
	*drains = waits;
	return 0;
}

/*
 * The bare loop, then the same loop drained after each piece: a fault's own
 * I/O (all of a piece's bios in flight, then none) with nothing of p2pmap
 * around it. The meter covers the first only.
 */
static int bench_bio(struct bench *b, uint64_t size, struct bench_result *r)
{
	_cleanup_fd_ int fd = -1;
	uint64_t passes = (BENCH_BIO_MIN_BYTES + size - 1) / size;
	uint64_t bytes, ns, drains;
	struct bench_meter m;
	int ret;

	if (passes > 1024)
		passes = 1024;
	fd = open(b->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bench_fail(r, -errno, "opening the file");
	bench_meter_read(b, &m);
	ret = bench_bio_loop(b, fd, size, b->bio_depth, 0, passes, &bytes, &ns,
			     &drains, r);
	if (ret)
		return ret;
	bench_meter_stop(b, &m, r);
	r->bytes = bytes;
	r->passes = passes;
	r->engine = ns / 1e9;
	ret = bench_bio_loop(b, fd, size, b->drain_depth, b->piece, passes,
			     &bytes, &ns, &drains, r);
	if (ret)
		return ret;
	r->drained_bytes = bytes;
	r->drained_secs = ns / 1e9;
	r->drains = drains;
	return 0;
}

static double bench_drained_rate(const struct bench_result *r)
{
	return r->error || r->drained_secs <= 0 ? 0 :
	       r->drained_bytes / r->drained_secs / 1e6;
}

/* Throughput in MB/s; the bio loop by its own clock. */
static double bench_rate(const struct bench_result *r, enum bench_path p)
{
	double t = p == BENCH_BIO ? r->engine : r->secs;

	return r->error || t <= 0 ? 0 : r->bytes / t / 1e6;
}

static double bench_fault_rate(const struct bench_result *r)
{
	return r->fault_measured && r->fault_secs > 0 ?
	       r->fault_bytes / r->fault_secs / 1e6 : 0;
}

/*
 * The progress bar on stderr: redrawn in place on a terminal; elsewhere (a
 * log, the rig's serial port) one line per size, so that a log stays
 * readable.
 */
static void bench_progress(struct bench *b, uint64_t size, enum bench_path p)
{
	FILE *e = b->inv->err;
	unsigned int i, w = 30, fill;
	char sz[32];

	if (!b->progress)
		return;
	fill = b->steps ? b->steps_done * w / b->steps : w;
	if (!b->tty) {
		if (p == BENCH_NR_PATHS)
			fprintf(e, "bench: done (%u steps)\n", b->steps);
		else if (size != b->last_size)
			fprintf(e, "bench: %s (step %u of %u)\n",
				cli_format_bytes(size, sz, sizeof(sz)),
				b->steps_done + 1, b->steps);
		b->last_size = size;
		fflush(e);
		return;
	}
	fputs("\r[", e);
	for (i = 0; i < w; i++)
		fputc(i < fill ? '#' : '.', e);
	fprintf(e, "] %u/%u  %s %-8s", b->steps_done, b->steps,
		cli_format_bytes(size, sz, sizeof(sz)),
		p < BENCH_NR_PATHS ? bench_path_names[p] : "done");
	if (p == BENCH_NR_PATHS)
		fputc('\n', e);
	fflush(e);
}

/* Sorting rounds by throughput (bench_sort_path says which path). */
static enum bench_path bench_sort_path;

static int bench_by_rate(const void *x, const void *y)
{
	double a = bench_rate(x, bench_sort_path);
	double b = bench_rate(y, bench_sort_path);

	return (a > b) - (a < b);
}

static int bench_by_fault_rate(const void *x, const void *y)
{
	double a = bench_fault_rate(x), b = bench_fault_rate(y);

	return (a > b) - (a < b);
}

static int bench_by_drained_rate(const void *x, const void *y)
{
	double a = bench_drained_rate(x), b = bench_drained_rate(y);

	return (a > b) - (a < b);
}

static int bench_by_value(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/*
 * Per round, the map-and-stage rate over the bio loop's rate of the same
 * round (the two measured on the same file, seconds apart): the load of a
 * shared machine drifts over a run, and a ratio of two medians taken from
 * different rounds would mix it in. Kept sorted. The same against the
 * drained loop in @dratio.
 */
static void bench_round_ratios(struct bench *b, unsigned int si)
{
	const struct bench_result *p2p, *bio;
	unsigned int r, n = 0, d = 0;

	for (r = 0; r < b->rounds; r++) {
		p2p = &b->round[r][BENCH_P2P];
		bio = &b->round[r][BENCH_BIO];
		if (p2p->error || bio->error || !p2p->fault_measured ||
		    bench_rate(bio, BENCH_BIO) <= 0)
			continue;
		b->ratio[si][n++] = bench_fault_rate(p2p) /
				    bench_rate(bio, BENCH_BIO);
		if (bench_drained_rate(bio) > 0)
			b->dratio[si][d++] = bench_fault_rate(p2p) /
					     bench_drained_rate(bio);
	}
	qsort(b->ratio[si], n, sizeof(double), bench_by_value);
	b->nr_ratios[si] = n;
	qsort(b->dratio[si], d, sizeof(double), bench_by_value);
	b->nr_dratios[si] = d;
}

/*
 * The median round of each path (the machine is shared: one round says
 * little). A failed round makes the result that failure. For p2p the
 * map-and-stage figures are the median of their own.
 */
static void bench_median(struct bench *b, unsigned int si)
{
	struct bench_result tmp[BENCH_MAX_ROUNDS], *out;
	unsigned int r, n = b->rounds;
	uint64_t mismatches;
	enum bench_path p;

	for (p = 0; p < BENCH_NR_PATHS; p++) {
		out = &b->res[si][p];
		mismatches = 0;
		for (r = 0; r < n; r++) {
			tmp[r] = b->round[r][p];
			mismatches += tmp[r].mismatches;
			if (tmp[r].error) {
				*out = tmp[r];
				break;
			}
		}
		if (r < n)
			continue;
		bench_sort_path = p;
		qsort(tmp, n, sizeof(tmp[0]), bench_by_rate);
		*out = tmp[n / 2];
		if (p == BENCH_P2P) {
			qsort(tmp, n, sizeof(tmp[0]), bench_by_fault_rate);
			out->fault_secs = tmp[n / 2].fault_secs;
			out->fault_bytes = tmp[n / 2].fault_bytes;
			out->fault_measured = tmp[n / 2].fault_measured;
		}
		if (p == BENCH_BIO) {
			qsort(tmp, n, sizeof(tmp[0]), bench_by_drained_rate);
			out->drained_bytes = tmp[n / 2].drained_bytes;
			out->drained_secs = tmp[n / 2].drained_secs;
			out->drains = tmp[n / 2].drains;
		}
		out->mismatches = mismatches;	/* of every round */
	}
}

/*
 * One size: per round a freshly written file (nothing of it in the page
 * cache or the CMB), the page cache dropped before each path.
 */
static void bench_one_size(struct bench *b, unsigned int si)
{
	uint64_t size = b->sizes[si];
	struct bench_result *res;
	enum bench_path p;
	unsigned int r;
	int ret;

	memset(b->round, 0, sizeof(b->round));
	for (r = 0; r < b->rounds; r++) {
		res = b->round[r];
		ret = bench_make_file(b, size);
		if (ret) {
			for (p = 0; p < BENCH_NR_PATHS; p++)
				bench_fail(&res[p], ret, "writing the file");
			b->steps_done += BENCH_NR_PATHS;
			continue;
		}
		for (p = 0; p < BENCH_NR_PATHS; p++) {
			bench_progress(b, size, p);
			ret = bench_drop_caches();
			if (ret) {
				bench_fail(&res[p], ret,
					   "dropping the page cache (root?)");
			} else {
				switch (p) {
				case BENCH_P2P:
					bench_p2p(b, size, &res[p]);
					break;
				case BENCH_READ:
					bench_read(b, size, false, &res[p]);
					break;
				case BENCH_ODIRECT:
					bench_read(b, size, true, &res[p]);
					break;
				default:
					bench_bio(b, size, &res[p]);
					break;
				}
			}
			b->steps_done++;
		}
	}
	unlink(b->path);
	bench_round_ratios(b, si);
	bench_median(b, si);
}

/* Default sizes: 4K 64K 1M 4M and CMB/4, CMB, 4 CMB, 16 CMB, up to @max. */
static void bench_default_sizes(struct bench *b, uint64_t max)
{
	uint64_t c = b->cmb_size;
	uint64_t cand[] = { 4096, 64 << 10, 1 << 20, 4 << 20, c / 4, c, 4 * c,
			    16 * c };
	unsigned int i, j;

	b->nr_sizes = 0;
	for (i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		if (cand[i] < 4096 || cand[i] > max || cand[i] % 4096)
			continue;
		for (j = 0; j < b->nr_sizes && b->sizes[j] != cand[i]; j++)
			;
		if (j == b->nr_sizes && (!j || cand[i] > b->sizes[j - 1]))
			b->sizes[b->nr_sizes++] = cand[i];
	}
}

static int bench_parse_sizes(struct bench *b, const char *list)
{
	_cleanup_free_ char *copy = strdup(list);
	char *tok, *save = NULL;
	uint64_t v;
	int ret;

	if (!copy)
		return CLI_EXIT_FAILED;
	b->nr_sizes = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		ret = cli_parse_size(b->inv, "size", tok, &v);
		if (ret)
			return ret;
		if (!v || v % 4096)
			return cli_usage_error(b->inv,
					       "invalid size '%s': a multiple of 4 KiB, not 0",
					       tok);
		if (b->nr_sizes == BENCH_MAX_SIZES)
			return cli_usage_error(b->inv, "at most %d sizes",
					       BENCH_MAX_SIZES);
		b->sizes[b->nr_sizes++] = v;
	}
	if (!b->nr_sizes)
		return cli_usage_error(b->inv, "--sizes needs at least one size");
	return CLI_EXIT_OK;
}

/* ---- the bars ---------------------------------------------------------- */

enum bench_verdict { BENCH_NA, BENCH_PASS, BENCH_FAIL };

struct bench_bar {
	const char *name;
	enum bench_verdict verdict;
	char text[512];
};

#define BENCH_NR_BARS	3

/* The index of the largest size that is at most (or at least) @limit. */
static int bench_pick(const struct bench *b, uint64_t limit, bool at_least)
{
	int i, best = -1;

	for (i = 0; i < (int)b->nr_sizes; i++) {
		if (at_least ? b->sizes[i] < limit : b->sizes[i] > limit)
			continue;
		if (best < 0 || b->sizes[i] > b->sizes[best])
			best = i;
	}
	return best;
}

static void bench_bar_rate(const struct bench *b, int si, double need,
			   struct bench_bar *bar)
{
	const struct bench_result *p2p, *bio;
	double fr, br, ratio;
	unsigned int n;
	char sz[32];

	if (si < 0) {
		snprintf(bar->text, sizeof(bar->text), "no size to evaluate it at");
		return;
	}
	p2p = &b->res[si][BENCH_P2P];
	bio = &b->res[si][BENCH_BIO];
	cli_format_bytes(b->sizes[si], sz, sizeof(sz));
	if (p2p->error || bio->error) {
		bar->verdict = BENCH_FAIL;
		snprintf(bar->text, sizeof(bar->text), "%s: a path failed: %s", sz,
			 p2p->error ? p2p->why : bio->why);
		return;
	}
	if (!p2p->fault_measured) {
		snprintf(bar->text, sizeof(bar->text),
			 "%s: not measured: the dummy GPU has no USERPTR_FAULT ioctl", sz);
		return;
	}
	fr = bench_fault_rate(p2p);
	br = bench_rate(bio, BENCH_BIO);
	n = b->nr_ratios[si];
	ratio = n ? b->ratio[si][n / 2] : 0;
	bar->verdict = n && ratio >= need ? BENCH_PASS : BENCH_FAIL;
	snprintf(bar->text, sizeof(bar->text),
		 "%s: map-and-stage = %.0f%% of the bio loop (median of %u rounds' own ratios, %.0f%%..%.0f%%; need >= %.0f%%); medians %.1f and %.1f MB/s; evictions waited for by faults: %" PRIu64
		 ", evicted ahead: %" PRIu64 " MiB in %.3f s of the CMB's worker; space waits timed out: %" PRIu64,
		 sz, 100 * ratio, n, n ? 100 * b->ratio[si][0] : 0,
		 n ? 100 * b->ratio[si][n - 1] : 0, need * 100, fr, br,
		 p2p->cmb_stall_evictions, p2p->cmb_evicted_ahead >> 20,
		 p2p->cmb_evict_ahead_ns / 1e9, p2p->cmb_space_timeouts);
}

static void bench_bars(const struct bench *b, struct bench_bar *bars)
{
	const struct bench_result *r;
	double pct;
	char sz[32];
	int si;

	memset(bars, 0, BENCH_NR_BARS * sizeof(*bars));
	bars[0].name = "p2p_page_cache";
	bars[1].name = "map_and_stage";
	bars[2].name = "stream_16x_cmb";

	si = bench_pick(b, UINT64_MAX, false);
	r = &b->res[si][BENCH_P2P];
	cli_format_bytes(b->sizes[si], sz, sizeof(sz));
	if (r->error) {
		bars[0].verdict = BENCH_FAIL;
		snprintf(bars[0].text, sizeof(bars[0].text), "%s: %s", sz, r->why);
	} else {
		pct = r->bytes ? 100.0 * r->cache_growth / r->bytes : 0;
		bars[0].verdict = pct < 1 && !r->pages_pagecache &&
				  !r->stats_fallback && !r->mismatches ?
				  BENCH_PASS : BENCH_FAIL;
		snprintf(bars[0].text, sizeof(bars[0].text),
			 "%s: page cache grew %.2f%% of the bytes moved (need < 1%%), %" PRIu64
			 " pages from the page cache (job), %" PRIu64 " (p2pmap stats) (need 0)",
			 sz, pct, r->pages_pagecache, r->stats_fallback);
	}
	/*
	 * Within the CMB: at most half of it, so that the file's own pieces,
	 * still mapped by the device, are not evicted to make room for its
	 * last ones (that is streaming, the third bar).
	 */
	bench_bar_rate(b, bench_pick(b, b->cmb_size / 2, false), 0.9, &bars[1]);
	bench_bar_rate(b, bench_pick(b, 16 * b->cmb_size, true), 0.8, &bars[2]);
}

static const char *bench_verdict_name(enum bench_verdict v)
{
	return v == BENCH_PASS ? "PASS" : v == BENCH_FAIL ? "FAIL" : "n/a";
}

/* ---- output -------------------------------------------------------------- */

static const char bench_rig_note[] =
	"In the rig the dummy GPU's bulk engine is the CPU: it reads the CMB through\n"
	"the kernel's mapping, and every such access traps into QEMU (TCG), while\n"
	"read(2) and O_DIRECT hand it host RAM. End-to-end and CPU-time ratios say\n"
	"what emulation costs, not what a GPU's DMA engine would do.";

/* The map-and-stage rate of size @si against the drained loop's. */
static void bench_print_drained(const struct bench *b, int si)
{
	const struct bench_result *bio;
	unsigned int n;
	char sz[32];

	if (si < 0)
		return;
	bio = &b->res[si][BENCH_BIO];
	n = b->nr_dratios[si];
	cli_format_bytes(b->sizes[si], sz, sizeof(sz));
	if (!n || bio->error) {
		fprintf(b->inv->out, "  %s: not measured\n", sz);
		return;
	}
	fprintf(b->inv->out,
		"  %s: map-and-stage = %.0f%% of the drained loop (median of %u rounds' own ratios, %.0f%%..%.0f%%); drained loop %.1f MB/s, %" PRIu64 " waits\n",
		sz, 100 * b->dratio[si][n / 2], n, 100 * b->dratio[si][0],
		100 * b->dratio[si][n - 1], bench_drained_rate(bio), bio->drains);
}

static void bench_print_text(const struct bench *b,
			     const struct bench_bar *bars)
{
	FILE *o = b->inv->out;
	const struct bench_result *r;
	char sz[32], cmb[32];
	unsigned int si, p;
	int big;

	fprintf(o, "p2pmap bench: %s, CMB %s of %s; pieces of %s, bio loop %d x %llu KiB (repeated to 256 MiB); median of %u rounds\n",
		b->path, cli_format_bytes(b->cmb_size, cmb, sizeof(cmb)),
		b->cmb_pci, cli_format_bytes(b->piece, sz, sizeof(sz)),
		b->bio_depth, (unsigned long long)b->bio_bytes >> 10,
		b->rounds);
	for (p = 0; p < BENCH_NR_PATHS; p++)
		fprintf(o, "  %-8s %s\n", bench_path_names[p], bench_path_help[p]);
	fprintf(o, "\n%-9s %-8s %9s %9s %8s %8s %8s %11s %9s %9s %s\n", "size",
		"path", "MB/s", "map MB/s", "wall s", "proc s", "engine s",
		"cache +KiB", "pages p2p", "pages pc", "note");
	for (si = 0; si < b->nr_sizes; si++) {
		for (p = 0; p < BENCH_NR_PATHS; p++) {
			r = &b->res[si][p];
			fprintf(o, "%-9s %-8s ",
				p ? "" : cli_format_bytes(b->sizes[si], sz, sizeof(sz)),
				bench_path_names[p]);
			if (r->error) {
				fprintf(o, "FAILED: %s\n", r->why);
				continue;
			}
			fprintf(o, "%9.1f ", bench_rate(r, p));
			if (p == BENCH_P2P && r->fault_measured)
				fprintf(o, "%9.1f ", bench_fault_rate(r));
			else
				fprintf(o, "%9s ", "-");
			fprintf(o, "%8.3f %8.3f %8.3f %11lld %9" PRIu64 " %9" PRIu64 " ",
				r->secs, r->cpu_proc, r->engine,
				(long long)r->cache_growth / 1024, r->pages_p2p,
				r->pages_pagecache);
			if (r->mismatches)
				fprintf(o, "DATA MISMATCH\n");
			else if (p == BENCH_BIO)
				fprintf(o, "drained %.1f MB/s\n",
					bench_drained_rate(r));
			else
				fputc('\n', o);
		}
	}
	fprintf(o, "\nBars:\n");
	for (p = 0; p < BENCH_NR_BARS; p++)
		fprintf(o, "  %-4s %-15s %s\n", bench_verdict_name(bars[p].verdict),
			bars[p].name, bars[p].text);
	fprintf(o, "\nAgainst the bio loop drained after each %s piece (%u x %llu KiB in flight, then none:\na fault's own I/O without p2pmap; reported, not a bar):\n",
		cli_format_bytes(b->piece, sz, sizeof(sz)), b->drain_depth,
		(unsigned long long)b->bio_bytes >> 10);
	bench_print_drained(b, bench_pick(b, b->cmb_size / 2, false));
	bench_print_drained(b, bench_pick(b, 16 * b->cmb_size, true));
	big = bench_pick(b, UINT64_MAX, false);
	fprintf(o, "\nRatios at %s (reported, not bars):\n",
		cli_format_bytes(b->sizes[big], sz, sizeof(sz)));
	r = b->res[big];
	for (p = BENCH_READ; p <= BENCH_ODIRECT; p++) {
		if (r[BENCH_P2P].error || r[p].error)
			continue;
		fprintf(o, "  p2p / %-7s throughput x%.2f, process CPU x%.2f, all-CPU x%.2f, engine x%.2f\n",
			bench_path_names[p],
			bench_rate(&r[p], p) > 0 ?
			bench_rate(&r[BENCH_P2P], BENCH_P2P) / bench_rate(&r[p], p) : 0,
			r[p].cpu_proc > 0 ? r[BENCH_P2P].cpu_proc / r[p].cpu_proc : 0,
			r[p].cpu_all > 0 ? r[BENCH_P2P].cpu_all / r[p].cpu_all : 0,
			r[p].engine > 0 ? r[BENCH_P2P].engine / r[p].engine : 0);
	}
	fprintf(o, "\n%s\n", bench_rig_note);
}

static void bench_json_result(struct json_writer *w, const struct bench_result *r,
			      enum bench_path p)
{
	json_object_begin(w, bench_path_names[p]);
	json_bool(w, "ok", !r->error);
	if (r->error) {
		json_string(w, "error", r->why);
		json_object_end(w);
		return;
	}
	json_u64(w, "bytes", r->bytes);
	json_u64(w, "passes", r->passes ? r->passes : 1);
	json_u64(w, "ns", (uint64_t)(r->secs * 1e9));
	json_u64(w, "mb_per_s_x1000", (uint64_t)(bench_rate(r, p) * 1000));
	json_u64(w, "cpu_process_us", (uint64_t)(r->cpu_proc * 1e6));
	json_u64(w, "cpu_all_us", (uint64_t)(r->cpu_all * 1e6));
	json_u64(w, "engine_ns", (uint64_t)(r->engine * 1e9));
	json_i64(w, "page_cache_growth", r->cache_growth);
	json_u64(w, "pages_p2p", r->pages_p2p);
	json_u64(w, "pages_pagecache", r->pages_pagecache);
	json_u64(w, "stats_pages_p2p", r->stats_p2p);
	json_u64(w, "stats_pages_fallback", r->stats_fallback);
	json_i64(w, "cmb_staged", r->cmb_staged);
	json_u64(w, "cmb_stall_evictions", r->cmb_stall_evictions);
	json_u64(w, "cmb_space_timeouts", r->cmb_space_timeouts);
	json_u64(w, "cmb_evicted_ahead", r->cmb_evicted_ahead);
	json_u64(w, "cmb_evict_ahead_ns", r->cmb_evict_ahead_ns);
	json_u64(w, "mismatches", r->mismatches);
	if (p == BENCH_P2P) {
		json_bool(w, "map_and_stage_measured", r->fault_measured);
		json_u64(w, "map_and_stage_bytes", r->fault_bytes);
		json_u64(w, "map_and_stage_ns", (uint64_t)(r->fault_secs * 1e9));
		json_u64(w, "map_and_stage_mb_per_s_x1000",
			 (uint64_t)(bench_fault_rate(r) * 1000));
		json_u64(w, "map_and_stage_pages_p2p", r->map_p2p);
		json_u64(w, "map_and_stage_pages_fallback", r->map_fallback);
	}
	if (p == BENCH_BIO) {
		json_u64(w, "drained_bytes", r->drained_bytes);
		json_u64(w, "drained_ns", (uint64_t)(r->drained_secs * 1e9));
		json_u64(w, "drained_drains", r->drains);
		json_u64(w, "drained_mb_per_s_x1000",
			 (uint64_t)(bench_drained_rate(r) * 1000));
	}
	json_object_end(w);
}

static int bench_print_json(const struct bench *b, const struct bench_bar *bars,
			    FILE *out)
{
	struct json_writer w;
	unsigned int si, p, r;

	json_init(&w, out);
	json_object_begin(&w, NULL);
	json_string(&w, "file", b->path);
	json_string(&w, "cmb", b->cmb_pci);
	json_u64(&w, "cmb_size", b->cmb_size);
	json_u64(&w, "piece", b->piece);
	json_u64(&w, "bio_depth", b->bio_depth);
	json_u64(&w, "bio_bytes", b->bio_bytes);
	json_u64(&w, "drain_depth", b->drain_depth);
	json_u64(&w, "rounds", b->rounds);
	json_array_begin(&w, "sizes");
	for (si = 0; si < b->nr_sizes; si++) {
		json_object_begin(&w, NULL);
		json_u64(&w, "size", b->sizes[si]);
		for (p = 0; p < BENCH_NR_PATHS; p++)
			bench_json_result(&w, &b->res[si][p], p);
		/* per round, map-and-stage over the bio loop, sorted */
		json_array_begin(&w, "map_and_stage_ratios_x1000");
		for (r = 0; r < b->nr_ratios[si]; r++)
			json_u64(&w, NULL, (uint64_t)(b->ratio[si][r] * 1000));
		json_array_end(&w);
		/* the same against the loop drained after each piece */
		json_array_begin(&w, "map_and_stage_drained_ratios_x1000");
		for (r = 0; r < b->nr_dratios[si]; r++)
			json_u64(&w, NULL, (uint64_t)(b->dratio[si][r] * 1000));
		json_array_end(&w);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_array_begin(&w, "bars");
	for (p = 0; p < BENCH_NR_BARS; p++) {
		json_object_begin(&w, NULL);
		json_string(&w, "name", bars[p].name);
		json_string(&w, "verdict", bench_verdict_name(bars[p].verdict));
		json_string(&w, "text", bars[p].text);
		json_object_end(&w);
	}
	json_array_end(&w);
	json_string(&w, "note", bench_rig_note);
	json_object_end(&w);
	return json_finish(&w);
}

/* The plot: throughput against size, log2 x axis, one line per path. */
static int bench_svg(const struct bench *b, const char *file)
{
	static const char *const colour[] = {
		"#d62728", "#1f77b4", "#2ca02c", "#7f7f7f", "#ff7f0e"
	};
	static const char *const label[] = {
		"p2p end to end", "read(2) + copy", "O_DIRECT + copy",
		"bare bio loop", "p2p map-and-stage"
	};
	const double x0 = 70, y0 = 40, pw = 600, ph = 320;
	double lo = log2((double)b->sizes[0]), hi = lo, ymax = 1, v, x, y;
	unsigned int si, s, k;
	char sz[32];
	FILE *f;

	for (si = 0; si < b->nr_sizes; si++) {
		v = log2((double)b->sizes[si]);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		for (s = 0; s < BENCH_NR_PATHS; s++) {
			v = bench_rate(&b->res[si][s], s);
			ymax = v > ymax ? v : ymax;
		}
		v = bench_fault_rate(&b->res[si][BENCH_P2P]);
		ymax = v > ymax ? v : ymax;
	}
	if (hi == lo)
		hi = lo + 1;
	ymax = ceil(ymax / 100) * 100;
	f = fopen(file, "we");
	if (!f)
		return -errno;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"860\" height=\"420\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"860\" height=\"420\" fill=\"white\"/>\n"
		"<text x=\"%g\" y=\"22\" font-size=\"14\">p2pmap bench: throughput against file size (CMB %s)</text>\n",
		x0, cli_format_bytes(b->cmb_size, sz, sizeof(sz)));
	fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"black\"/>\n",
		x0, y0, pw, ph);
	for (k = 0; k <= 5; k++) {
		y = y0 + ph - ph * k / 5;
		fprintf(f, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
			"<text x=\"%g\" y=\"%g\" text-anchor=\"end\">%.0f</text>\n",
			x0, y, x0 + pw, y, x0 - 6, y + 4, ymax * k / 5);
	}
	fprintf(f, "<text x=\"16\" y=\"%g\" transform=\"rotate(-90 16 %g)\" text-anchor=\"middle\">MB/s</text>\n",
		y0 + ph / 2, y0 + ph / 2);
	for (si = 0; si < b->nr_sizes; si++) {
		x = x0 + pw * (log2((double)b->sizes[si]) - lo) / (hi - lo);
		fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>\n",
			x, y0 + ph + 16, cli_format_bytes(b->sizes[si], sz, sizeof(sz)));
	}
	fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">file size (log scale)</text>\n",
		x0 + pw / 2, y0 + ph + 34);
	for (s = 0; s <= BENCH_NR_PATHS; s++) {
		fprintf(f, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\"%s points=\"",
			colour[s], s == BENCH_NR_PATHS ? " stroke-dasharray=\"6 3\"" : "");
		for (si = 0; si < b->nr_sizes; si++) {
			v = s == BENCH_NR_PATHS ?
			    bench_fault_rate(&b->res[si][BENCH_P2P]) :
			    bench_rate(&b->res[si][s], s);
			x = x0 + pw * (log2((double)b->sizes[si]) - lo) / (hi - lo);
			fprintf(f, "%.1f,%.1f ", x, y0 + ph - ph * v / ymax);
		}
		fprintf(f, "\"/>\n<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" stroke-width=\"2\"/>"
			"<text x=\"%g\" y=\"%g\">%s</text>\n",
			x0 + pw + 12, y0 + 10 + 18 * s, x0 + pw + 36, y0 + 10 + 18 * s,
			colour[s], x0 + pw + 40, y0 + 14 + 18 * s, label[s]);
	}
	fputs("</svg>\n", f);
	if (fclose(f))
		return -errno;
	return 0;
}

static int bench_setup(struct bench *b)
{
	struct drm_p2pmap_dgpu_info info;
	struct p2pmap_error err;
	char sys[64];
	struct stat st;
	int ret;

	if (stat(b->dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(b->inv->err, "p2pmap: bench: %s is not a directory\n",
			b->dir);
		return CLI_EXIT_USAGE;
	}
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_dev),
		 minor(st.st_dev));
	if (access(sys, F_OK)) {
		fprintf(b->inv->err,
			"p2pmap: bench: %s is not on a block device (the file must live on the NVMe namespace)\n",
			b->dir);
		return CLI_EXIT_USAGE;
	}

	ret = p2pmap_open(&b->p2pmap, &err);
	if (ret) {
		fprintf(b->inv->err, "p2pmap: %s\n", err.msg);
		return cli_exit_for_error(&err);
	}
	ret = bench_find_cmb(b);
	if (ret) {
		fprintf(b->inv->err,
			"p2pmap: bench: no NVMe CMB in %s (p2pmap_nvme_cmb loaded, debugfs mounted?): %s\n",
			BENCH_DEBUGFS, strerror(-ret));
		return CLI_EXIT_UNAVAILABLE;
	}
	if (!b->bio_depth) {
		b->bio_depth = BENCH_BIO_DEPTH;
		while (b->bio_depth > 1 &&
		       (uint64_t)b->bio_depth * b->bio_bytes > b->cmb_size)
			b->bio_depth--;
	}
	if ((uint64_t)b->bio_depth * b->bio_bytes > b->cmb_size) {
		fprintf(b->inv->err,
			"p2pmap: bench: the bio loop's %u x %" PRIu64 " KiB in flight do not fit the %" PRIu64 " MiB CMB\n",
			b->bio_depth, b->bio_bytes >> 10, b->cmb_size >> 20);
		return CLI_EXIT_USAGE;
	}
	ret = p2pmap_dgpu_open(P2PMAP_DGPU_KIND_PCI, &b->dgpu);
	if (ret) {
		fprintf(b->inv->err, "p2pmap: bench: no PCI dummy GPU (p2pmap_dgpu): %s\n",
			strerror(-ret));
		return CLI_EXIT_UNAVAILABLE;
	}
	memset(&info, 0, sizeof(info));
	ret = p2pmap_dgpu_get_info(b->dgpu, &info);
	if (ret) {
		fprintf(b->inv->err, "p2pmap: bench: dummy GPU INFO: %s\n",
			strerror(-ret));
		return CLI_EXIT_FAILED;
	}
	b->piece = BENCH_PIECE;
	if (info.max_job_bytes && b->piece > info.max_job_bytes)
		b->piece = info.max_job_bytes & ~(BENCH_PAGE - 1);
	if (info.vram_size && b->piece > info.vram_size)
		b->piece = info.vram_size & ~(BENCH_PAGE - 1);
	/* the drained loop: a piece's bios at once, as a fault submits them */
	b->drain_depth = (b->piece + b->bio_bytes - 1) / b->bio_bytes;
	if (b->drain_depth > BENCH_BIO_MAX_DEPTH)
		b->drain_depth = BENCH_BIO_MAX_DEPTH;
	while (b->drain_depth > 1 &&
	       (uint64_t)b->drain_depth * b->bio_bytes > b->cmb_size)
		b->drain_depth--;
	ret = p2pmap_dgpu_vram_create(b->dgpu, b->piece, &b->vram);
	if (!ret)
		ret = p2pmap_dgpu_vram_map(b->dgpu, b->vram, b->piece, &b->vram_map);
	if (ret) {
		fprintf(b->inv->err, "p2pmap: bench: VRAM of %" PRIu64 " bytes: %s\n",
			b->piece, strerror(-ret));
		return CLI_EXIT_FAILED;
	}
	if (posix_memalign(&b->host, BENCH_PAGE, b->piece)) {
		fprintf(b->inv->err, "p2pmap: bench: out of memory\n");
		return CLI_EXIT_FAILED;
	}
	memset(b->host, 0, b->piece);
	return CLI_EXIT_OK;
}

/* Option --@name, a count from 1 to @max, into *@out when given. */
static int bench_count_option(const struct cli_invocation *inv,
			      const char *name, uint64_t max, unsigned int *out)
{
	const char *v = cli_option_value(inv, name);
	char flag[32];
	uint64_t n;
	int ret;

	if (!v)
		return CLI_EXIT_OK;
	snprintf(flag, sizeof(flag), "--%s", name);
	ret = cli_parse_count(inv, flag, v, 1, max, &n);
	if (!ret)
		*out = n;
	return ret;
}

static void bench_teardown(struct bench *b)
{
	if (b->vram_map)
		munmap(b->vram_map, b->piece);
	p2pmap_dgpu_close(b->dgpu);
	p2pmap_close(b->p2pmap);
	free(b->host);
}

int cli_bench_command(const struct cli_invocation *inv)
{
	struct bench_bar bars[BENCH_NR_BARS];
	const char *v;
	struct bench *b;
	uint64_t max = 0;
	unsigned int si, p, failed = 0;
	int ret;

	b = calloc(1, sizeof(*b));
	if (!b)
		return CLI_EXIT_FAILED;
	b->inv = inv;
	b->dir = inv->argc ? inv->argv[0] : ".";
	snprintf(b->path, sizeof(b->path), "%s/%s", b->dir, BENCH_FILE);
	v = cli_option_value(inv, "max");
	if (v) {
		ret = cli_parse_size(inv, "--max", v, &max);
		if (ret)
			goto out_free;
	}
	b->rounds = 3;
	ret = bench_count_option(inv, "rounds", BENCH_MAX_ROUNDS, &b->rounds);
	if (ret)
		goto out_free;
	b->bio_depth = 0;	/* default: BENCH_BIO_DEPTH, within the CMB */
	ret = bench_count_option(inv, "bio-depth", BENCH_BIO_MAX_DEPTH,
				 &b->bio_depth);
	if (ret)
		goto out_free;
	b->bio_bytes = BENCH_BIO_BYTES;
	v = cli_option_value(inv, "bio-size");
	if (v) {
		ret = cli_parse_size(inv, "--bio-size", v, &b->bio_bytes);
		if (ret)
			goto out_free;
		if (!b->bio_bytes || b->bio_bytes % BENCH_PAGE ||
		    b->bio_bytes > BENCH_BIO_MAX_BYTES) {
			ret = cli_usage_error(inv,
					      "invalid --bio-size '%s': a multiple of 4 KiB, at most 1 MiB (one bio's vectors)",
					      v);
			goto out_free;
		}
	}
	v = cli_option_value(inv, "sizes");
	if (v) {
		ret = bench_parse_sizes(b, v);
		if (ret)
			goto out_free;
	}
	ret = bench_setup(b);
	if (ret)
		goto out_teardown;
	if (!v)
		bench_default_sizes(b, max ? max : 16 * b->cmb_size);
	if (!b->nr_sizes) {
		ret = cli_usage_error(inv, "no default size is at most --max");
		goto out_teardown;
	}
	b->progress = inv->output == CLI_OUTPUT_TEXT &&
		      !cli_option_given(inv, "no-progress");
	b->tty = isatty(fileno(inv->err));
	b->steps = b->nr_sizes * b->rounds * BENCH_NR_PATHS;
	for (si = 0; si < b->nr_sizes; si++)
		bench_one_size(b, si);
	bench_progress(b, 0, BENCH_NR_PATHS);
	bench_bars(b, bars);
	if (inv->output == CLI_OUTPUT_JSON) {
		if (bench_print_json(b, bars, inv->out)) {
			ret = CLI_EXIT_FAILED;
			goto out_teardown;
		}
	} else {
		bench_print_text(b, bars);
	}
	v = cli_option_value(inv, "json");
	if (v) {
		FILE *f = fopen(v, "we");

		if (!f || bench_print_json(b, bars, f) || fclose(f)) {
			fprintf(inv->err, "p2pmap: bench: writing %s failed\n", v);
			failed++;
		}
	}
	v = cli_option_value(inv, "svg");
	if (v && bench_svg(b, v)) {
		fprintf(inv->err, "p2pmap: bench: writing %s: %s\n", v,
			strerror(errno));
		failed++;
	}
	for (si = 0; si < b->nr_sizes; si++)
		for (p = 0; p < BENCH_NR_PATHS; p++)
			if (b->res[si][p].error || b->res[si][p].mismatches)
				failed++;
	for (p = 0; p < BENCH_NR_BARS; p++)
		if (bars[p].verdict == BENCH_FAIL)
			failed++;
	ret = failed ? CLI_EXIT_FAILED : CLI_EXIT_OK;
out_teardown:
	bench_teardown(b);
out_free:
	free(b);
	return ret;
}
