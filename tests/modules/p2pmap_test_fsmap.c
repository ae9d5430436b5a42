// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/p2pmap_test_fsmap: calls the device-map callbacks that fs-hooks
 * registered for a file's file-system type, exactly as the core does
 * (p2pmap_vm_ops_get(file_inode(f)->i_sb->s_type), without mmap_lock), and
 * counts the mmu notifier events of a user range. tests/guest/fs_hooks.c
 * drives it. Test-only.
 */
#define pr_fmt(fmt) "p2pmap_test_fsmap: " fmt

#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/miscdevice.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "p2pmap_test_fsmap.h"

struct fsmap_file {
	/* lock serialises this file's ioctls: @watching and @notifier's life */
	struct mutex lock;
	bool watching;
	struct mmu_interval_notifier notifier;
	unsigned long start;
	unsigned long length;
	/*
	 * count_lock protects the counters and the notifier sequence: the
	 * invalidate callback (any context, may not sleep) writes them.
	 */
	spinlock_t count_lock;
	u64 clears;
	u64 protections;
	u64 others;
};

static void fsmap_count_locked(struct fsmap_file *ff,
			       enum mmu_notifier_event event)
{
	lockdep_assert_held(&ff->count_lock);
	switch (event) {
	case MMU_NOTIFY_UNMAP:
	case MMU_NOTIFY_CLEAR:
	case MMU_NOTIFY_RELEASE:
	case MMU_NOTIFY_MIGRATE:
	case MMU_NOTIFY_EXCLUSIVE:
		ff->clears++;
		break;
	case MMU_NOTIFY_PROTECTION_PAGE:
	case MMU_NOTIFY_PROTECTION_VMA:
		ff->protections++;
		break;
	default:
		ff->others++;
		break;
	}
}

static bool fsmap_invalidate(struct mmu_interval_notifier *notifier,
			     const struct mmu_notifier_range *range,
			     unsigned long cur_seq)
{
	struct fsmap_file *ff = container_of(notifier, struct fsmap_file,
					     notifier);

	/* a spinlock: never sleeps, so non-blockable ranges need no trylock */
	spin_lock(&ff->count_lock);
	mmu_interval_set_seq(notifier, cur_seq);
	fsmap_count_locked(ff, range->event);
	spin_unlock(&ff->count_lock);
	return true;
}

static const struct mmu_interval_notifier_ops fsmap_notifier_ops = {
	.invalidate = fsmap_invalidate,
};

/* Look up the callbacks of @f's file system, as the core does. */
static const struct p2pmap_vm_ops *fsmap_ops(struct file *f)
{
	const struct p2pmap_vm_ops *ops;

	ops = p2pmap_vm_ops_get(file_inode(f)->i_sb->s_type);
	if (!ops)
		pr_warn_ratelimited("%s: no device-map callbacks for %s\n",
				    current->comm,
				    file_inode(f)->i_sb->s_type->name);
	return ops;
}

static long fsmap_map(struct p2pmap_test_fsmap __user *uarg)
{
	const struct p2pmap_vm_ops *ops;
	struct p2pmap_test_fsmap arg;
	struct p2pmap_extent ext;
	struct file *f;
	long ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	f = fget(arg.fd);	/* pairs with fput() below */
	if (!f)
		return -EBADF;
	ops = fsmap_ops(f);
	if (!ops) {
		ret = -EOPNOTSUPP;
		goto out_fput;
	}

	BUILD_BUG_ON(P2PMAP_TEST_FSMAP_WRITE != P2PMAP_FAULT_WRITE);
	BUILD_BUG_ON(P2PMAP_TEST_FSMAP_PROBE != P2PMAP_MAP_PROBE);
	memset(&ext, 0, sizeof(ext));
	arg.result = ops->device_map(f, arg.pgoff, arg.npages, arg.flags,
				     &ext);
	p2pmap_vm_ops_put(ops);
	arg.ext_pgoff = ext.pgoff;
	arg.ext_npages = ext.npages;
	arg.sector = ext.sector;
	arg.cookie = ext.cookie;
	arg.reason = ext.reason;
	arg.bdev_major = ext.bdev ? MAJOR(ext.bdev->bd_dev) : 0;
	arg.bdev_minor = ext.bdev ? MINOR(ext.bdev->bd_dev) : 0;
	arg.bdev_start = ext.bdev ? get_start_sect(ext.bdev) : 0;
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_fput:
	fput(f);
	return ret;
}

static long fsmap_revalidate(struct p2pmap_test_fsmap __user *uarg)
{
	const struct p2pmap_vm_ops *ops;
	struct p2pmap_test_fsmap arg;
	struct p2pmap_extent ext;
	struct file *f;
	long ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags)
		return -EINVAL;
	f = fget(arg.fd);	/* pairs with fput() below */
	if (!f)
		return -EBADF;
	ops = fsmap_ops(f);
	if (!ops) {
		ret = -EOPNOTSUPP;
		goto out_fput;
	}

	memset(&ext, 0, sizeof(ext));
	ext.pgoff = arg.pgoff;
	ext.npages = arg.npages;
	ext.bdev = file_inode(f)->i_sb->s_bdev;
	ext.sector = arg.sector;
	ext.cookie = arg.cookie;
	ext.reason = P2PMAP_REASON_NONE;
	arg.result = ops->device_revalidate ?
		     ops->device_revalidate(f, &ext) : -EOPNOTSUPP;
	p2pmap_vm_ops_put(ops);
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_fput:
	fput(f);
	return ret;
}

static void fsmap_watch_stop_locked(struct fsmap_file *ff)
{
	lockdep_assert_held(&ff->lock);
	if (!ff->watching)
		return;
	mmu_interval_notifier_remove(&ff->notifier);
	ff->watching = false;
}

static long fsmap_watch(struct fsmap_file *ff,
			struct p2pmap_test_fsmap_watch __user *uarg)
{
	struct p2pmap_test_fsmap_watch arg;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.length || !PAGE_ALIGNED(arg.addr) ||
	    !PAGE_ALIGNED(arg.length) || arg.addr + arg.length < arg.addr)
		return -EINVAL;
	if (!current->mm)
		return -EINVAL;

	mutex_lock(&ff->lock);
	if (ff->watching) {
		ret = -EBUSY;
		goto out_unlock;
	}
	spin_lock(&ff->count_lock);
	ff->clears = 0;
	ff->protections = 0;
	ff->others = 0;
	spin_unlock(&ff->count_lock);
	ret = mmu_interval_notifier_insert(&ff->notifier, current->mm,
					   arg.addr, arg.length,
					   &fsmap_notifier_ops);
	if (!ret) {
		ff->watching = true;
		ff->start = arg.addr;
		ff->length = arg.length;
	}
out_unlock:
	mutex_unlock(&ff->lock);
	return ret;
}

static long fsmap_watch_read(struct fsmap_file *ff,
			     struct p2pmap_test_fsmap_watch __user *uarg)
{
	struct p2pmap_test_fsmap_watch arg = { };
	long ret = 0;

	mutex_lock(&ff->lock);
	if (!ff->watching) {
		ret = -ENOENT;
		goto out_unlock;
	}
	arg.addr = ff->start;
	arg.length = ff->length;
	spin_lock(&ff->count_lock);
	arg.clears = ff->clears;
	arg.protections = ff->protections;
	arg.others = ff->others;
	spin_unlock(&ff->count_lock);
out_unlock:
	mutex_unlock(&ff->lock);
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
	return ret;
}

static long fsmap_ioctl(struct file *file, unsigned int op, unsigned long arg)
{
	struct fsmap_file *ff = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (op) {
	case P2PMAP_TEST_FSMAP_MAP:
		return fsmap_map(uarg);
	case P2PMAP_TEST_FSMAP_REVALIDATE:
		return fsmap_revalidate(uarg);
	case P2PMAP_TEST_FSMAP_WATCH:
		return fsmap_watch(ff, uarg);
	case P2PMAP_TEST_FSMAP_WATCH_READ:
		return fsmap_watch_read(ff, uarg);
	case P2PMAP_TEST_FSMAP_WATCH_STOP:
		mutex_lock(&ff->lock);
		fsmap_watch_stop_locked(ff);
		mutex_unlock(&ff->lock);
		return 0;
	default:
		return -ENOTTY;
	}
}

static int fsmap_open(struct inode *inode, struct file *file)
{
	struct fsmap_file *ff = kzalloc(sizeof(*ff), GFP_KERNEL);

	if (!ff)
		return -ENOMEM;
	mutex_init(&ff->lock);
	spin_lock_init(&ff->count_lock);
	file->private_data = ff;
	return 0;
}

static int fsmap_release(struct inode *inode, struct file *file)
{
	struct fsmap_file *ff = file->private_data;

	mutex_lock(&ff->lock);
	fsmap_watch_stop_locked(ff);
	mutex_unlock(&ff->lock);
	mutex_destroy(&ff->lock);
	kfree(ff);
	return 0;
}

static const struct file_operations fsmap_fops = {
	.owner		= THIS_MODULE,
	.open		= fsmap_open,
	.release	= fsmap_release,
	.unlocked_ioctl	= fsmap_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice fsmap_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "p2pmap_test_fsmap",
	.fops	= &fsmap_fops,
};

module_misc_device(fsmap_misc);

MODULE_DESCRIPTION("p2pmap test: fs-hooks device-map callbacks and mmu notifier events");
MODULE_LICENSE("GPL");
