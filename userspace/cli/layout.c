// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap layout show|read|write FILE ...: a pNFS-style client of
 * /dev/p2pmap's layouts (docs/layouts.md).
 *
 * "write" is the client: it gets a read-write layout over the range (on
 * XFS a new file, or a range past its end, gets unwritten blocks), writes
 * the data straight to the blocks with LAYOUT_IO, commits (unwritten blocks
 * become written, the size grows) and returns the layout. Between two
 * pieces of I/O it looks for recalls: a recalled layout gets no new I/O,
 * what was written is committed and the layout returned at once, and the
 * rest goes through write(2), as a pNFS client falls back to the metadata
 * server; the fallback is counted and reported. A revoked (fenced) layout
 * loses what it had not committed: that is written again through write(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "cli.h"

#define CLI_LAYOUT_MAX_INPUT	(1ULL << 30)
#define CLI_LAYOUT_CHUNK	(1ULL << 20)

const struct cli_option cli_layout_options[] = {
	{ "input", CLI_ARG_REQUIRED, "SRC",
	  "write: the data to write (default standard input)" },
	{ "to", CLI_ARG_REQUIRED, "DST",
	  "read: where to put the bytes (default standard output)" },
	{ "break", CLI_ARG_REQUIRED, "SECONDS",
	  "how long a recalled layout may still be used (default 5)" },
	{ "pace", CLI_ARG_REQUIRED, "SECONDS",
	  "write: pause between pieces of I/O (to watch a recall happen)" },
	{ NULL },
};

/* What one 'p2pmap layout write' did. */
struct cli_layout_write {
	uint64_t offset;
	uint64_t length;
	uint32_t id;
	uint32_t extents[4];		/* by P2PMAP_EXTENT_* */
	uint64_t via_layout;		/* bytes written and committed through it */
	uint64_t via_write;		/* bytes written with write(2): the fallback */
	const char *fallback;		/* why, or NULL */
	int recall_cause;		/* 0, or enum p2pmap_layout_cause */
	bool revoked;
	uint64_t size;
};

static int cli_layout_open_handle(const struct cli_invocation *inv,
				  struct p2pmap **h)
{
	struct p2pmap_error err;

	if (p2pmap_open(h, &err)) {
		fprintf(inv->err, "p2pmap: %s\n", err.msg);
		return cli_exit_for_error(&err);
	}
	return 0;
}

static int cli_layout_range(const struct cli_invocation *inv, unsigned int first,
			    uint64_t *offset, uint64_t *length)
{
	if (inv->argc > (int)first &&
	    cli_parse_size(inv, "OFFSET", inv->argv[first], offset))
		return CLI_EXIT_USAGE;
	if (inv->argc > (int)first + 1 &&
	    cli_parse_size(inv, "LENGTH", inv->argv[first + 1], length))
		return CLI_EXIT_USAGE;
	if (!*length)
		return cli_usage_error(inv, "LENGTH must not be 0");
	if (*offset + *length < *offset)
		return cli_usage_error(inv, "OFFSET + LENGTH goes beyond the largest file offset");
	return 0;
}

static uint32_t cli_layout_break(const struct cli_invocation *inv, int *bad)
{
	const char *v = cli_option_value(inv, "break");
	uint64_t ms = 0;

	*bad = 0;
	if (v && cli_parse_seconds(inv, "--break", v, &ms))
		*bad = 1;
	if (ms > P2PMAP_LAYOUT_BREAK_MS_MAX) {
		cli_usage_error(inv, "--break is at most %u seconds",
				P2PMAP_LAYOUT_BREAK_MS_MAX / 1000);
		*bad = 1;
	}
	return (uint32_t)ms;
}

static void cli_layout_print_extents(const struct cli_invocation *inv,
				     const struct p2pmap_layout *l)
{
	struct json_writer w;
	uint32_t i;

	if (inv->output == CLI_OUTPUT_JSON) {
		json_init(&w, inv->out);
		json_object_begin(&w, NULL);
		json_u64(&w, "id", l->id);
		json_string(&w, "iomode", l->iomode == P2PMAP_LAYOUT_RW ? "rw" : "read");
		json_u64(&w, "offset", l->offset);
		json_u64(&w, "length", l->length);
		json_u64(&w, "blksize", l->blksize);
		json_array_begin(&w, "extents");
		for (i = 0; i < l->nr_extents; i++) {
			const struct p2pmap_layout_extent *e = &l->extents[i];

			json_object_begin(&w, NULL);
			json_u64(&w, "offset", e->offset);
			json_u64(&w, "length", e->length);
			json_string(&w, "state", p2pmap_extent_state_name(e->state));
			json_u64(&w, "major", e->dev >> 8 & 0xfff);
			json_u64(&w, "minor", (e->dev & 0xff) | (e->dev >> 12 & 0xfff00));
			json_u64(&w, "sector", e->sector);
			json_bool(&w, "cmb", e->flags & P2PMAP_EXTENT_CMB);
			json_string(&w, "reason", p2pmap_reason_name(e->reason));
			json_object_end(&w);
		}
		json_array_end(&w);
		json_object_end(&w);
		json_finish(&w);
		return;
	}
	fprintf(inv->out, "layout %u (%s): bytes %" PRIu64 "-%" PRIu64 ", block size %u, %u extent%s\n",
		l->id, l->iomode == P2PMAP_LAYOUT_RW ? "read-write" : "read",
		l->offset, l->offset + l->length, l->blksize, l->nr_extents,
		l->nr_extents == 1 ? "" : "s");
	fprintf(inv->out, "  %-14s %-12s %-10s %-9s %-14s %s\n", "OFFSET", "LENGTH",
		"STATE", "DEVICE", "SECTOR", "CMB");
	for (i = 0; i < l->nr_extents; i++) {
		const struct p2pmap_layout_extent *e = &l->extents[i];
		char dev[24] = "-";

		if (e->dev)
			snprintf(dev, sizeof(dev), "%u:%u", e->dev >> 8 & 0xfff,
				 (e->dev & 0xff) | (e->dev >> 12 & 0xfff00));
		fprintf(inv->out, "  %-14" PRIu64 " %-12" PRIu64 " %-10s %-9s %-14" PRIu64 " %s\n",
			(uint64_t)e->offset, (uint64_t)e->length,
			p2pmap_extent_state_name(e->state), dev, (uint64_t)e->sector,
			e->flags & P2PMAP_EXTENT_CMB ? "yes" :
			p2pmap_reason_name(e->reason));
	}
}

/*
 * show and read: open FILE (argv[1]) read-only and get a read layout of the
 * range the arguments name (*@offset, *@length). Return: CLI_EXIT_OK with *@h, *@fd and *@l
 * set (the caller's to release), or the exit status after saying why.
 */
static int cli_layout_get_read(const struct cli_invocation *inv,
			       struct p2pmap **h, int *fd,
			       struct p2pmap_layout **l, uint64_t *offset,
			       uint64_t *length)
{
	struct p2pmap_error err;
	int ret, bad;
	uint32_t brk = cli_layout_break(inv, &bad);

	if (bad)
		return CLI_EXIT_USAGE;
	*offset = 0;
	*length = CLI_LAYOUT_MAX_INPUT;
	ret = cli_layout_range(inv, 2, offset, length);
	if (ret)
		return ret;
	ret = cli_layout_open_handle(inv, h);
	if (ret)
		return ret;
	*fd = open(inv->argv[1], O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		fprintf(inv->err, "p2pmap: cannot open %s: %s\n", inv->argv[1],
			strerror(errno));
		return CLI_EXIT_FAILED;
	}
	if (p2pmap_layout_get(*h, *fd, P2PMAP_LAYOUT_READ, *offset, *length, brk,
			      l, &err)) {
		fprintf(inv->err, "p2pmap: %s: %s\n", inv->argv[1], err.msg);
		return cli_exit_for_error(&err);
	}
	return CLI_EXIT_OK;
}

static int cli_layout_show(const struct cli_invocation *inv)
{
	_cleanup_p2pmap_ struct p2pmap *h = NULL;
	struct p2pmap_layout *l = NULL;
	uint64_t offset, length;
	struct p2pmap_error err;
	_cleanup_fd_ int fd = -1;
	int ret;

	ret = cli_layout_get_read(inv, &h, &fd, &l, &offset, &length);
	if (ret)
		return ret;
	cli_layout_print_extents(inv, l);
	if (p2pmap_layout_return(h, l, &err)) {
		fprintf(inv->err, "p2pmap: %s: %s\n", inv->argv[1], err.msg);
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

static int cli_layout_read(const struct cli_invocation *inv)
{
	_cleanup_p2pmap_ struct p2pmap *h = NULL;
	struct p2pmap_layout *l = NULL;
	uint64_t offset, length, pos, end;
	const char *dst = cli_option_value(inv, "to");
	_cleanup_free_ char *buf = NULL;
	struct p2pmap_error err;
	_cleanup_fd_ int fd = -1;
	int out = STDOUT_FILENO, ret;

	ret = cli_layout_get_read(inv, &h, &fd, &l, &offset, &length);
	if (ret)
		return ret;
	end = l->offset + l->length;
	{
		struct stat st;

		/* the layout ends at a block: the file may end before */
		if (!fstat(fd, &st) && (uint64_t)st.st_size < end)
			end = st.st_size;
	}
	if (offset + length < end)
		end = offset + length;
	buf = malloc(CLI_LAYOUT_CHUNK);
	if (dst) {
		out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0) {
			fprintf(inv->err, "p2pmap: cannot open %s: %s\n", dst, strerror(errno));
			p2pmap_layout_return(h, l, NULL);
			return CLI_EXIT_FAILED;
		}
	}
	ret = CLI_EXIT_OK;
	for (pos = offset; buf && pos < end; ) {
		uint64_t n = end - pos < CLI_LAYOUT_CHUNK ? end - pos : CLI_LAYOUT_CHUNK;

		if (p2pmap_layout_io(h, l, 0, pos, buf, n, &err)) {
			fprintf(inv->err, "p2pmap: %s: %s\n", inv->argv[1], err.msg);
			ret = CLI_EXIT_FAILED;
			break;
		}
		if (write(out, buf, n) != (ssize_t)n) {
			fprintf(inv->err, "p2pmap: writing the output failed: %s\n",
				strerror(errno));
			ret = CLI_EXIT_FAILED;
			break;
		}
		pos += n;
	}
	if (!buf)
		ret = CLI_EXIT_FAILED;
	if (dst)
		close(out);
	if (p2pmap_layout_return(h, l, &err) && ret == CLI_EXIT_OK) {
		fprintf(inv->err, "p2pmap: %s: %s\n", inv->argv[1], err.msg);
		ret = CLI_EXIT_FAILED;
	}
	return ret;
}

/* Read all of @src (a path, or NULL for standard input). */
static int cli_layout_slurp(const struct cli_invocation *inv, const char *src,
			    char **data, uint64_t *len)
{
	int fd = src ? open(src, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	uint64_t cap = 1 << 20, n = 0;
	char *buf = NULL, *grown;
	ssize_t got;

	if (fd < 0) {
		fprintf(inv->err, "p2pmap: cannot open %s: %s\n", src, strerror(errno));
		return -1;
	}
	for (;;) {
		if (!buf || n == cap) {
			if (buf)
				cap *= 2;
			if (cap > CLI_LAYOUT_MAX_INPUT) {
				fprintf(inv->err, "p2pmap: the input is larger than 1 GiB\n");
				goto fail;
			}
			grown = realloc(buf, cap);
			if (!grown)
				goto fail;
			buf = grown;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0) {
			fprintf(inv->err, "p2pmap: reading the input failed: %s\n",
				strerror(errno));
			goto fail;
		}
		if (!got)
			break;
		n += got;
	}
	if (src)
		close(fd);
	*data = buf;
	*len = n;
	return 0;
fail:
	if (src)
		close(fd);
	free(buf);
	return -1;
}

/* Write [@from, @to) of the data with write(2): the fallback. */
static int cli_layout_pwrite(int fd, const char *data, uint64_t offset,
			     uint64_t from, uint64_t to)
{
	while (from < to) {
		ssize_t n = pwrite(fd, data + (from - offset), to - from, from);

		if (n <= 0)
			return -1;
		from += n;
	}
	return fsync(fd);
}

/* A recall or revocation of layout @id pending? Non-blocking. */
static void cli_layout_poll(struct p2pmap *h, uint32_t id,
			    struct cli_layout_write *res, bool *recalled)
{
	struct p2pmap_layout_event ev;

	while (!p2pmap_layout_next_event(h, 0, &ev, NULL)) {
		if (ev.id != id)
			continue;
		*recalled = true;
		if (!res->recall_cause)
			res->recall_cause = ev.cause;
		if (ev.type == P2PMAP_LAYOUT_EVENT_REVOKED)
			res->revoked = true;
	}
}

static int cli_layout_print_write(const struct cli_invocation *inv,
				  const char *file, const struct cli_layout_write *r)
{
	struct json_writer w;

	if (inv->output == CLI_OUTPUT_JSON) {
		json_init(&w, inv->out);
		json_object_begin(&w, NULL);
		json_string(&w, "file", file);
		json_u64(&w, "offset", r->offset);
		json_u64(&w, "length", r->length);
		json_u64(&w, "layout", r->id);
		json_object_begin(&w, "extents");
		json_u64(&w, "written", r->extents[P2PMAP_EXTENT_WRITTEN]);
		json_u64(&w, "unwritten", r->extents[P2PMAP_EXTENT_UNWRITTEN]);
		json_u64(&w, "hole", r->extents[P2PMAP_EXTENT_HOLE]);
		json_object_end(&w);
		json_u64(&w, "bytes_layout", r->via_layout);
		json_u64(&w, "bytes_write", r->via_write);
		if (r->fallback)
			json_string(&w, "fallback", r->fallback);
		else
			json_null(&w, "fallback");
		if (r->recall_cause)
			json_string(&w, "recall", p2pmap_layout_cause_name(r->recall_cause));
		else
			json_null(&w, "recall");
		json_bool(&w, "revoked", r->revoked);
		json_u64(&w, "size", r->size);
		json_object_end(&w);
		return json_finish(&w);
	}
	fprintf(inv->out, "%s: %" PRIu64 " bytes at %" PRIu64 ": %" PRIu64
		" through layout %u (%u written, %u unwritten extents), %" PRIu64
		" through write(2)%s%s%s; size %" PRIu64 "\n",
		file, r->length, r->offset, r->via_layout, r->id,
		r->extents[P2PMAP_EXTENT_WRITTEN], r->extents[P2PMAP_EXTENT_UNWRITTEN],
		r->via_write, r->fallback ? " (" : "", r->fallback ? r->fallback : "",
		r->fallback ? ")" : "", r->size);
	return 0;
}

static int cli_layout_write(const struct cli_invocation *inv)
{
	const char *file = inv->argv[1], *pace_opt = cli_option_value(inv, "pace");
	struct cli_layout_write res = { 0 };
	_cleanup_p2pmap_ struct p2pmap *h = NULL;
	_cleanup_free_ char *data = NULL, *chunk = NULL;
	struct p2pmap_layout *l = NULL;
	struct p2pmap_layout_range range;
	uint64_t len = 0, bs, pos, end, astart, aend, done_to, pace = 0;
	struct p2pmap_error err;
	_cleanup_fd_ int fd = -1;
	bool recalled = false;
	struct stat st;
	uint32_t brk, i;
	int ret, bad;

	brk = cli_layout_break(inv, &bad);
	if (bad || (pace_opt && cli_parse_seconds(inv, "--pace", pace_opt, &pace)))
		return CLI_EXIT_USAGE;
	if (inv->argc > 3)
		return cli_usage_error(inv, "write takes FILE [OFFSET]; the length is the input's");
	if (inv->argc == 3 && cli_parse_size(inv, "OFFSET", inv->argv[2], &res.offset))
		return CLI_EXIT_USAGE;
	if (cli_layout_slurp(inv, cli_option_value(inv, "input"), &data, &len))
		return CLI_EXIT_FAILED;
	if (!len)
		return cli_usage_error(inv, "the input is empty: nothing to write");
	res.length = len;
	end = res.offset + len;

	ret = cli_layout_open_handle(inv, &h);
	if (ret)
		return ret;
	fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(inv->err, "p2pmap: cannot open %s: %s\n", file, strerror(errno));
		return CLI_EXIT_FAILED;
	}

	ret = p2pmap_layout_get(h, fd, P2PMAP_LAYOUT_RW, res.offset, len, brk, &l, &err);
	if (ret) {
		/* as a pNFS client does without a layout: through the server */
		res.fallback = err.msg;
		if (cli_layout_pwrite(fd, data, res.offset, res.offset, end)) {
			fprintf(inv->err, "p2pmap: %s: write(2) failed too: %s\n",
				file, strerror(errno));
			return CLI_EXIT_FAILED;
		}
		res.via_write = len;
		goto out_print;
	}
	res.id = l->id;
	for (i = 0; i < l->nr_extents; i++)
		if (l->extents[i].state < 4)
			res.extents[l->extents[i].state]++;
	bs = l->blksize;
	astart = res.offset / bs * bs;
	aend = l->offset + l->length < (end + bs - 1) / bs * bs ?
		l->offset + l->length : (end + bs - 1) / bs * bs;
	chunk = malloc(CLI_LAYOUT_CHUNK);
	if (!chunk) {
		p2pmap_layout_return(h, l, NULL);
		return CLI_EXIT_FAILED;
	}

	/* whole blocks, straight to the blocks; partial ones read first */
	done_to = astart;
	for (pos = astart; pos < aend && !recalled; ) {
		uint64_t n = aend - pos < CLI_LAYOUT_CHUNK ? aend - pos : CLI_LAYOUT_CHUNK;
		uint64_t dfrom = pos < res.offset ? res.offset : pos;
		uint64_t dto = pos + n < end ? pos + n : end;

		if ((dfrom > pos || dto < pos + n) &&
		    p2pmap_layout_io(h, l, 0, pos, chunk, n, &err))
			break;
		memcpy(chunk + (dfrom - pos), data + (dfrom - res.offset), dto - dfrom);
		if (p2pmap_layout_io(h, l, 1, pos, chunk, n, &err))
			break;
		pos += n;
		done_to = pos;
		if (pace)
			nanosleep(&(struct timespec){ pace / 1000, pace % 1000 * 1000000 }, NULL);
		cli_layout_poll(h, l->id, &res, &recalled);
	}

	/* an I/O that failed (-ESTALE: fenced) says nothing of why: ask */
	cli_layout_poll(h, l->id, &res, &recalled);

	/* commit what reached the blocks, the size if it grows */
	if (done_to > astart && !res.revoked) {
		uint64_t written_end = done_to < end ? done_to : end;

		range.offset = astart;
		range.length = done_to - astart;
		if (fstat(fd, &st) || p2pmap_layout_commit(h, l, &range, 1,
				(uint64_t)st.st_size < written_end ?
				(int64_t)written_end : -1, &err)) {
			if (err.sys_errno == ESTALE)
				res.revoked = true;
			done_to = astart;
		}
	} else {
		done_to = astart;
	}
	if (res.revoked)
		done_to = astart;
	res.via_layout = (done_to < end ? done_to : end) - res.offset;
	if (done_to <= res.offset)
		res.via_layout = 0;
	if (p2pmap_layout_return(h, l, &err)) {
		fprintf(inv->err, "p2pmap: %s: %s\n", file, err.msg);
		return CLI_EXIT_FAILED;
	}

	/* the rest through write(2), counted */
	if (res.offset + res.via_layout < end) {
		uint64_t from = res.offset + res.via_layout;

		res.fallback = res.revoked ? "the layout was revoked: rewritten with write(2)" :
			recalled ? "the layout was recalled: the rest went through write(2)" :
			"the layout failed: the rest went through write(2)";
		if (cli_layout_pwrite(fd, data, res.offset, from, end)) {
			fprintf(inv->err, "p2pmap: %s: write(2) failed: %s\n", file,
				strerror(errno));
			return CLI_EXIT_FAILED;
		}
		res.via_write = end - from;
	}
out_print:
	if (!fstat(fd, &st))
		res.size = st.st_size;
	if (cli_layout_print_write(inv, file, &res)) {
		fputs("p2pmap: internal error: invalid JSON output\n", inv->err);
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

int cli_layout_command(const struct cli_invocation *inv)
{
	const char *sub = inv->argv[0];

	if (!strcmp(sub, "show"))
		return cli_layout_show(inv);
	if (!strcmp(sub, "read"))
		return cli_layout_read(inv);
	if (!strcmp(sub, "write"))
		return cli_layout_write(inv);
	return cli_usage_error(inv, "unknown layout command '%s' (show, read or write)", sub);
}
