// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark, not a test: NVMe -> CMB staging throughput through the
 * nvme-cmb engine (batches of ranges, eviction included), against a bare
 * bio loop into CMB pages (no engine) and O_DIRECT reads of the same
 * bytes into host memory, in one run. Prints MB/s, CPU seconds (all CPUs,
 * from /proc/stat) and the ratios.
 *
 * usage: nvme_cmb_bench [MiB]   (default 256; the disk must not be mounted)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../modules/p2pmap_test_cmb.h"

#define DISK	"/dev/nvme0n1"
#define PAGE	4096ULL
#define RANGE	(128ULL << 10)	/* bytes per range / bio */
#define DEPTH	32		/* ranges per batch / bios in flight */
#define ROUNDS	5		/* the machine is shared: medians of rounds */
#define BIG_BATCH 256		/* 32 MiB per batch: half the CMB */

struct sample {
	double secs;
	double cpu;	/* busy CPU seconds, all CPUs */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_busy(void)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	long hz = sysconf(_SC_CLK_TCK);

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			 &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8) {
		perror("/proc/stat");
		exit(2);
	}
	fclose(f);
	/* user nice system (idle) (iowait) irq softirq steal */
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
}

static void start(struct sample *s)
{
	s->secs = now();
	s->cpu = cpu_busy();
}

static void stop(struct sample *s)
{
	s->secs = now() - s->secs;
	s->cpu = cpu_busy() - s->cpu;
}

static int by_secs(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;

	return (x->secs > y->secs) - (x->secs < y->secs);
}

/* The round with the median elapsed time (sorts @s). */
static struct sample *median(struct sample *s)
{
	qsort(s, ROUNDS, sizeof(*s), by_secs);
	return &s[ROUNDS / 2];
}

static void report(const char *name, struct sample *s, uint64_t bytes,
		   struct sample *ref)
{
	double mbs = bytes / s->secs / 1e6;

	printf("%-34s %8.1f MB/s  %6.2f s  CPU %6.2f s", name, mbs, s->secs, s->cpu);
	if (ref)
		printf("  (x%.2f of the engine's rate, CPU x%.2f)",
		       mbs / (bytes / ref->secs / 1e6), s->cpu / ref->cpu);
	printf("\n");
}

/* Stage @total bytes in batches of @nr ranges, putting each batch at once. */
static int engine_pass(int fd, uint64_t total, int nr, struct sample *smp,
		       double *t_batch, double *t_put)
{
	static struct p2pmap_test_cmb_stage st[BIG_BATCH];
	struct p2pmap_test_cmb_batch b = { .reqs = (uintptr_t)st, .nr = nr };
	uint64_t off;
	double t0;
	int i;

	*t_batch = 0;
	*t_put = 0;
	start(smp);
	for (off = 0; off < total; off += nr * RANGE) {
		for (i = 0; i < nr; i++) {
			memset(&st[i], 0, sizeof(st[i]));
			st[i].sector = (off + i * RANGE) / 512;
			st[i].nr_pages = RANGE / PAGE;
		}
		t0 = now();
		if (ioctl(fd, P2PMAP_TEST_CMB_BATCH, &b)) {
			perror("BATCH");
			return -1;
		}
		*t_batch += now() - t0;
		t0 = now();
		for (i = 0; i < nr; i++) {
			if (st[i].error) {
				fprintf(stderr, "range %d: %s\n", i, strerror(-st[i].error));
				return -1;
			}
			ioctl(fd, P2PMAP_TEST_CMB_PUT, &st[i].slot);
		}
		*t_put += now() - t0;
	}
	stop(smp);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 0) : 256;
	uint64_t total = mib << 20, off;
	struct p2pmap_test_cmb_open o = { .path = (uintptr_t)DISK };
	struct p2pmap_test_cmb_stage st[DEPTH];
	struct p2pmap_test_cmb_bioloop loop = { 0 };
	struct sample engine[ROUNDS], engine_big[ROUNDS], bare[ROUNDS];
	struct sample odirect[ROUNDS];
	struct sample odirect_small[ROUNDS];
	void *buf;
	int fd, dfd, r;

	fd = open("/dev/p2pmap_test_cmb", O_RDWR);
	if (fd < 0 || ioctl(fd, P2PMAP_TEST_CMB_OPEN, &o)) {
		perror("p2pmap_test_cmb");
		return 2;
	}
	printf("# %llu MiB of %s, ranges/bios of %llu KiB, %d in flight, provider %s\n",
	       (unsigned long long)mib, DISK, RANGE >> 10, DEPTH, o.name);

	/* 0. warm the host's cache of the disk image: every path reads it warm */
	dfd = open(DISK, O_RDONLY | O_DIRECT);
	if (dfd < 0 || posix_memalign(&buf, PAGE, 1 << 20))
		return 2;
	for (off = 0; off < total; off += 1 << 20)
		if (pread(dfd, buf, 1 << 20, off) != 1 << 20)
			return 1;

	for (r = 0; r < ROUNDS; r++) {
		double tb, tp;

		/* 1. the engine: batches of DEPTH, then BIG_BATCH, ranges */
		if (engine_pass(fd, total, DEPTH, &engine[r], &tb, &tp))
			return 1;
		printf("# round %d: engine %.3f s in BATCH, %.3f s in PUT\n", r, tb, tp);
		if (engine_pass(fd, total, BIG_BATCH, &engine_big[r], &tb, &tp))
			return 1;

		/* 2. a bare bio loop into the pages of one DEPTH x RANGE chunk */
		memset(&st[0], 0, sizeof(st[0]));
		st[0].sector = 0;
		st[0].nr_pages = DEPTH * RANGE / PAGE;
		if (ioctl(fd, P2PMAP_TEST_CMB_STAGE, &st[0]) || st[0].error) {
			fprintf(stderr, "stage for the bio loop failed\n");
			return 1;
		}
		loop.slot = st[0].slot;
		loop.depth = DEPTH;
		loop.bio_bytes = RANGE;
		loop.total_bytes = total;
		start(&bare[r]);
		if (ioctl(fd, P2PMAP_TEST_CMB_BIOLOOP, &loop) || loop.errors) {
			perror("BIOLOOP");
			return 1;
		}
		stop(&bare[r]);
		ioctl(fd, P2PMAP_TEST_CMB_PUT, &st[0].slot);

		/* 3. O_DIRECT into host memory, 1 MiB and RANGE reads, one at a time */
		start(&odirect[r]);
		for (off = 0; off < total; off += 1 << 20)
			if (pread(dfd, buf, 1 << 20, off) != 1 << 20)
				return 1;
		stop(&odirect[r]);
		start(&odirect_small[r]);
		for (off = 0; off < total; off += RANGE)
			if (pread(dfd, buf, RANGE, off) != (ssize_t)RANGE)
				return 1;
		stop(&odirect_small[r]);
	}
	close(dfd);

	printf("# medians of %d rounds\n", ROUNDS);
	report("engine, batches of 32 (NVMe->CMB)", median(engine), total, NULL);
	report("engine, batches of 256 (NVMe->CMB)", median(engine_big), total,
	       median(engine));
	report("bare bio loop (NVMe->CMB)", median(bare), total, median(engine));
	report("O_DIRECT 1 MiB (NVMe->RAM)", median(odirect), total, median(engine));
	report("O_DIRECT 128 KiB (NVMe->RAM)", median(odirect_small), total,
	       median(engine));
	return 0;
}
