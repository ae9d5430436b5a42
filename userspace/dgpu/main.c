// SPDX-License-Identifier: GPL-2.0
/*
 * dgpu - drive p2pmap's dummy GPU from the command line: open its render
 * node, import a file range, run a job on it and print what the job did.
 *
 *   dgpu [-d NODE | -k pci|virtual] [-o text|json] info
 *   dgpu [...] [-e cpu|edu] checksum FILE [OFFSET [LENGTH]]
 *   dgpu [...] [-e cpu|edu] read FILE [OFFSET [LENGTH]]
 *   dgpu [...] [-w] map FILE [OFFSET [LENGTH]]
 *
 * checksum: the device computes the CRC-32 of the range through a userptr
 * object over a MAP_SHARED mapping; the CPU computes it again with pread(2)
 * and both are printed. read: the device copies the range into a VRAM
 * object, which is compared with the file. map: the device maps the range
 * without a job (DRM_IOCTL_P2PMAP_DGPU_USERPTR_FAULT) and its page table is
 * printed as runs of pages with one path and reason (USERPTR_SNAPSHOT).
 * Exit status: 0 done and equal, 1 the job or the fault failed or the data
 * differ, 2 bad command line, 3 no device.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libp2pmap.h>
#include <libp2pmap_dgpu.h>

#include "cleanup.h"
#include "json.h"

enum {
	EXIT_DONE	= 0,
	EXIT_FAILED	= 1,
	EXIT_USAGE	= 2,
	EXIT_NO_DEVICE	= 3,
};

struct opts {
	const char *node;
	unsigned int kind;
	int engine;
	int json;
	int write;
	const char *cmd;
	int argc;
	char **argv;
};

/* what one job run on a file range gives */
struct run {
	const char *op;
	const char *file;
	uint64_t offset;
	uint64_t length;
	struct drm_p2pmap_dgpu_result res;
	uint32_t cpu_crc;
	int compared;	/* the data were checked against the file */
	int equal;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dgpu [-d NODE | -k pci|virtual] [-o text|json] [-e cpu|edu] COMMAND [ARGS]\n"
		"\n"
		"  info                            the device instance\n"
		"  checksum FILE [OFFSET [LENGTH]] CRC-32 of a file range computed by the device\n"
		"  read FILE [OFFSET [LENGTH]]     copy a file range into VRAM, compare with the file\n"
		"  map FILE [OFFSET [LENGTH]]      map a file range for the device (no job) and\n"
		"                                  print its device page table, page runs by path\n"
		"\n"
		"  -d, --device NODE   a render node (default: the first p2pmap_dgpu of -k)\n"
		"  -k, --kind KIND     pci (bound to edu) or virtual (no PCI function)\n"
		"  -e, --engine NAME   cpu (default) or edu (~100 ms per 4 KiB)\n"
		"  -o, --output FMT    text (default) or json\n"
		"  -w, --write         map: fault for a device write (the file opened O_RDWR)\n"
		"  -V, --version       print the version\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || !*s || *end || *s == '-' ? -EINVAL : 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "kind", required_argument, NULL, 'k' },
		{ "engine", required_argument, NULL, 'e' },
		{ "output", required_argument, NULL, 'o' },
		{ "write", no_argument, NULL, 'w' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->engine = P2PMAP_DGPU_ENGINE_CPU;
	while ((c = getopt_long(argc, argv, "d:k:e:o:wVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->node = optarg;
			break;
		case 'k':
			if (!strcmp(optarg, "pci")) {
				o->kind = P2PMAP_DGPU_KIND_PCI;
			} else if (!strcmp(optarg, "virtual")) {
				o->kind = P2PMAP_DGPU_KIND_VIRTUAL;
			} else {
				fprintf(stderr, "dgpu: --kind must be pci or virtual, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'e':
			o->engine = p2pmap_dgpu_engine_parse(optarg);
			if (o->engine < 0) {
				fprintf(stderr, "dgpu: --engine must be cpu or edu, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			if (!strcmp(optarg, "json")) {
				o->json = 1;
			} else if (strcmp(optarg, "text")) {
				fprintf(stderr, "dgpu: --output must be text or json, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			o->write = 1;
			break;
		case 'V':
			printf("dgpu %s\n", P2PMAP_VERSION_STR);
			exit(EXIT_DONE);
		case 'h':
			usage(stdout);
			exit(EXIT_DONE);
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	o->cmd = argv[optind];
	o->argc = argc - optind - 1;
	o->argv = argv + optind + 1;
	return EXIT_DONE;
}

static int open_device(const struct opts *o, struct p2pmap_dgpu **dev)
{
	int ret;

	if (o->node)
		ret = p2pmap_dgpu_open_path(o->node, dev);
	else
		ret = p2pmap_dgpu_open(o->kind, dev);
	if (ret) {
		fprintf(stderr, "dgpu: no p2pmap_dgpu device%s%s%s: %s%s\n",
			o->node ? " at " : "", o->node ? o->node : "",
			o->kind ? (o->kind == P2PMAP_DGPU_KIND_PCI ? " of kind pci" :
				   " of kind virtual") : "",
			strerror(-ret),
			ret == -ENODEV ? " (is the p2pmap_dgpu module loaded?)" : "");
		return EXIT_NO_DEVICE;
	}
	return EXIT_DONE;
}

static void print_info(const struct opts *o, struct p2pmap_dgpu *dev,
		       const struct drm_p2pmap_dgpu_info *info)
{
	if (o->json) {
		struct json_writer w;

		json_init(&w, stdout);
		json_object_begin(&w, NULL);
		json_string(&w, "device", p2pmap_dgpu_path(dev));
		json_string(&w, "kind", p2pmap_dgpu_kind_name(info->kind));
		json_array_begin(&w, "engines");
		if (info->engines & (1U << P2PMAP_DGPU_ENGINE_CPU))
			json_string(&w, NULL, "cpu");
		if (info->engines & (1U << P2PMAP_DGPU_ENGINE_EDU))
			json_string(&w, NULL, "edu");
		json_array_end(&w);
		json_u64(&w, "abi", info->abi);
		json_u64(&w, "vram_size", info->vram_size);
		json_u64(&w, "vram_used", info->vram_used);
		json_u64(&w, "max_jobs", info->max_jobs);
		json_u64(&w, "max_job_bytes", info->max_job_bytes);
		if (info->kind == P2PMAP_DGPU_KIND_PCI) {
			char bdf[32];

			snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", info->pci_domain,
				 info->pci_bdf >> 8, (info->pci_bdf >> 3) & 0x1f,
				 info->pci_bdf & 7);
			json_string(&w, "pci", bdf);
		}
		json_object_end(&w);
		json_finish(&w);
		return;
	}
	printf("device:    %s\n", p2pmap_dgpu_path(dev));
	printf("kind:      %s\n", p2pmap_dgpu_kind_name(info->kind));
	printf("engines:  %s%s\n",
	       info->engines & (1U << P2PMAP_DGPU_ENGINE_CPU) ? " cpu" : "",
	       info->engines & (1U << P2PMAP_DGPU_ENGINE_EDU) ? " edu" : "");
	printf("vram:      %llu of %llu bytes used\n",
	       info->vram_used, info->vram_size);
	if (info->kind == P2PMAP_DGPU_KIND_PCI)
		printf("pci:       %04x:%02x:%02x.%x\n", info->pci_domain,
		       info->pci_bdf >> 8, (info->pci_bdf >> 3) & 0x1f,
		       info->pci_bdf & 7);
}

static void print_run(const struct opts *o, struct p2pmap_dgpu *dev,
		      const struct run *r)
{
	const struct drm_p2pmap_dgpu_result *res = &r->res;
	double secs = res->duration_ns / 1e9;
	double mbps = secs > 0 ? res->bytes / secs / 1e6 : 0;
	unsigned int i;

	if (o->json) {
		struct json_writer w;

		json_init(&w, stdout);
		json_object_begin(&w, NULL);
		json_string(&w, "device", p2pmap_dgpu_path(dev));
		json_string(&w, "op", r->op);
		json_string(&w, "engine", p2pmap_dgpu_engine_name(res->engine));
		json_string(&w, "file", r->file);
		json_u64(&w, "offset", r->offset);
		json_u64(&w, "length", r->length);
		json_u64(&w, "error", res->error);
		json_string(&w, "error_name", res->error ? strerror(res->error) : "");
		json_u64(&w, "error_offset", res->error_offset);
		json_u64(&w, "bytes", res->bytes);
		if (!strcmp(r->op, "checksum")) {
			json_u64(&w, "checksum", res->checksum);
			json_u64(&w, "cpu_checksum", r->cpu_crc);
		}
		if (r->compared)
			json_bool(&w, "equal", r->equal);
		json_u64(&w, "pages_p2p", res->pages_p2p);
		json_u64(&w, "pages_pagecache", res->pages_pagecache);
		json_object_begin(&w, "reasons");
		for (i = 1; i < P2PMAP_DGPU_MAX_REASONS; i++)
			if (res->reasons[i])
				json_u64(&w, p2pmap_reason_name(i), res->reasons[i]);
		json_object_end(&w);
		json_u64(&w, "faults", res->faults);
		json_u64(&w, "faulted_pages", res->faulted_pages);
		json_u64(&w, "refaults", res->refaults);
		json_u64(&w, "invalidations", res->invalidations);
		json_u64(&w, "duration_ns", res->duration_ns);
		json_object_end(&w);
		json_finish(&w);
		return;
	}
	printf("device:          %s\n", p2pmap_dgpu_path(dev));
	printf("job:             %s on %s, %s [%llu, +%llu)\n", r->op,
	       p2pmap_dgpu_engine_name(res->engine), r->file,
	       (unsigned long long)r->offset, (unsigned long long)r->length);
	if (res->error)
		printf("error:           %s at byte %llu\n",
		       strerror(res->error), res->error_offset);
	printf("bytes:           %llu in %.3f s (%.1f MB/s)\n", res->bytes,
	       secs, mbps);
	if (!strcmp(r->op, "checksum"))
		printf("checksum:        device %08llx, cpu %08x\n",
		       res->checksum, r->cpu_crc);
	if (r->compared)
		printf("data:            %s\n", r->equal ? "equal to the file" :
		       "DIFFERENT from the file");
	printf("pages p2p:       %llu\n", res->pages_p2p);
	printf("pages pagecache: %llu", res->pages_pagecache);
	for (i = 1; i < P2PMAP_DGPU_MAX_REASONS; i++)
		if (res->reasons[i])
			printf(" %s=%llu", p2pmap_reason_name(i), res->reasons[i]);
	printf("\n");
	printf("faults:          %llu (%llu pages), %llu"
	       " refaults, %llu invalidations\n", res->faults,
	       res->faulted_pages, res->refaults, res->invalidations);
}

/* Read [offset, offset + length) of @fd into a new buffer. */
static int read_range(int fd, uint64_t offset, uint64_t length, char **buf)
{
	uint64_t done = 0;
	char *b;

	b = malloc(length ? length : 1);
	if (!b)
		return -ENOMEM;
	while (done < length) {
		ssize_t n = pread(fd, b + done, length - done, (off_t)(offset + done));

		if (n < 0) {
			free(b);
			return -errno;
		}
		if (!n)
			break;	/* the file shrank: the rest stays as it is */
		done += n;
	}
	*buf = b;
	return 0;
}

static int cmd_file(const struct opts *o, struct p2pmap_dgpu *dev, int checksum)
{
	_cleanup_fd_ int fd = -1;
	_cleanup_free_ char *data = NULL;
	struct p2pmap_dgpu_file_map fm = { 0 };
	struct run r = { 0 };
	uint32_t vram = 0;
	uint64_t job;
	struct stat st;
	int ret, status = EXIT_FAILED;

	if (o->argc < 1 || o->argc > 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	r.op = checksum ? "checksum" : "read";
	r.file = o->argv[0];
	if ((o->argc > 1 && parse_u64(o->argv[1], &r.offset)) ||
	    (o->argc > 2 && parse_u64(o->argv[2], &r.length))) {
		fprintf(stderr, "dgpu: OFFSET and LENGTH are byte counts\n");
		return EXIT_USAGE;
	}
	fd = open(r.file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "dgpu: %s: %s\n", r.file, strerror(errno));
		return EXIT_FAILED;
	}
	if (o->argc < 3)
		r.length = (uint64_t)st.st_size > r.offset ? st.st_size - r.offset : 0;
	if (!r.length) {
		fprintf(stderr, "dgpu: %s: nothing to read at offset %llu\n",
			r.file, (unsigned long long)r.offset);
		return EXIT_FAILED;
	}

	ret = p2pmap_dgpu_import_file(dev, fd, r.offset, r.length, 0, &fm);
	if (ret) {
		fprintf(stderr, "dgpu: importing %s: %s\n", r.file, strerror(-ret));
		return EXIT_FAILED;
	}
	if (checksum) {
		ret = p2pmap_dgpu_checksum(dev, o->engine, fm.handle, fm.data_offset,
					   r.length, &job);
	} else {
		ret = p2pmap_dgpu_vram_create(dev, r.length, &vram);
		if (!ret)
			ret = p2pmap_dgpu_copy(dev, o->engine, vram, 0, fm.handle,
					       fm.data_offset, r.length, &job);
	}
	if (ret) {
		fprintf(stderr, "dgpu: submitting the job: %s\n", strerror(-ret));
		goto out_release;
	}
	ret = p2pmap_dgpu_wait(dev, job, P2PMAP_DGPU_WAIT_FOREVER, &r.res);
	if (ret) {
		fprintf(stderr, "dgpu: waiting for the job: %s\n", strerror(-ret));
		goto out_release;
	}

	ret = read_range(fd, r.offset, r.length, &data);
	if (ret) {
		fprintf(stderr, "dgpu: reading %s: %s\n", r.file, strerror(-ret));
		goto out_release;
	}
	if (checksum) {
		r.cpu_crc = p2pmap_dgpu_crc32(0, data, r.length);
	} else if (!r.res.error) {
		void *map;

		ret = p2pmap_dgpu_vram_map(dev, vram, r.length, &map);
		if (ret) {
			fprintf(stderr, "dgpu: mapping VRAM: %s\n", strerror(-ret));
			goto out_release;
		}
		r.compared = 1;
		r.equal = !memcmp(map, data, r.length);
		munmap(map, r.length);
	}
	print_run(o, dev, &r);
	if (!r.res.error && (checksum ? r.res.checksum == r.cpu_crc : r.equal))
		status = EXIT_DONE;

out_release:
	if (vram)
		p2pmap_dgpu_handle_close(dev, vram);
	p2pmap_dgpu_release_file(dev, &fm);
	return status;
}

/* A run of pages of the device page table with one path, reason and flags. */
static int same_run(const struct drm_p2pmap_dgpu_pte *a,
		    const struct drm_p2pmap_dgpu_pte *b)
{
	return a->path == b->path && a->reason == b->reason && a->flags == b->flags;
}

static void print_map(const struct opts *o, struct p2pmap_dgpu *dev,
		      const char *file, uint64_t offset, uint64_t length, int err,
		      const struct drm_p2pmap_dgpu_userptr_fault *f,
		      const struct drm_p2pmap_dgpu_pte *e, uint64_t npages)
{
	uint64_t i, j;
	unsigned int r;

	if (o->json) {
		struct json_writer w;

		json_init(&w, stdout);
		json_object_begin(&w, NULL);
		json_string(&w, "device", p2pmap_dgpu_path(dev));
		json_string(&w, "op", "map");
		json_string(&w, "file", file);
		json_u64(&w, "offset", offset);
		json_u64(&w, "length", length);
		json_bool(&w, "write", o->write);
		json_u64(&w, "error", err);
		json_string(&w, "error_name", err ? strerror(err) : "");
		json_u64(&w, "pages_p2p", f->pages_p2p);
		json_u64(&w, "pages_pagecache", f->pages_pagecache);
		json_u64(&w, "pages_unmapped", f->pages_unmapped);
		json_object_begin(&w, "reasons");
		for (r = 1; r < P2PMAP_DGPU_MAX_REASONS; r++)
			if (f->reasons[r])
				json_u64(&w, p2pmap_reason_name(r), f->reasons[r]);
		json_object_end(&w);
		json_u64(&w, "faults", f->faults);
		json_u64(&w, "faulted_pages", f->faulted_pages);
		json_u64(&w, "refaults", f->refaults);
		json_u64(&w, "invalidations", f->invalidations);
		json_u64(&w, "duration_ns", f->duration_ns);
		json_array_begin(&w, "runs");
		for (i = 0; i < npages; i = j) {
			for (j = i + 1; j < npages && same_run(&e[i], &e[j]); j++)
				;
			json_object_begin(&w, NULL);
			json_u64(&w, "page", i);
			json_u64(&w, "pages", j - i);
			json_string(&w, "path", p2pmap_path_name(e[i].path));
			json_string(&w, "reason", p2pmap_reason_name(e[i].reason));
			json_u64(&w, "addr", e[i].addr);
			json_bool(&w, "writable", !!(e[i].flags & P2PMAP_DGPU_PTE_WRITABLE));
			json_u64(&w, "revocations", e[i].revocations);
			json_object_end(&w);
		}
		json_array_end(&w);
		json_object_end(&w);
		json_finish(&w);
		return;
	}
	printf("device:          %s\n", p2pmap_dgpu_path(dev));
	printf("map:             %s [%llu, +%llu)%s\n", file,
	       (unsigned long long)offset, (unsigned long long)length,
	       o->write ? " for writing" : "");
	if (err)
		printf("error:           %s\n", strerror(err));
	printf("pages p2p:       %llu\n", f->pages_p2p);
	printf("pages pagecache: %llu", f->pages_pagecache);
	for (r = 1; r < P2PMAP_DGPU_MAX_REASONS; r++)
		if (f->reasons[r])
			printf(" %s=%llu", p2pmap_reason_name(r), f->reasons[r]);
	printf("\n");
	if (f->pages_unmapped)
		printf("pages unmapped:  %llu\n", f->pages_unmapped);
	printf("faults:          %llu (%llu pages), %llu refaults, %llu invalidations, %.3f ms\n",
	       f->faults, f->faulted_pages, f->refaults, f->invalidations,
	       f->duration_ns / 1e6);
	printf("page table (page of the mapping: path, reason, first address):\n");
	for (i = 0; i < npages; i = j) {
		for (j = i + 1; j < npages && same_run(&e[i], &e[j]); j++)
			;
		printf("  %6llu-%-6llu %-9s %-14s %#llx%s\n", (unsigned long long)i,
		       (unsigned long long)(j - 1), p2pmap_path_name(e[i].path),
		       e[i].path == P2PMAP_PATH_PAGECACHE ?
		       p2pmap_reason_name(e[i].reason) : "-",
		       (unsigned long long)e[i].addr,
		       e[i].flags & P2PMAP_DGPU_PTE_WRITABLE ? " writable" : "");
	}
}

/* map: fault a file range for the device without a job, print its page table. */
static int cmd_map(const struct opts *o, struct p2pmap_dgpu *dev)
{
	_cleanup_fd_ int fd = -1;
	_cleanup_free_ struct drm_p2pmap_dgpu_pte *e = NULL;
	struct drm_p2pmap_dgpu_userptr_fault f;
	struct p2pmap_dgpu_file_map fm = { 0 };
	uint64_t offset = 0, length = 0, npages;
	const char *file;
	struct stat st;
	int ret, err, status = EXIT_FAILED;

	if (o->argc < 1 || o->argc > 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	file = o->argv[0];
	if ((o->argc > 1 && parse_u64(o->argv[1], &offset)) ||
	    (o->argc > 2 && parse_u64(o->argv[2], &length))) {
		fprintf(stderr, "dgpu: OFFSET and LENGTH are byte counts\n");
		return EXIT_USAGE;
	}
	fd = open(file, (o->write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "dgpu: %s: %s\n", file, strerror(errno));
		return EXIT_FAILED;
	}
	if (o->argc < 3)
		length = (uint64_t)st.st_size > offset ? st.st_size - offset : 0;
	if (!length) {
		fprintf(stderr, "dgpu: %s: nothing to map at offset %llu\n", file,
			(unsigned long long)offset);
		return EXIT_FAILED;
	}
	ret = p2pmap_dgpu_import_file(dev, fd, offset, length, o->write, &fm);
	if (ret) {
		fprintf(stderr, "dgpu: importing %s: %s\n", file, strerror(-ret));
		return EXIT_FAILED;
	}
	npages = fm.map_length / sysconf(_SC_PAGESIZE);
	e = calloc(npages, sizeof(*e));
	if (!e) {
		fprintf(stderr, "dgpu: %s\n", strerror(ENOMEM));
		goto out_release;
	}
	memset(&f, 0, sizeof(f));
	ret = p2pmap_dgpu_userptr_fault(dev, fm.handle, 0, fm.map_length,
					o->write ? P2PMAP_DGPU_FAULT_WRITE : 0, &f);
	if (ret == -EINVAL || ret == -ENOENT) {
		fprintf(stderr, "dgpu: mapping %s: %s\n", file, strerror(-ret));
		goto out_release;
	}
	status = ret ? EXIT_FAILED : EXIT_DONE;
	err = -ret;
	ret = p2pmap_dgpu_userptr_snapshot(dev, fm.handle, 0, npages, e, NULL);
	if (ret) {
		fprintf(stderr, "dgpu: reading the page table: %s\n", strerror(-ret));
		status = EXIT_FAILED;
		goto out_release;
	}
	print_map(o, dev, file, offset, length, err, &f, e, npages);

out_release:
	p2pmap_dgpu_release_file(dev, &fm);
	return status;
}

int main(int argc, char **argv)
{
	struct p2pmap_dgpu *dev = NULL;
	struct drm_p2pmap_dgpu_info info;
	struct opts o;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret;
	if (strcmp(o.cmd, "info") && strcmp(o.cmd, "checksum") &&
	    strcmp(o.cmd, "read") && strcmp(o.cmd, "map")) {
		fprintf(stderr, "dgpu: unknown command '%s'\n", o.cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	ret = open_device(&o, &dev);
	if (ret)
		return ret;

	if (!strcmp(o.cmd, "info")) {
		ret = p2pmap_dgpu_get_info(dev, &info);
		if (ret) {
			fprintf(stderr, "dgpu: %s: %s\n", p2pmap_dgpu_path(dev),
				strerror(-ret));
			ret = EXIT_FAILED;
		} else {
			print_info(&o, dev, &info);
		}
	} else if (!strcmp(o.cmd, "map")) {
		ret = cmd_map(&o, dev);
	} else {
		ret = cmd_file(&o, dev, !strcmp(o.cmd, "checksum"));
	}
	p2pmap_dgpu_close(dev);
	return ret;
}
