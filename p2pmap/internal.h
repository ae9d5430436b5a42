/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap core: what the files of p2pmap.ko share, and nothing else.
 */
#ifndef _P2PMAP_INTERNAL_H
#define _P2PMAP_INTERNAL_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <p2pmap/compat.h>

struct dentry;
struct file;

/* Counters kept per importer and in total; all updated lock-free. */
struct p2pmap_counters {
	atomic64_t faults;
	atomic64_t retries;
	atomic64_t refaults;
	atomic64_t pages_p2p;
	atomic64_t fallback[P2PMAP_REASON_COUNT];
	atomic64_t revoked[P2PMAP_REVOKE_COUNT];
	atomic64_t written_back[P2PMAP_REVOKE_COUNT];	/* bytes */
	atomic64_t lost;				/* bytes */
	atomic64_t write_refused;
	atomic64_t layouts_recalled;
};

struct p2pmap_importer {
	struct list_head node;		/* in the registry's importers */
	struct device *dev;
	const struct p2pmap_importer_ops *ops;
	struct module *owner;
	unsigned int id;
	struct dentry *debugfs;
	struct p2pmap_counters counters;

	/* mirrors_lock protects mirrors: the importer's live mirrors. */
	struct mutex mirrors_lock;
	struct list_head mirrors;
};

/* registry.c */
void p2pmap_registry_exit(void);
struct p2pmap_provider *p2pmap_provider_get(struct p2pmap_provider *provider);
void p2pmap_importer_add_mirror(struct p2pmap_importer *importer,
				struct list_head *node);
void p2pmap_importer_del_mirror(struct p2pmap_importer *importer,
				struct list_head *node);
u64 p2pmap_nr_importers(void);

/* stats.c */
extern struct p2pmap_counters p2pmap_total;
extern atomic64_t p2pmap_nr_mirrors;
extern atomic64_t p2pmap_staged_ahead;
void p2pmap_stats_init(void);
void p2pmap_stats_exit(void);
void p2pmap_stats_importer_add(struct p2pmap_importer *importer);
void p2pmap_stats_importer_del(struct p2pmap_importer *importer);
void p2pmap_stats_fault_begin(struct p2pmap_importer *importer);
void p2pmap_stats_retry(struct p2pmap_importer *importer);
void p2pmap_stats_fault(struct p2pmap_importer *importer, unsigned long p2p,
			const unsigned int *reasons, unsigned long refaults);
void p2pmap_stats_revoke(struct p2pmap_importer *importer,
			 enum p2pmap_revoke_cause cause, unsigned long pages);
void p2pmap_stats_written_back(struct p2pmap_importer *importer,
			       enum p2pmap_revoke_cause cause, u64 bytes,
			       bool lost);
void p2pmap_stats_write_refused(struct p2pmap_importer *importer,
				struct file *file, int err);
void p2pmap_stats_layout_recalled(struct p2pmap_importer *importer);
void p2pmap_stats_no_route(struct p2pmap_importer *importer,
			   struct p2pmap_provider *provider, const char *why);
long p2pmap_ioc_stats(void __user *uarg);

/* lease.c */
bool p2pmap_lease_breaking(const struct inode *inode);
void p2pmap_lease_wait_returned(const struct inode *inode);

/* mirror.c */
int p2pmap_mirror_init(void);
void p2pmap_mirror_exit(void);

/* check.c */
long p2pmap_ioc_check(void __user *uarg);

/* layout.c */
struct file;
struct poll_table_struct;
int p2pmap_layout_open(struct file *file);
void p2pmap_layout_release(struct file *file);
long p2pmap_layout_ioctl(struct file *file, unsigned int cmd,
			 void __user *uarg);
ssize_t p2pmap_layout_read(struct file *file, char __user *buf, size_t count,
			   bool nonblock);
__poll_t p2pmap_layout_poll(struct file *file,
			    struct poll_table_struct *wait);

#endif /* _P2PMAP_INTERNAL_H */
