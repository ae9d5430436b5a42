// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap core: accounting. Every page handed to a device is counted as P2P
 * or as a fallback with its reason; every page taken back with its cause.
 * Totals are read with the P2PMAP_IOC_STATS ioctl and from
 * /sys/kernel/debug/p2pmap/stats; each importer's own counters from
 * /sys/kernel/debug/p2pmap/importers/<device>-<id>/stats.
 */
#define pr_fmt(fmt) "p2pmap: " fmt

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include <p2pmap/names.h>

#include "internal.h"

struct p2pmap_counters p2pmap_total;
atomic64_t p2pmap_nr_mirrors;
/* pages staged ahead of sequential read faults (mirror.c) */
atomic64_t p2pmap_staged_ahead;
static struct dentry *p2pmap_debugfs;
static struct dentry *p2pmap_debugfs_importers;

void p2pmap_stats_fault_begin(struct p2pmap_importer *importer)
{
	atomic64_inc(&importer->counters.faults);
	atomic64_inc(&p2pmap_total.faults);
}

void p2pmap_stats_retry(struct p2pmap_importer *importer)
{
	atomic64_inc(&importer->counters.retries);
	atomic64_inc(&p2pmap_total.retries);
}

void p2pmap_stats_fault(struct p2pmap_importer *importer, unsigned long p2p,
			const unsigned int *reasons, unsigned long refaults)
{
	unsigned int i;

	atomic64_add(p2p, &importer->counters.pages_p2p);
	atomic64_add(p2p, &p2pmap_total.pages_p2p);
	atomic64_add(refaults, &importer->counters.refaults);
	atomic64_add(refaults, &p2pmap_total.refaults);
	for (i = 0; i < P2PMAP_REASON_COUNT; i++) {
		if (!reasons[i])
			continue;
		atomic64_add(reasons[i], &importer->counters.fallback[i]);
		atomic64_add(reasons[i], &p2pmap_total.fallback[i]);
	}
}

void p2pmap_stats_revoke(struct p2pmap_importer *importer,
			 enum p2pmap_revoke_cause cause, unsigned long pages)
{
	atomic64_add(pages, &importer->counters.revoked[cause]);
	atomic64_add(pages, &p2pmap_total.revoked[cause]);
}

void p2pmap_stats_written_back(struct p2pmap_importer *importer,
			       enum p2pmap_revoke_cause cause, u64 bytes,
			       bool lost)
{
	if (lost) {
		atomic64_add(bytes, &importer->counters.lost);
		atomic64_add(bytes, &p2pmap_total.lost);
		return;
	}
	atomic64_add(bytes, &importer->counters.written_back[cause]);
	atomic64_add(bytes, &p2pmap_total.written_back[cause]);
}

void p2pmap_stats_write_refused(struct p2pmap_importer *importer,
				struct file *file, int err)
{
	atomic64_inc(&importer->counters.write_refused);
	atomic64_inc(&p2pmap_total.write_refused);
	dev_info_ratelimited(importer->dev,
			     "%s[%d]: device write mapping of %pD refused (%d): %s\n",
			     current->comm, task_pid_nr(current), file, err,
			     err == -EACCES ?
			     "the mapping's creator neither owns the file nor has CAP_LEASE" :
			     "no layout lease on the file");
}

void p2pmap_stats_layout_recalled(struct p2pmap_importer *importer)
{
	atomic64_inc(&importer->counters.layouts_recalled);
	atomic64_inc(&p2pmap_total.layouts_recalled);
}

void p2pmap_stats_no_route(struct p2pmap_importer *importer,
			   struct p2pmap_provider *provider, const char *why)
{
	dev_info_ratelimited(importer->dev,
			     "%s[%d]: no P2P route to %s: %s; using the page cache\n",
			     current->comm, task_pid_nr(current), provider->name,
			     why);
}

static void p2pmap_counters_show(struct seq_file *m,
				 const struct p2pmap_counters *c)
{
	u64 fallback = 0;
	unsigned int i;

	for (i = 0; i < P2PMAP_REASON_COUNT; i++)
		fallback += atomic64_read(&c->fallback[i]);
	seq_printf(m, "faults %lld\n", atomic64_read(&c->faults));
	seq_printf(m, "retries %lld\n", atomic64_read(&c->retries));
	seq_printf(m, "refaults %lld\n", atomic64_read(&c->refaults));
	seq_printf(m, "pages_p2p %lld\n", atomic64_read(&c->pages_p2p));
	seq_printf(m, "pages_fallback %llu\n", fallback);
	for (i = 1; i < P2PMAP_REASON_COUNT; i++)
		seq_printf(m, "fallback.%s %lld\n", p2pmap_reason_names[i],
			   atomic64_read(&c->fallback[i]));
	for (i = 0; i < P2PMAP_REVOKE_COUNT; i++)
		seq_printf(m, "revoked.%s %lld\n", p2pmap_revoke_cause_names[i],
			   atomic64_read(&c->revoked[i]));
	for (i = 0; i < P2PMAP_REVOKE_COUNT; i++)
		seq_printf(m, "written_back.%s %lld\n", p2pmap_revoke_cause_names[i],
			   atomic64_read(&c->written_back[i]));
	seq_printf(m, "lost %lld\n", atomic64_read(&c->lost));
	seq_printf(m, "write_refused %lld\n", atomic64_read(&c->write_refused));
	seq_printf(m, "layouts_recalled %lld\n",
		   atomic64_read(&c->layouts_recalled));
}

static int p2pmap_total_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "importers %llu\n", p2pmap_nr_importers());
	seq_printf(m, "mirrors %lld\n", atomic64_read(&p2pmap_nr_mirrors));
	p2pmap_counters_show(m, &p2pmap_total);
	seq_printf(m, "staged_ahead %lld\n",
		   atomic64_read(&p2pmap_staged_ahead));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2pmap_total);

static int p2pmap_importer_show(struct seq_file *m, void *unused)
{
	struct p2pmap_importer *importer = m->private;

	seq_printf(m, "device %s\n", dev_name(importer->dev));
	p2pmap_counters_show(m, &importer->counters);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(p2pmap_importer);

void p2pmap_stats_importer_add(struct p2pmap_importer *importer)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-%u", dev_name(importer->dev),
		 importer->id);
	importer->debugfs = debugfs_create_dir(name, p2pmap_debugfs_importers);
	debugfs_create_file("stats", 0444, importer->debugfs, importer,
			    &p2pmap_importer_fops);
}

void p2pmap_stats_importer_del(struct p2pmap_importer *importer)
{
	debugfs_remove(importer->debugfs);
}

long p2pmap_ioc_stats(void __user *uarg)
{
	struct p2pmap_stats *st;
	unsigned int i;
	u32 size;
	long ret = 0;

	BUILD_BUG_ON(P2PMAP_REASON_COUNT > P2PMAP_STATS_MAX_REASONS);
	BUILD_BUG_ON(P2PMAP_REVOKE_COUNT > P2PMAP_STATS_MAX_CAUSES);
	BUILD_BUG_ON(P2PMAP_STATS_SIZE_V1 !=
		     offsetof(struct p2pmap_stats, written_back));

	if (get_user(size, (u32 __user *)uarg))
		return -EFAULT;
	/* the sizes this module knows: the caller gets the members it knows */
	if (size != P2PMAP_STATS_SIZE_V1 && size != P2PMAP_STATS_SIZE_V2)
		return -EINVAL;
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	if (copy_from_user(st, uarg, size)) {
		ret = -EFAULT;
		goto out_free;
	}
	if (st->flags || memchr_inv(st->reserved, 0, sizeof(st->reserved)) ||
	    memchr_inv(st->reserved2, 0, sizeof(st->reserved2))) {
		ret = -EINVAL;
		goto out_free;
	}

	st->importers = p2pmap_nr_importers();
	st->mirrors = atomic64_read(&p2pmap_nr_mirrors);
	st->faults = atomic64_read(&p2pmap_total.faults);
	st->retries = atomic64_read(&p2pmap_total.retries);
	st->refaults = atomic64_read(&p2pmap_total.refaults);
	st->pages_p2p = atomic64_read(&p2pmap_total.pages_p2p);
	st->pages_fallback = 0;
	for (i = 0; i < P2PMAP_REASON_COUNT; i++) {
		st->fallback[i] = atomic64_read(&p2pmap_total.fallback[i]);
		st->pages_fallback += st->fallback[i];
	}
	for (i = 0; i < P2PMAP_REVOKE_COUNT; i++) {
		st->revoked[i] = atomic64_read(&p2pmap_total.revoked[i]);
		st->written_back[i] =
			atomic64_read(&p2pmap_total.written_back[i]);
	}
	st->lost = atomic64_read(&p2pmap_total.lost);
	st->write_refused = atomic64_read(&p2pmap_total.write_refused);
	st->layouts_recalled = atomic64_read(&p2pmap_total.layouts_recalled);
	st->staged_ahead = atomic64_read(&p2pmap_staged_ahead);

	if (copy_to_user(uarg, st, size))
		ret = -EFAULT;
out_free:
	kfree(st);
	return ret;
}

void p2pmap_stats_init(void)
{
	p2pmap_debugfs = debugfs_create_dir("p2pmap", NULL);
	p2pmap_debugfs_importers = debugfs_create_dir("importers",
						      p2pmap_debugfs);
	debugfs_create_file("stats", 0444, p2pmap_debugfs, NULL,
			    &p2pmap_total_fops);
}

void p2pmap_stats_exit(void)
{
	debugfs_remove(p2pmap_debugfs);
}
