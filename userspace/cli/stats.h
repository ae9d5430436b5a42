/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap stats: one sample of the framework's counters, how it is read and
 * how it is printed (split so that tests/host can feed its own samples).
 *
 * Totals come from P2PMAP_IOC_STATS (libp2pmap); per-importer counters from
 * DEBUGFS/p2pmap/importers/NAME/stats and per-CMB counters from
 * DEBUGFS/p2pmap-nvme-cmb/PCI/{stats,info}. Debugfs is not an ABI: its
 * "key value" and "key: value" lines are read generically, every numeric
 * line a counter, so that a counter the kernel adds shows up here unchanged.
 */
#ifndef _P2PMAP_CLI_STATS_H
#define _P2PMAP_CLI_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* Where debugfs is mounted; $P2PMAP_DEBUGFS overrides it (for tests). */
#define CLI_DEBUGFS_DEFAULT	"/sys/kernel/debug"

#define CLI_STATS_MAX_COUNTERS	96
#define CLI_STATS_MAX_ATTRS	8
#define CLI_STATS_MAX_SETS	64
#define CLI_STATS_MAX_NOTES	4

/**
 * struct cli_counter - one value
 * @key: its name; "group.name" puts it in the group (fallback.hole).
 * @value: the value.
 * @gauge: a level (importers now, bytes in use), not a running count: it
 *	has no delta.
 * @bytes: the value is a number of bytes (text output adds units).
 */
struct cli_counter {
	char key[48];
	uint64_t value;
	bool gauge;
	bool bytes;
};

/* A non-numeric line of a debugfs file ("device 0000:04:00.0"). */
struct cli_attr {
	char key[32];
	char value[96];
};

/**
 * struct cli_counter_set - the counters of one thing
 * @name: the importer's debugfs name ("0000:04:00.0-0"), the CMB's PCI
 *	address, or "totals".
 * @nr_attrs: entries in @attrs.
 * @attrs: its non-numeric properties, in file order.
 * @nr: entries in @c.
 * @c: its counters, in file order.
 */
struct cli_counter_set {
	char name[64];
	unsigned int nr_attrs;
	struct cli_attr attrs[CLI_STATS_MAX_ATTRS];
	unsigned int nr;
	struct cli_counter c[CLI_STATS_MAX_COUNTERS];
};

/**
 * struct cli_stats_sample - everything 'p2pmap stats' shows at one moment
 * @time_ms: CLOCK_MONOTONIC when it was read, in milliseconds.
 * @totals: P2PMAP_IOC_STATS.
 * @importers_known: @importers could be read (debugfs is there).
 * @nr_importers: entries in @importers.
 * @importers: per importer, sorted by name.
 * @cmbs_known: @cmbs could be read (debugfs is there).
 * @nr_cmbs: entries in @cmbs.
 * @cmbs: per CMB that nvme-cmb offers, sorted by PCI address.
 * @nr_notes: entries in @notes.
 * @notes: why a part is missing ("debugfs is not mounted ..."), for people.
 */
struct cli_stats_sample {
	uint64_t time_ms;
	struct cli_counter_set totals;
	bool importers_known;
	unsigned int nr_importers;
	struct cli_counter_set importers[CLI_STATS_MAX_SETS];
	bool cmbs_known;
	unsigned int nr_cmbs;
	struct cli_counter_set cmbs[CLI_STATS_MAX_SETS];
	unsigned int nr_notes;
	char notes[CLI_STATS_MAX_NOTES][256];
};

/**
 * struct cli_stats_view - how a sample is shown
 * @importer: only the importers whose name or device is this, or NULL.
 * @sample: the sample's number, from 1; 0 when not watching.
 * @interval_ms: the watch interval; 0 when not watching.
 */
struct cli_stats_view {
	const char *importer;
	unsigned int sample;
	uint64_t interval_ms;
};

/* Fill @set ("totals") from the ioctl's answer. */
void cli_stats_from_ioctl(const struct p2pmap_stats *st,
			  struct cli_counter_set *set);

/*
 * cli_stats_parse() - read a debugfs counters file into @set
 * @text: the file's contents.
 * @gauges: NULL-terminated keys that are gauges, or NULL.
 * @bytes: NULL-terminated keys that are byte counts, or NULL.
 *
 * Lines "key value" or "key: value"; a decimal value is a counter, anything
 * else an attribute. Lines beyond the set's room are dropped.
 * Return: the number of lines read.
 */
unsigned int cli_stats_parse(const char *text, const char * const *gauges,
			     const char * const *bytes,
			     struct cli_counter_set *set);

/* The attribute @key of @set, or NULL. */
const char *cli_stats_attr(const struct cli_counter_set *set, const char *key);
/* The counter @key of @set, or NULL. */
const struct cli_counter *cli_stats_counter(const struct cli_counter_set *set,
					    const char *key);

/*
 * cli_stats_collect() - read one sample
 * @handle: an open handle on /dev/p2pmap.
 * @debugfs: where debugfs is mounted.
 *
 * Return: 0, or a negative errno with @err filled when the totals cannot
 * be read. Missing debugfs parts are notes in @s, not failures.
 */
int cli_stats_collect(struct p2pmap *handle, const char *debugfs,
		      struct cli_stats_sample *s, struct p2pmap_error *err);

/*
 * cli_stats_print() - print @cur, with deltas from @prev when it is not NULL
 *
 * Return: 0, or -EINVAL for a JSON writer bug.
 */
int cli_stats_print(FILE *out, enum cli_output output,
		    const struct cli_stats_sample *cur,
		    const struct cli_stats_sample *prev,
		    const struct cli_stats_view *view);

/* Does importer @set match the --importer @name (its name or its device)? */
bool cli_stats_importer_matches(const struct cli_counter_set *set,
				const char *name);

#endif /* _P2PMAP_CLI_STATS_H */
