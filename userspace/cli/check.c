// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap check FILE [OFFSET LENGTH] [--device BDF]: per range of the file,
 * the path a device would get (P2P or page cache) and why; the answer to
 * "why is this slow". The kernel answers (P2PMAP_IOC_CHECK through
 * libp2pmap); nothing is staged, flushed or changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check.h"
#include "cleanup.h"
#include "json.h"

const struct cli_option cli_check_options[] = {
	{ "device", CLI_ARG_REQUIRED, "BDF",
	  "the PCI function that would read (0000:04:00.0): check its route too" },
	{ NULL },
};

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void cli_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

void cli_mount_of(const char *mountinfo, unsigned int major,
		  unsigned int minor, const char *path, struct cli_mount *m)
{
	const char *line, *nl;
	char buf[4096], dir[1024], fstype[32], source[256];
	unsigned int maj, min;
	size_t best = 0, len;
	char *sep;

	memset(m, 0, sizeof(*m));
	for (line = mountinfo; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (len >= sizeof(buf))
			continue;
		memcpy(buf, line, len);
		buf[len] = '\0';
		/* ID PARENT MAJ:MIN ROOT DIR OPTS [TAGS...] - FSTYPE SOURCE SUPER */
		if (sscanf(buf, "%*u %*u %u:%u %*s %1023s", &maj, &min, dir) != 3 ||
		    maj != major || min != minor)
			continue;
		sep = strstr(buf, " - ");
		if (!sep || sscanf(sep + 3, "%31s %255s", fstype, source) != 2)
			continue;
		cli_unescape(dir);
		cli_unescape(source);
		len = strlen(dir);
		if (strcmp(dir, "/") && (strncmp(path, dir, len) ||
					 (path[len] && path[len] != '/')))
			continue;
		if (m->found && len <= best)
			continue;
		best = len;
		m->found = true;
		snprintf(m->dir, sizeof(m->dir), "%s", dir);
		snprintf(m->fstype, sizeof(m->fstype), "%s", fstype);
		snprintf(m->source, sizeof(m->source), "%s", source);
	}
}

void cli_check_summarize(const struct p2pmap_check_result *r,
			 struct cli_check_summary *sum)
{
	size_t i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < r->nr_extents; i++) {
		const struct p2pmap_check_extent *e = &r->extents[i];

		if (e->path == P2PMAP_PATH_P2P)
			sum->p2p += e->length;
		else if (e->path == P2PMAP_PATH_PAGECACHE)
			sum->pagecache += e->length;
		else
			sum->none += e->length;
		if (e->path != P2PMAP_PATH_P2P && e->reason < P2PMAP_STATS_MAX_REASONS)
			sum->by_reason[e->reason] += e->length;
	}
}

/* The name of @v in @name_fn, or "unknown(N)" in @buf. */
static const char *cli_name_or_number(const char *(*name_fn)(int), uint32_t v,
				      char *buf, size_t len)
{
	const char *name = name_fn((int)v);

	if (name)
		return name;
	snprintf(buf, len, "unknown(%u)", v);
	return buf;
}

static int cli_check_json(FILE *out, const struct cli_check_report *rep,
			  const struct cli_check_summary *sum)
{
	const struct p2pmap_check_result *r = rep->result;
	struct json_writer w;
	char buf[32];
	size_t i;

	json_init(&w, out);
	json_object_begin(&w, NULL);
	json_string(&w, "file", rep->file);
	if (rep->mount.found) {
		json_object_begin(&w, "mount");
		json_string(&w, "fstype", rep->mount.fstype);
		json_string(&w, "source", rep->mount.source);
		json_string(&w, "dir", rep->mount.dir);
		json_object_end(&w);
	} else {
		json_null(&w, "mount");
	}
	json_u64(&w, "file_size", r->file_size);
	json_u64(&w, "offset", r->offset);
	json_u64(&w, "end", r->end);
	json_bool(&w, "whole_file", rep->whole_file);
	json_string(&w, "device", rep->device);
	json_string(&w, "provider", r->provider[0] ? r->provider : NULL);
	json_string(&w, "why", r->why[0] ? r->why : NULL);
	json_array_begin(&w, "extents");
	for (i = 0; i < r->nr_extents; i++) {
		const struct p2pmap_check_extent *e = &r->extents[i];

		json_object_begin(&w, NULL);
		json_u64(&w, "offset", e->offset);
		json_u64(&w, "length", e->length);
		json_string(&w, "path", cli_name_or_number(p2pmap_path_name, e->path,
							   buf, sizeof(buf)));
		json_string(&w, "reason", cli_name_or_number(p2pmap_reason_name,
							     e->reason, buf, sizeof(buf)));
		if (e->sector || e->reason == P2PMAP_REASON_NONE ||
		    e->reason == P2PMAP_REASON_NO_CMB ||
		    e->reason == P2PMAP_REASON_NO_ROUTE)
			json_u64(&w, "sector", e->sector);
		else
			json_null(&w, "sector");
		json_object_end(&w);
	}
	json_array_end(&w);
	json_object_begin(&w, "summary");
	json_u64(&w, "bytes_p2p", sum->p2p);
	json_u64(&w, "bytes_pagecache", sum->pagecache);
	json_u64(&w, "bytes_none", sum->none);
	json_object_begin(&w, "fallback_bytes");
	for (i = 1; i < P2PMAP_STATS_MAX_REASONS; i++) {
		if (!sum->by_reason[i])
			continue;
		json_u64(&w, cli_name_or_number(p2pmap_reason_name, i, buf, sizeof(buf)),
			 sum->by_reason[i]);
	}
	json_object_end(&w);
	json_object_end(&w);
	json_object_end(&w);
	return json_finish(&w);
}

static double cli_percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static void cli_check_text(FILE *out, const struct cli_check_report *rep,
			   const struct cli_check_summary *sum)
{
	const struct p2pmap_check_result *r = rep->result;
	uint64_t total = sum->p2p + sum->pagecache + sum->none;
	char a[32], b[32];
	const char *desc;
	size_t i;

	fprintf(out, "file:      %s", rep->file);
	if (rep->mount.found)
		fprintf(out, " (%s on %s, mounted on %s)", rep->mount.fstype,
			rep->mount.source, rep->mount.dir);
	fputc('\n', out);
	fprintf(out, "range:     %" PRIu64 " to %" PRIu64 " (%s%s; file size %s)\n",
		r->offset, r->end, cli_format_bytes(r->end - r->offset, a, sizeof(a)),
		rep->whole_file ? ", the whole file" : "",
		cli_format_bytes(r->file_size, b, sizeof(b)));
	if (rep->device)
		fprintf(out, "device:    %s\n", rep->device);
	else
		fputs("device:    any device that reaches the provider (give --device BDF to check a route)\n",
		      out);
	fprintf(out, "provider:  %s\n", r->provider[0] ? r->provider : "none");
	if (r->why[0])
		fprintf(out, "why:       %s\n", r->why);

	if (!r->nr_extents) {
		fputs("\nnothing to check: the range lies beyond the end of the file\n", out);
		return;
	}
	fprintf(out, "\n%-14s %-14s %-10s %s\n", "offset", "length", "path", "reason");
	for (i = 0; i < r->nr_extents; i++) {
		const struct p2pmap_check_extent *e = &r->extents[i];

		fprintf(out, "%-14" PRIu64 " %-14" PRIu64 " %-10s %s\n",
			(uint64_t)e->offset, (uint64_t)e->length,
			cli_name_or_number(p2pmap_path_name, e->path, a, sizeof(a)),
			e->reason == P2PMAP_REASON_NONE ? "-" :
			cli_name_or_number(p2pmap_reason_name, e->reason, b, sizeof(b)));
	}

	fprintf(out, "\nP2P:         %s (%.1f%%)\n", cli_format_bytes(sum->p2p, a, sizeof(a)),
		cli_percent(sum->p2p, total));
	fprintf(out, "page cache:  %s (%.1f%%)\n", cli_format_bytes(sum->pagecache, a, sizeof(a)),
		cli_percent(sum->pagecache, total));
	if (sum->none)
		fprintf(out, "no path:     %s (%.1f%%)\n",
			cli_format_bytes(sum->none, a, sizeof(a)),
			cli_percent(sum->none, total));
	for (i = 1; i < P2PMAP_STATS_MAX_REASONS; i++) {
		if (!sum->by_reason[i])
			continue;
		desc = p2pmap_reason_description(i);
		fprintf(out, "  %-15s %-10s %s\n",
			cli_name_or_number(p2pmap_reason_name, i, b, sizeof(b)),
			cli_format_bytes(sum->by_reason[i], a, sizeof(a)),
			desc ? desc : "a reason this p2pmap does not know");
	}
}

int cli_check_print(FILE *out, enum cli_output output,
		    const struct cli_check_report *rep)
{
	struct cli_check_summary sum;

	cli_check_summarize(rep->result, &sum);
	if (output == CLI_OUTPUT_JSON)
		return cli_check_json(out, rep, &sum);
	cli_check_text(out, rep, &sum);
	return 0;
}

/* Fill @m for the file open on @fd, named @file. */
static void cli_find_mount(int fd, const char *file, struct cli_mount *m)
{
	_cleanup_free_ char *info = NULL, *real = NULL;
	size_t len = 0;
	struct stat st;
	FILE *f;

	memset(m, 0, sizeof(*m));
	if (fstat(fd, &st))
		return;
	real = realpath(file, NULL);
	f = fopen("/proc/self/mountinfo", "re");
	if (!real || !f) {
		if (f)
			fclose(f);
		return;
	}
	if (getdelim(&info, &len, '\0', f) >= 0)
		cli_mount_of(info, major(st.st_dev), minor(st.st_dev), real, m);
	fclose(f);
}

int cli_check_command(const struct cli_invocation *inv)
{
	struct p2pmap_check_args args = { .args_size = sizeof(args) };
	_cleanup_p2pmap_ struct p2pmap *handle = NULL;
	struct p2pmap_check_result *result = NULL;
	struct cli_check_report rep = { 0 };
	char device[P2PMAP_PCI_ADDR_SIZE];
	_cleanup_fd_ int fd = -1;
	struct p2pmap_error err;
	const char *bdf;
	int ret;

	rep.file = inv->argv[0];
	if (inv->argc == 2)
		return cli_usage_error(inv, "give both OFFSET and LENGTH, or neither (the whole file)");
	if (inv->argc == 3) {
		if (cli_parse_size(inv, "OFFSET", inv->argv[1], &args.offset) ||
		    cli_parse_size(inv, "LENGTH", inv->argv[2], &args.length))
			return CLI_EXIT_USAGE;
		if (!args.length)
			return cli_usage_error(inv, "LENGTH must not be 0");
		if (args.offset + args.length < args.offset)
			return cli_usage_error(inv, "OFFSET + LENGTH goes beyond the largest file offset");
	}
	rep.whole_file = inv->argc == 1;
	bdf = cli_option_value(inv, "device");
	if (bdf) {
		if (p2pmap_pci_parse(bdf, &args.device, &err))
			return cli_usage_error(inv, "%s", err.msg);
		args.flags |= P2PMAP_CHECK_DEVICE;
		p2pmap_pci_format(args.device, device, sizeof(device));
		rep.device = device;
	}

	if (p2pmap_open(&handle, &err)) {
		fprintf(inv->err, "p2pmap: %s\n", err.msg);
		return cli_exit_for_error(&err);
	}
	fd = open(rep.file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		fprintf(inv->err, "p2pmap: cannot open %s: %s\n", rep.file,
			errno == EACCES ? "permission denied (check its mode and your groups)" :
			strerror(errno));
		return CLI_EXIT_FAILED;
	}
	args.fd = fd;
	ret = p2pmap_check_file(handle, &args, &result, &err);
	if (ret) {
		fprintf(inv->err, "p2pmap: %s: %s\n", rep.file, err.msg);
		return cli_exit_for_error(&err);
	}
	cli_find_mount(fd, rep.file, &rep.mount);
	rep.result = result;
	ret = cli_check_print(inv->out, inv->output, &rep);
	p2pmap_check_result_free(result);
	if (ret) {
		fputs("p2pmap: internal error: invalid JSON output\n", inv->err);
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}
