// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap core: layout leases.
 *
 * A holder of blocks handed out for device I/O (a write mapping of the
 * mirror, a layout of /dev/p2pmap) must hear about every operation that
 * would remove or move them before it happens. The VFS has the mechanism
 * knfsd uses for pNFS block layouts (fs/nfsd/nfs4layouts.c): an FL_LAYOUT
 * lease, which XFS breaks with break_layout() before truncate, hole punch,
 * fallocate, reflink and dedupe (either side), swapext, and every write(2)
 * and O_DIRECT write — including the holder's own: the lease has no
 * lm_breaker_owns_lease, and a kernel holder owns no process. Unlink does
 * not break it: the blocks stay allocated while the file is held.
 *
 * The rules fs/locks.c imposes, and what is done about them:
 *  - lm_break() runs under the inode's flc_lock (a spinlock): the recall is
 *    queued on a workqueue;
 *  - without a break time of 0 the VFS drops a broken lease after
 *    lease-break-time (45 s) and the truncate proceeds while the device may
 *    still write: lm_break() sets fl_break_time = 0, as knfsd does, and the
 *    breaker waits until the holder removes the lease itself;
 *  - generic_setlease() refuses (-EACCES) a caller who does not own the
 *    inode and lacks CAP_LEASE. p2pmap takes the lease with the caller's
 *    credentials and passes the refusal on: a layout lease lets its holder
 *    delay the owner's truncates and writes, which is exactly what
 *    F_SETLEASE reserves for the owner and CAP_LEASE. Removing the lease
 *    uses the kernel's credentials: giving a lease back is never refused.
 */
#define pr_fmt(fmt) "p2pmap: " fmt

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "internal.h"

#if P2PMAP_HAVE_FILELOCK_H()
#include <linux/filelock.h>
#endif

/*
 * struct p2pmap_lease - one FL_LAYOUT lease on an open file
 * @file: the file the lease is on (referenced).
 * @ops: the holder's callbacks.
 * @priv: the holder's cookie.
 * @ref: the holder's reference and the queued recall's.
 * @lock: protects @recalled, @queued and @dead.
 * @recalled: the file system broke the lease.
 * @queued: the recall work was queued (at most once).
 * @dead: p2pmap_lease_put() was called: no recall any more.
 * @recall_work: runs ops->recall.
 * @breaking: on p2pmap_breaking from the first break until the lease is
 *	given back (p2pmap_breaking_lock).
 */
struct p2pmap_lease {
	struct file *file;
	const struct p2pmap_lease_ops *ops;
	void *priv;
	struct kref ref;
	spinlock_t lock;	/* protects recalled, queued, dead */
	bool recalled;
	bool queued;
	bool dead;
	struct work_struct recall_work;
	struct list_head breaking;
};

/*
 * p2pmap_breaking_lock protects p2pmap_breaking: p2pmap's leases that the
 * file system broke and that their holders have not given back yet (their
 * recall may be writing a device's data to the blocks). Taken under the
 * inode's flc_lock and a lease's lock, never the other way round.
 * p2pmap_returned_wq is woken when one leaves the list.
 */
static DEFINE_SPINLOCK(p2pmap_breaking_lock);
static LIST_HEAD(p2pmap_breaking);
static DECLARE_WAIT_QUEUE_HEAD(p2pmap_returned_wq);

static void p2pmap_lease_release(struct kref *ref)
{
	struct p2pmap_lease *lease = container_of(ref, struct p2pmap_lease, ref);

	fput(lease->file);	/* pairs with get_file() in p2pmap_lease_get() */
	kfree(lease);
}

static void p2pmap_lease_recall_work(struct work_struct *work)
{
	struct p2pmap_lease *lease =
		container_of(work, struct p2pmap_lease, recall_work);
	bool dead;

	spin_lock(&lease->lock);
	dead = lease->dead;
	spin_unlock(&lease->lock);
	if (!dead)
		lease->ops->recall(lease, lease->priv);
	kref_put(&lease->ref, p2pmap_lease_release);	/* lm_break()'s */
}

/*
 * Called by __break_lease() with the inode's flc_lock held: no sleeping.
 * The lease stays on the inode (return false) until its holder removes it.
 */
static bool p2pmap_lease_lm_break(struct file_lock *fl)
{
	struct p2pmap_lease *lease = fl->fl_owner;

	/* never time out: the breaker waits for the holder, as knfsd's */
	fl->fl_break_time = 0;

	spin_lock(&lease->lock);
	lease->recalled = true;
	if (!lease->dead) {
		spin_lock(&p2pmap_breaking_lock);
		if (list_empty(&lease->breaking))
			list_add_tail(&lease->breaking, &p2pmap_breaking);
		spin_unlock(&p2pmap_breaking_lock);
	}
	if (!lease->queued && !lease->dead) {
		lease->queued = true;
		kref_get(&lease->ref);	/* pairs with kref_put() in the work */
		queue_work(system_unbound_wq, &lease->recall_work);
	}
	spin_unlock(&lease->lock);
	return false;
}

static int p2pmap_lease_lm_change(struct file_lock *onlist, int arg,
				  struct list_head *dispose)
{
	/* only the holder's removal reaches here (F_UNLCK) */
	if (WARN_ON_ONCE(!(arg & F_UNLCK)))
		return -EINVAL;
	return lease_modify(onlist, arg, dispose);
}

static const struct lock_manager_operations p2pmap_lease_lm_ops = {
	.lm_break	= p2pmap_lease_lm_break,
	.lm_change	= p2pmap_lease_lm_change,
};

/**
 * p2pmap_lease_get() - take a layout lease on a file
 * @file: an open regular file.
 * @ops: what to do when the lease is recalled; must outlive the lease.
 * @priv: the caller's cookie, passed to @ops->recall.
 *
 * Takes an FL_LAYOUT lease with the current task's credentials: the caller
 * must own the file or have CAP_LEASE (an importer that faults from a
 * worker switches to the credentials of the task that asked for the
 * mapping first). The lease keeps a reference on @file.
 *
 * Context: process context; may sleep.
 * Return: the lease, to be given back with p2pmap_lease_put();
 * ERR_PTR(-EACCES) when the caller may not take a lease on @file;
 * ERR_PTR(-EINVAL) for a file that is not regular, or when leases are
 * disabled (fs.leases-enable = 0); ERR_PTR(-EOPNOTSUPP) on a kernel whose
 * lease API p2pmap does not support; ERR_PTR(-ENOMEM); another errno from
 * the security module.
 */
struct p2pmap_lease *p2pmap_lease_get(struct file *file,
				      const struct p2pmap_lease_ops *ops,
				      void *priv)
{
	struct p2pmap_lease *lease;
	struct file_lock *fl;
	int ret;

	might_sleep();
	if (P2PMAP_HAVE_FILE_LEASE())
		return ERR_PTR(-EOPNOTSUPP);	/* struct file_lease: v6.9 */
	if (!S_ISREG(file_inode(file)->i_mode) || !ops || !ops->recall)
		return ERR_PTR(-EINVAL);

	lease = kzalloc(sizeof(*lease), GFP_KERNEL);
	if (!lease)
		return ERR_PTR(-ENOMEM);
	lease->file = get_file(file);	/* pairs with fput() in p2pmap_lease_release() */
	lease->ops = ops;
	lease->priv = priv;
	kref_init(&lease->ref);
	spin_lock_init(&lease->lock);
	INIT_WORK(&lease->recall_work, p2pmap_lease_recall_work);
	INIT_LIST_HEAD(&lease->breaking);

	fl = locks_alloc_lock();
	if (!fl) {
		ret = -ENOMEM;
		goto out_put_lease;
	}
	/* what nfsd4_layout_setlease() does */
	fl->fl_lmops = &p2pmap_lease_lm_ops;
	fl->fl_flags = FL_LAYOUT;
	fl->fl_type = F_RDLCK;
	fl->fl_end = OFFSET_MAX;
	fl->fl_owner = lease;
	fl->fl_pid = current->tgid;
	fl->fl_file = file;

	ret = vfs_setlease(file, F_RDLCK, &fl, NULL);
	if (fl)		/* not inserted (refused), or merged into ours */
		locks_free_lock(fl);
	if (ret)
		goto out_put_lease;
	return lease;

out_put_lease:
	kref_put(&lease->ref, p2pmap_lease_release);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(p2pmap_lease_get);

/**
 * p2pmap_lease_put() - give a layout lease back
 * @lease: a lease from p2pmap_lease_get(); NULL is ignored.
 *
 * Removes the lease from the file, which lets a breaker waiting for it go
 * on, so the holder must have stopped every device access through the
 * blocks and committed them first. A recall that has not started yet will
 * not be called; one that is running is waited for, unless this is called
 * from it.
 *
 * Context: process context; sleeps. Must not hold a lock that the holder's
 * recall callback takes.
 */
void p2pmap_lease_put(struct p2pmap_lease *lease)
{
	const struct cred *old, *kcred;
	int ret;

	might_sleep();
	if (!lease)
		return;

	spin_lock(&lease->lock);
	lease->dead = true;
	spin_unlock(&lease->lock);

	/*
	 * generic_setlease() checks ownership for F_UNLCK too: give the lease
	 * back with the kernel's credentials, whoever holds it now.
	 */
	kcred = prepare_kernel_cred(&init_task);
	if (kcred)
		old = override_creds(kcred);
	ret = vfs_setlease(lease->file, F_UNLCK, NULL, (void **)&lease);
	if (kcred) {
		revert_creds(old);
		put_cred(kcred);
	}
	if (ret)
		pr_warn_ratelimited("%s[%d]: removing a layout lease failed: %d\n",
				    current->comm, task_pid_nr(current), ret);

	/* off the inode: no lm_break() can put it on the list again */
	spin_lock(&p2pmap_breaking_lock);
	list_del_init(&lease->breaking);
	spin_unlock(&p2pmap_breaking_lock);
	wake_up_all(&p2pmap_returned_wq);

	/*
	 * No recall is queued once @dead is set (lm_break() checks it). One
	 * still pending is cancelled, and its reference dropped here; one
	 * running is waited for and drops its own.
	 */
	if (current_work() != &lease->recall_work &&
	    cancel_work_sync(&lease->recall_work))
		kref_put(&lease->ref, p2pmap_lease_release);	/* lm_break()'s */
	kref_put(&lease->ref, p2pmap_lease_release);	/* the holder's */
}
EXPORT_SYMBOL_GPL(p2pmap_lease_put);

/*
 * Is one of p2pmap's leases on @inode broken and not given back yet?
 * A hint for a caller that saw vfs_setlease() refuse a new lease (-EAGAIN:
 * some lease of the inode is being broken): when the one being broken is
 * ours, its recall may be writing back.
 */
bool p2pmap_lease_breaking(const struct inode *inode)
{
	struct p2pmap_lease *lease;
	bool found = false;

	spin_lock(&p2pmap_breaking_lock);
	list_for_each_entry(lease, &p2pmap_breaking, breaking)
		if (file_inode(lease->file) == inode) {
			found = true;
			break;
		}
	spin_unlock(&p2pmap_breaking_lock);
	return found;
}

/* Wait until no lease of p2pmap's on @inode is broken and not given back. */
void p2pmap_lease_wait_returned(const struct inode *inode)
{
	might_sleep();
	wait_event(p2pmap_returned_wq, !p2pmap_lease_breaking(inode));
}

/**
 * p2pmap_lease_recalled() - has the file system asked for the lease back
 * @lease: a lease.
 *
 * Context: any context.
 * Return: true once the lease was broken; it stays true.
 */
bool p2pmap_lease_recalled(const struct p2pmap_lease *lease)
{
	return READ_ONCE(lease->recalled);
}
EXPORT_SYMBOL_GPL(p2pmap_lease_recalled);
