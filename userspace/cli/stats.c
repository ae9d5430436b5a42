// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap stats [--watch [SECONDS]] [--count N] [--importer NAME]: the
 * framework's counters (see stats.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "stats.h"

const struct cli_option cli_stats_options[] = {
	{ "watch", CLI_ARG_OPTIONAL_NUMBER, "SECONDS",
	  "print a sample every SECONDS (default 1), with the change since the last one" },
	{ "count", CLI_ARG_REQUIRED, "N",
	  "stop after N samples (default 1, or unbounded with --watch)" },
	{ "importer", CLI_ARG_REQUIRED, "NAME",
	  "only the importer NAME (as in debugfs, 0000:04:00.0-0) or of device NAME" },
	{ NULL },
};

static const char * const cli_cmb_gauges[] = { "size", "in_use", NULL };
static const char * const cli_cmb_bytes[] = {
	"size", "in_use", "staged", "written_back", "evicted", "lost", NULL
};

static bool cli_in_list(const char * const *list, const char *key)
{
	for (; list && *list; list++)
		if (!strcmp(*list, key))
			return true;
	return false;
}

static void cli_set_add(struct cli_counter_set *set, const char *key,
			uint64_t value, bool gauge, bool bytes)
{
	struct cli_counter *c;

	if (set->nr == CLI_STATS_MAX_COUNTERS)
		return;
	c = &set->c[set->nr++];
	cli_copy(c->key, sizeof(c->key), key);
	c->value = value;
	c->gauge = gauge;
	c->bytes = bytes;
}

void cli_stats_from_ioctl(const struct p2pmap_stats *st,
			  struct cli_counter_set *set)
{
	char key[48];
	const char *name;
	unsigned int i;

	memset(set, 0, sizeof(*set));
	snprintf(set->name, sizeof(set->name), "totals");
	cli_set_add(set, "importers", st->importers, true, false);
	cli_set_add(set, "mirrors", st->mirrors, true, false);
	cli_set_add(set, "faults", st->faults, false, false);
	cli_set_add(set, "retries", st->retries, false, false);
	cli_set_add(set, "refaults", st->refaults, false, false);
	cli_set_add(set, "pages_p2p", st->pages_p2p, false, false);
	cli_set_add(set, "pages_fallback", st->pages_fallback, false, false);
	/* reason 0 (none) is P2P, never a fallback: the kernel skips it too */
	for (i = 1; i < P2PMAP_STATS_MAX_REASONS; i++) {
		name = p2pmap_reason_name(i);
		if (!name && !st->fallback[i])
			continue;
		if (name)
			snprintf(key, sizeof(key), "fallback.%s", name);
		else
			snprintf(key, sizeof(key), "fallback.reason_%u", i);
		cli_set_add(set, key, st->fallback[i], false, false);
	}
	for (i = 0; i < P2PMAP_STATS_MAX_CAUSES; i++) {
		name = p2pmap_revoke_cause_name(i);
		if (!name && !st->revoked[i])
			continue;
		if (name)
			snprintf(key, sizeof(key), "revoked.%s", name);
		else
			snprintf(key, sizeof(key), "revoked.cause_%u", i);
		cli_set_add(set, key, st->revoked[i], false, false);
	}
	/* the write side (P2PMAP_STATS_SIZE_V2): bytes by cause, then totals */
	for (i = 0; i < P2PMAP_STATS_MAX_CAUSES; i++) {
		name = p2pmap_revoke_cause_name(i);
		if (!name && !st->written_back[i])
			continue;
		if (name)
			snprintf(key, sizeof(key), "written_back.%s", name);
		else
			snprintf(key, sizeof(key), "written_back.cause_%u", i);
		cli_set_add(set, key, st->written_back[i], false, true);
	}
	cli_set_add(set, "lost", st->lost, false, true);
	cli_set_add(set, "write_refused", st->write_refused, false, false);
	cli_set_add(set, "layouts_recalled", st->layouts_recalled, false, false);
	cli_set_add(set, "staged_ahead", st->staged_ahead, false, false);
}

unsigned int cli_stats_parse(const char *text, const char * const *gauges,
			     const char * const *bytes,
			     struct cli_counter_set *set)
{
	const char *line = text, *nl, *sep, *value;
	unsigned int lines = 0;
	char key[48], val[96];
	size_t klen, vlen;
	char *end;
	unsigned long long v;

	for (; *line; line = nl + (*nl == '\n')) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		sep = line;
		while (sep < nl && *sep != ' ' && *sep != ':' && *sep != '\t')
			sep++;
		klen = sep - line;
		if (!klen || sep == nl || klen >= sizeof(key))
			continue;
		value = sep + (*sep == ':');
		while (value < nl && (*value == ' ' || *value == '\t'))
			value++;
		vlen = nl - value;
		while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\r'))
			vlen--;
		if (!vlen || vlen >= sizeof(val))
			continue;
		memcpy(key, line, klen);
		key[klen] = '\0';
		memcpy(val, value, vlen);
		val[vlen] = '\0';
		lines++;

		errno = 0;
		v = strtoull(val, &end, 10);
		if (val[0] >= '0' && val[0] <= '9' && !*end && !errno) {
			cli_set_add(set, key, v, cli_in_list(gauges, key),
				    cli_in_list(bytes, key));
		} else if (set->nr_attrs < CLI_STATS_MAX_ATTRS) {
			struct cli_attr *a = &set->attrs[set->nr_attrs++];

			cli_copy(a->key, sizeof(a->key), key);
			cli_copy(a->value, sizeof(a->value), val);
		}
	}
	return lines;
}

const char *cli_stats_attr(const struct cli_counter_set *set, const char *key)
{
	unsigned int i;

	for (i = 0; i < set->nr_attrs; i++)
		if (!strcmp(set->attrs[i].key, key))
			return set->attrs[i].value;
	return NULL;
}

const struct cli_counter *cli_stats_counter(const struct cli_counter_set *set,
					    const char *key)
{
	unsigned int i;

	for (i = 0; i < set->nr; i++)
		if (!strcmp(set->c[i].key, key))
			return &set->c[i];
	return NULL;
}

bool cli_stats_importer_matches(const struct cli_counter_set *set,
				const char *name)
{
	const char *device = cli_stats_attr(set, "device");

	return !strcmp(set->name, name) || (device && !strcmp(device, name));
}

static void cli_note(struct cli_stats_sample *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cli_note(struct cli_stats_sample *s, const char *fmt, ...)
{
	va_list ap;

	if (s->nr_notes == CLI_STATS_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(s->notes[s->nr_notes++], sizeof(s->notes[0]), fmt, ap);
	va_end(ap);
}

/* Read a small file whole; NULL with errno set on failure. */
static char *cli_read_text(const char *path)
{
	_cleanup_fd_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf, *grown;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	for (;;) {
		if (len + 1 >= cap) {
			grown = realloc(buf, cap * 2);
			if (!grown) {
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = grown;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		if (!n)
			break;
		len += n;
	}
	buf[len] = '\0';
	return buf;
}

static int cli_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cli_counter_set *)a)->name,
		      ((const struct cli_counter_set *)b)->name);
}

/*
 * Read DIR/NAME/FILE for each NAME in DIR into @sets (and DIR/NAME/INFO,
 * when @info is not NULL, for its attributes). Return: 0, or -errno when
 * DIR cannot be listed.
 */
static int cli_read_sets(const char *dir, const char *file, const char *info,
			 const char * const *gauges, const char * const *bytes,
			 struct cli_counter_set *sets, unsigned int *nr)
{
	struct cli_counter_set scratch;
	struct dirent *d;
	char path[4096];
	DIR *dh;
	char *text;
	unsigned int i;

	*nr = 0;
	dh = opendir(dir);
	if (!dh)
		return -errno;
	while ((d = readdir(dh)) && *nr < CLI_STATS_MAX_SETS) {
		struct cli_counter_set *set = &sets[*nr];

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, d->d_name, file);
		text = cli_read_text(path);
		if (!text)
			continue;	/* not a directory of counters, or gone */
		memset(set, 0, sizeof(*set));
		cli_copy(set->name, sizeof(set->name), d->d_name);
		cli_stats_parse(text, gauges, bytes, set);
		free(text);
		if (info) {
			snprintf(path, sizeof(path), "%s/%s/%s", dir, d->d_name, info);
			text = cli_read_text(path);
			if (text) {
				memset(&scratch, 0, sizeof(scratch));
				cli_stats_parse(text, NULL, NULL, &scratch);
				free(text);
				for (i = 0; i < scratch.nr_attrs &&
				     set->nr_attrs < CLI_STATS_MAX_ATTRS; i++)
					set->attrs[set->nr_attrs++] = scratch.attrs[i];
			}
		}
		(*nr)++;
	}
	closedir(dh);
	qsort(sets, *nr, sizeof(*sets), cli_name_cmp);
	return 0;
}

/* Is a debugfs mounted on @path? */
static bool cli_debugfs_mounted(const char *path)
{
	char *line = NULL, dir[4096], type[64];
	bool found = false;
	size_t len = 0;
	FILE *f = fopen("/proc/self/mounts", "re");

	if (!f)
		return false;
	while (!found && getline(&line, &len, f) > 0)
		found = sscanf(line, "%*s %4095s %63s", dir, type) == 2 &&
			!strcmp(dir, path) && !strcmp(type, "debugfs");
	free(line);
	fclose(f);
	return found;
}

/* Why @dir under @debugfs cannot be read, as a note. */
static void cli_note_debugfs(struct cli_stats_sample *s, const char *debugfs,
			     const char *dir, const char *what, int e)
{
	if (e == EACCES || e == EPERM)
		cli_note(s, "%s unavailable: permission denied reading %s (run as root)",
			 what, dir);
	else if (e == ENOENT && !strcmp(debugfs, CLI_DEBUGFS_DEFAULT) &&
		 !cli_debugfs_mounted(debugfs))
		cli_note(s, "%s unavailable: debugfs is not mounted on %s (mount -t debugfs none %s)",
			 what, debugfs, debugfs);
	else
		cli_note(s, "%s unavailable: cannot read %s: %s", what, dir,
			 strerror(e));
}

int cli_stats_collect(struct p2pmap *handle, const char *debugfs,
		      struct cli_stats_sample *s, struct p2pmap_error *err)
{
	struct p2pmap_stats st;
	struct timespec ts;
	char dir[4096];
	struct stat sb;
	int ret;

	memset(s, 0, sizeof(*s));
	ret = p2pmap_get_stats(handle, &st, err);
	if (ret)
		return ret;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->time_ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	cli_stats_from_ioctl(&st, &s->totals);

	snprintf(dir, sizeof(dir), "%s/p2pmap/importers", debugfs);
	ret = cli_read_sets(dir, "stats", NULL, NULL, NULL, s->importers,
			    &s->nr_importers);
	if (ret)
		cli_note_debugfs(s, debugfs, dir, "per-importer counters", -ret);
	else
		s->importers_known = true;

	snprintf(dir, sizeof(dir), "%s/p2pmap-nvme-cmb", debugfs);
	ret = cli_read_sets(dir, "stats", "info", cli_cmb_gauges, cli_cmb_bytes,
			    s->cmbs, &s->nr_cmbs);
	if (!ret) {
		s->cmbs_known = true;
	} else if (ret == -ENOENT && s->importers_known) {
		/* debugfs works: the provider module is simply not there */
		s->cmbs_known = true;
		if (stat("/sys/module/p2pmap_nvme_cmb", &sb))
			cli_note(s, "no CMB counters: module p2pmap_nvme_cmb not loaded");
	} else {
		cli_note_debugfs(s, debugfs, dir, "per-CMB counters", -ret);
	}
	return 0;
}

/* ---- output ---------------------------------------------------------------- */

/* The delta of @c since @prev_set (0 when it is new there, or a gauge). */
static bool cli_delta(const struct cli_counter *c,
		      const struct cli_counter_set *prev_set, int64_t *delta)
{
	const struct cli_counter *p;

	if (!prev_set || c->gauge)
		return false;
	p = cli_stats_counter(prev_set, c->key);
	if (!p)
		return false;
	*delta = (int64_t)(c->value - p->value);
	return true;
}

static const struct cli_counter_set *cli_find_set(const struct cli_counter_set *sets,
						  unsigned int nr,
						  const char *name)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (!strcmp(sets[i].name, name))
			return &sets[i];
	return NULL;
}

/* Counters as JSON members, "a.b" keys nested in objects "a". */
static void cli_json_counters(struct json_writer *w,
			      const struct cli_counter_set *set,
			      const struct cli_counter_set *prev,
			      bool deltas)
{
	char group[48] = "";
	const char *dot, *key;
	unsigned int i;
	int64_t d;

	for (i = 0; i < set->nr; i++) {
		const struct cli_counter *c = &set->c[i];

		if (deltas && !cli_delta(c, prev, &d))
			continue;
		dot = strchr(c->key, '.');
		if (group[0] && (!dot || strncmp(c->key, group, dot - c->key) ||
				 group[dot - c->key])) {
			json_object_end(w);
			group[0] = '\0';
		}
		if (dot && !group[0]) {
			snprintf(group, sizeof(group), "%.*s", (int)(dot - c->key), c->key);
			json_object_begin(w, group);
		}
		key = dot ? dot + 1 : c->key;
		if (deltas)
			json_i64(w, key, d);
		else
			json_u64(w, key, c->value);
	}
	if (group[0])
		json_object_end(w);
}

static void cli_json_set(struct json_writer *w, const char *key,
			 const struct cli_counter_set *set,
			 const struct cli_counter_set *prev, bool with_name)
{
	unsigned int i;

	json_object_begin(w, key);
	if (with_name)
		json_string(w, "name", set->name);
	for (i = 0; i < set->nr_attrs; i++)
		json_string(w, set->attrs[i].key, set->attrs[i].value);
	cli_json_counters(w, set, NULL, false);
	if (prev) {
		json_object_begin(w, "delta");
		cli_json_counters(w, set, prev, true);
		json_object_end(w);
	}
	json_object_end(w);
}

static int cli_stats_json(FILE *out, const struct cli_stats_sample *cur,
			  const struct cli_stats_sample *prev,
			  const struct cli_stats_view *view)
{
	struct json_writer w;
	unsigned int i;

	json_init(&w, out);
	json_object_begin(&w, NULL);
	if (view->sample) {
		json_u64(&w, "sample", view->sample);
		json_u64(&w, "interval_ms", view->interval_ms);
		json_u64(&w, "elapsed_ms", prev ? cur->time_ms - prev->time_ms : 0);
	}
	cli_json_set(&w, "totals", &cur->totals, prev ? &prev->totals : NULL,
		     false);

	if (cur->importers_known) {
		json_array_begin(&w, "importers");
		for (i = 0; i < cur->nr_importers; i++) {
			const struct cli_counter_set *set = &cur->importers[i];

			if (view->importer && !cli_stats_importer_matches(set, view->importer))
				continue;
			cli_json_set(&w, NULL, set, prev ?
				     cli_find_set(prev->importers, prev->nr_importers,
						  set->name) : NULL, true);
		}
		json_array_end(&w);
	} else {
		json_null(&w, "importers");
	}

	if (cur->cmbs_known) {
		json_array_begin(&w, "cmbs");
		for (i = 0; i < cur->nr_cmbs; i++) {
			const struct cli_counter_set *set = &cur->cmbs[i];

			json_object_begin(&w, NULL);
			json_string(&w, "pci", set->name);
			json_string(&w, "controller", cli_stats_attr(set, "controller"));
			json_string(&w, "backend", cli_stats_attr(set, "backend"));
			json_string(&w, "state", cli_stats_attr(set, "state"));
			cli_json_counters(&w, set, NULL, false);
			if (prev) {
				json_object_begin(&w, "delta");
				cli_json_counters(&w, set, cli_find_set(prev->cmbs,
									prev->nr_cmbs,
									set->name), true);
				json_object_end(&w);
			}
			json_object_end(&w);
		}
		json_array_end(&w);
	} else {
		json_null(&w, "cmbs");
	}

	json_array_begin(&w, "notes");
	for (i = 0; i < cur->nr_notes; i++)
		json_string(&w, NULL, cur->notes[i]);
	json_array_end(&w);
	json_object_end(&w);
	return json_finish(&w);
}

/* One text line: "  key   value (+delta)". */
static void cli_text_counter(FILE *out, const char *indent,
			     const struct cli_counter *c, const char *key,
			     const struct cli_counter_set *prev)
{
	char human[32];
	int64_t d;

	fprintf(out, "%s%-*s %" PRIu64, indent, 18 - (int)strlen(indent) + 2,
		key, c->value);
	if (c->bytes && c->value >= 1024)
		fprintf(out, " (%s)", cli_format_bytes(c->value, human, sizeof(human)));
	if (cli_delta(c, prev, &d))
		fprintf(out, "  %+" PRId64, d);
	fputc('\n', out);
}

/*
 * A set's counters as text. Groups ("fallback.*") are shown under their
 * name, with only the members that are not zero (or changed).
 */
static void cli_text_set(FILE *out, const struct cli_counter_set *set,
			 const struct cli_counter_set *prev)
{
	const char *dot, *shown_group = NULL;
	unsigned int i, j, glen;
	bool any;
	int64_t d;

	for (i = 0; i < set->nr; i++) {
		const struct cli_counter *c = &set->c[i];

		dot = strchr(c->key, '.');
		if (!dot) {
			cli_text_counter(out, "  ", c, c->key, prev);
			continue;
		}
		glen = dot - c->key;
		if (shown_group && !strncmp(shown_group, c->key, glen + 1))
			continue;
		shown_group = c->key;
		any = false;
		for (j = i; j < set->nr && !strncmp(set->c[j].key, c->key, glen + 1); j++) {
			if (!set->c[j].value &&
			    !(cli_delta(&set->c[j], prev, &d) && d))
				continue;
			if (!any)
				fprintf(out, "  %.*s:\n", (int)glen, c->key);
			any = true;
			cli_text_counter(out, "    ", &set->c[j], set->c[j].key + glen + 1,
					 prev);
		}
		if (!any)
			fprintf(out, "  %-18.*s none\n", (int)glen, c->key);
	}
}

static void cli_stats_text(FILE *out, const struct cli_stats_sample *cur,
			   const struct cli_stats_sample *prev,
			   const struct cli_stats_view *view)
{
	const char *ctrl, *backend, *state;
	unsigned int i, shown = 0;

	if (view->sample) {
		if (prev)
			fprintf(out, "sample %u, +%.1f s (changes since the last sample on the right)\n",
				view->sample,
				(double)(cur->time_ms - prev->time_ms) / 1000);
		else
			fprintf(out, "sample %u\n", view->sample);
	}
	fputs("totals\n", out);
	cli_text_set(out, &cur->totals, prev ? &prev->totals : NULL);

	for (i = 0; cur->importers_known && i < cur->nr_importers; i++) {
		const struct cli_counter_set *set = &cur->importers[i];
		const char *device = cli_stats_attr(set, "device");

		if (view->importer && !cli_stats_importer_matches(set, view->importer))
			continue;
		fprintf(out, "importer %s", set->name);
		if (device)
			fprintf(out, " (device %s)", device);
		fputc('\n', out);
		cli_text_set(out, set, prev ? cli_find_set(prev->importers,
							   prev->nr_importers,
							   set->name) : NULL);
		shown++;
	}
	if (cur->importers_known && !shown)
		fputs(view->importer ? "importer: none matches\n" :
		      "importers: none registered\n", out);

	for (i = 0; cur->cmbs_known && i < cur->nr_cmbs; i++) {
		const struct cli_counter_set *set = &cur->cmbs[i];

		ctrl = cli_stats_attr(set, "controller");
		backend = cli_stats_attr(set, "backend");
		state = cli_stats_attr(set, "state");
		fprintf(out, "cmb %s (%s", ctrl ? ctrl : "?", set->name);
		if (backend)
			fprintf(out, ", %s backend", backend);
		if (state)
			fprintf(out, ", %s", state);
		fputs(")\n", out);
		cli_text_set(out, set, prev ? cli_find_set(prev->cmbs, prev->nr_cmbs,
							   set->name) : NULL);
	}
	if (cur->cmbs_known && !cur->nr_cmbs)
		fputs("cmbs: none offered by nvme-cmb\n", out);
	for (i = 0; i < cur->nr_notes; i++)
		fprintf(out, "note: %s\n", cur->notes[i]);
}

int cli_stats_print(FILE *out, enum cli_output output,
		    const struct cli_stats_sample *cur,
		    const struct cli_stats_sample *prev,
		    const struct cli_stats_view *view)
{
	if (output == CLI_OUTPUT_JSON)
		return cli_stats_json(out, cur, prev, view);
	cli_stats_text(out, cur, prev, view);
	return 0;
}

/* ---- the command ------------------------------------------------------------ */

static void cli_sleep_ms(uint64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void cli_importer_names(FILE *f, const struct cli_stats_sample *s)
{
	unsigned int i;

	if (!s->nr_importers) {
		fputs("none is registered", f);
		return;
	}
	fputs("registered: ", f);
	for (i = 0; i < s->nr_importers; i++)
		fprintf(f, "%s%s", i ? ", " : "", s->importers[i].name);
}

int cli_stats_command(const struct cli_invocation *inv)
{
	_cleanup_free_ struct cli_stats_sample *samples = NULL;
	_cleanup_p2pmap_ struct p2pmap *handle = NULL;
	struct cli_stats_sample *cur, *prev = NULL;
	struct cli_stats_view view = { 0 };
	struct p2pmap_error err;
	const char *debugfs = getenv("P2PMAP_DEBUGFS");
	const char *v;
	uint64_t count = 1, n;
	unsigned int i;
	bool watch = cli_option_given(inv, "watch");
	int ret;

	if (!debugfs || !debugfs[0])
		debugfs = CLI_DEBUGFS_DEFAULT;
	if (watch) {
		count = 0;	/* until interrupted */
		view.interval_ms = 1000;
		v = cli_option_value(inv, "watch");
		if (v && cli_parse_seconds(inv, "--watch interval", v, &view.interval_ms))
			return CLI_EXIT_USAGE;
	}
	v = cli_option_value(inv, "count");
	if (v && cli_parse_count(inv, "--count", v, 1, UINT32_MAX, &count))
		return CLI_EXIT_USAGE;
	if (v && !watch && count > 1)
		return cli_usage_error(inv, "--count %s needs --watch: without it there is one sample",
				       v);
	view.importer = cli_option_value(inv, "importer");

	if (p2pmap_open(&handle, &err)) {
		fprintf(inv->err, "p2pmap: %s\n", err.msg);
		return cli_exit_for_error(&err);
	}
	samples = calloc(2, sizeof(*samples));
	if (!samples) {
		fputs("p2pmap: out of memory\n", inv->err);
		return CLI_EXIT_FAILED;
	}

	for (n = 1, i = 0; ; n++, i ^= 1) {
		cur = &samples[i];
		ret = cli_stats_collect(handle, debugfs, cur, &err);
		if (ret) {
			fprintf(inv->err, "p2pmap: %s\n", err.msg);
			return cli_exit_for_error(&err);
		}
		if (view.importer) {
			unsigned int k, found = 0;

			if (!cur->importers_known) {
				fprintf(inv->err, "p2pmap: cannot show importer %s: %s\n",
					view.importer, cur->notes[0]);
				return CLI_EXIT_FAILED;
			}
			for (k = 0; k < cur->nr_importers; k++)
				found += cli_stats_importer_matches(&cur->importers[k],
								    view.importer);
			if (!found && n == 1) {
				fprintf(inv->err, "p2pmap: no importer %s (", view.importer);
				cli_importer_names(inv->err, cur);
				fputs(")\n", inv->err);
				return CLI_EXIT_FAILED;
			}
		}
		view.sample = watch ? n : 0;
		if (cli_stats_print(inv->out, inv->output, cur, prev, &view)) {
			fputs("p2pmap: internal error: invalid JSON output\n", inv->err);
			return CLI_EXIT_FAILED;
		}
		fflush(inv->out);
		if (count && n >= count)
			break;
		prev = cur;
		cli_sleep_ms(view.interval_ms);
		if (watch && inv->output == CLI_OUTPUT_TEXT)
			fputc('\n', inv->out);
	}
	return CLI_EXIT_OK;
}
