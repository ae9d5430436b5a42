// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap nvme-cmb: what a CMB is doing, in debugfs.
 *
 *   /sys/kernel/debug/p2pmap-nvme-cmb/controllers     every NVMe function seen
 *   /sys/kernel/debug/p2pmap-nvme-cmb/<pci>/info       geometry and state
 *   /sys/kernel/debug/p2pmap-nvme-cmb/<pci>/stats      counters
 *   /sys/kernel/debug/p2pmap-nvme-cmb/<pci>/drop_cache write: evict what no
 *                                                      one uses (nvme_cmb_drop())
 *   /sys/kernel/debug/p2pmap-nvme-cmb/bench            the bare bio loop (bench.c)
 */
#define pr_fmt(fmt) "p2pmap-nvme-cmb: " fmt

#include <linux/debugfs.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/kstrtox.h>

#include "nvme-cmb.h"

static struct dentry *nvme_cmb_debugfs_root;

/* nvme_cmb_notes_lock protects nvme_cmb_notes. */
static DEFINE_MUTEX(nvme_cmb_notes_lock);
static LIST_HEAD(nvme_cmb_notes);

struct nvme_cmb_note {
	struct list_head node;	/* in nvme_cmb_notes */
	char pci[32];
	char what[160];
};

/**
 * nvme_cmb_debugfs_note() - record what became of an NVMe function
 * @pdev: the function.
 * @what: one line: "nvme0: CMB 64 MiB, compat backend" or why not.
 *
 * Context: process context.
 */
void nvme_cmb_debugfs_note(struct pci_dev *pdev, const char *what)
{
	struct nvme_cmb_note *note;

	mutex_lock(&nvme_cmb_notes_lock);
	list_for_each_entry(note, &nvme_cmb_notes, node)
		if (!strcmp(note->pci, pci_name(pdev)))
			goto out_set;
	note = kzalloc(sizeof(*note), GFP_KERNEL);
	if (!note)
		goto out_unlock;
	strscpy(note->pci, pci_name(pdev), sizeof(note->pci));
	list_add_tail(&note->node, &nvme_cmb_notes);
out_set:
	strscpy(note->what, what, sizeof(note->what));
out_unlock:
	mutex_unlock(&nvme_cmb_notes_lock);
}

static int nvme_cmb_controllers_show(struct seq_file *m, void *v)
{
	struct nvme_cmb_note *note;

	mutex_lock(&nvme_cmb_notes_lock);
	list_for_each_entry(note, &nvme_cmb_notes, node)
		seq_printf(m, "%s %s\n", note->pci, note->what);
	mutex_unlock(&nvme_cmb_notes_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvme_cmb_controllers);

static const char *const nvme_cmb_state_names[] = {
	[NVME_CMB_LIVE] = "live",
	[NVME_CMB_RESETTING] = "resetting",
	[NVME_CMB_GOING] = "going",
};

static int nvme_cmb_info_show(struct seq_file *m, void *v)
{
	struct nvme_cmb *cmb = m->private;

	mutex_lock(&cmb->lock);
	seq_printf(m, "controller: %s\n", cmb->name);
	seq_printf(m, "pci: %s\n", pci_name(cmb->pdev));
	seq_printf(m, "backend: %s\n", NVME_CMB_BACKEND_NAME);
	seq_printf(m, "state: %s\n", nvme_cmb_state_names[cmb->state]);
	seq_printf(m, "bar: %d\n", cmb->bar);
	seq_printf(m, "bus_addr: 0x%llx\n", cmb->bus);
	seq_printf(m, "size: %llu\n", cmb->size);
	seq_printf(m, "linear_map: %s\n", cmb->linear_map);
	seq_printf(m, "in_use: %llu\n", (u64)cmb->used_pages << PAGE_SHIFT);
	seq_printf(m, "generation: %u\n", cmb->gen);
	seq_printf(m, "inflight: %d\n", atomic_read(&cmb->inflight));
	seq_printf(m, "evict_pending: %u\n", cmb->evict_pending);
	seq_printf(m, "pressure: %d\n", cmb->pressure);
	seq_printf(m, "free_target: %llu\n", (u64)cmb->free_target << PAGE_SHIFT);
	seq_printf(m, "cmbmsc: 0x%llx (expected 0x%llx)\n",
		   nvme_cmb_backend_cmbmsc(cmb), cmb->cmbmsc);
	mutex_unlock(&cmb->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvme_cmb_info);

static int nvme_cmb_stats_show(struct seq_file *m, void *v)
{
	struct nvme_cmb *cmb = m->private;
	struct nvme_cmb_stats *s = &cmb->stats;

	seq_printf(m, "size: %llu\n", cmb->size);
	seq_printf(m, "in_use: %llu\n",
		   (u64)READ_ONCE(cmb->used_pages) << PAGE_SHIFT);
	seq_printf(m, "staged: %lld\n", atomic64_read(&s->staged));
	seq_printf(m, "written_back: %lld\n", atomic64_read(&s->written_back));
	seq_printf(m, "evicted: %lld\n", atomic64_read(&s->evicted));
	seq_printf(m, "lost: %lld\n", atomic64_read(&s->lost));
	seq_printf(m, "hits: %lld\n", atomic64_read(&s->hits));
	seq_printf(m, "misses: %lld\n", atomic64_read(&s->misses));
	seq_printf(m, "errors: %lld\n", atomic64_read(&s->errors));
	seq_printf(m, "revokes: %lld\n", atomic64_read(&s->revokes));
	seq_printf(m, "resets: %lld\n", atomic64_read(&s->resets));
	seq_printf(m, "invalidated: %lld\n", atomic64_read(&s->invalidated));
	seq_printf(m, "notified: %lld\n", atomic64_read(&s->notified));
	seq_printf(m, "evicted_ahead: %lld\n", atomic64_read(&s->evicted_ahead));
	seq_printf(m, "evict_ahead_ns: %lld\n",
		   atomic64_read(&s->evict_ahead_ns));
	seq_printf(m, "stall_evictions: %lld\n",
		   atomic64_read(&s->stall_evictions));
	seq_printf(m, "space_timeouts: %lld\n",
		   atomic64_read(&s->space_timeouts));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(nvme_cmb_stats);

static ssize_t nvme_cmb_drop_write(struct file *file, const char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	struct nvme_cmb *cmb = file->private_data;
	unsigned int v;
	u64 dropped;
	int ret;

	/* "1", as for drop_caches: anything else is refused */
	ret = kstrtouint_from_user(ubuf, len, 0, &v);
	if (ret)
		return ret;
	if (v != 1)
		return -EINVAL;
	dropped = nvme_cmb_drop(cmb);
	pr_debug("%s: drop_cache: %llu bytes out\n", cmb->name, dropped);
	return len;
}

static const struct file_operations nvme_cmb_drop_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= nvme_cmb_drop_write,
	.llseek	= noop_llseek,
};

/**
 * nvme_cmb_debugfs_add() - show a CMB
 * @cmb: the CMB.
 *
 * Context: process context.
 */
void nvme_cmb_debugfs_add(struct nvme_cmb *cmb)
{
	cmb->dir = debugfs_create_dir(pci_name(cmb->pdev), nvme_cmb_debugfs_root);
	debugfs_create_file("info", 0444, cmb->dir, cmb, &nvme_cmb_info_fops);
	debugfs_create_file("stats", 0444, cmb->dir, cmb, &nvme_cmb_stats_fops);
	debugfs_create_file("drop_cache", 0200, cmb->dir, cmb,
			    &nvme_cmb_drop_fops);
}

/**
 * nvme_cmb_debugfs_remove() - stop showing a CMB
 * @cmb: the CMB.
 *
 * Context: process context; returns when no reader is inside the files.
 */
void nvme_cmb_debugfs_remove(struct nvme_cmb *cmb)
{
	debugfs_remove(cmb->dir);
	cmb->dir = NULL;
}

/**
 * nvme_cmb_debugfs_init() - create the module's debugfs directory
 *
 * Context: module init.
 */
void nvme_cmb_debugfs_init(void)
{
	nvme_cmb_debugfs_root = debugfs_create_dir("p2pmap-nvme-cmb", NULL);
	debugfs_create_file("controllers", 0444, nvme_cmb_debugfs_root, NULL,
			    &nvme_cmb_controllers_fops);
	nvme_cmb_bench_init(nvme_cmb_debugfs_root);
}

/**
 * nvme_cmb_debugfs_exit() - remove it
 *
 * Context: module exit.
 */
void nvme_cmb_debugfs_exit(void)
{
	struct nvme_cmb_note *note, *tmp;

	debugfs_remove(nvme_cmb_debugfs_root);
	mutex_lock(&nvme_cmb_notes_lock);
	list_for_each_entry_safe(note, tmp, &nvme_cmb_notes, node) {
		list_del(&note->node);
		kfree(note);
	}
	mutex_unlock(&nvme_cmb_notes_lock);
}
