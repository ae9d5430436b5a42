// SPDX-License-Identifier: GPL-2.0
/*
 * A test importer: /dev/p2pmap_test_importer mirrors user memory through
 * p2pmap's importer API and reads it with the CPU through its own "device
 * page table", like lib/test_hmm.c's dmirror. The guest tests in
 * tests/guest/mirror.c drive it. Test-only: dummy-gpu is the real importer.
 */
#define pr_fmt(fmt) "p2pmap_test_importer: " fmt

#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pmap_test_importer.h"

struct tdev_pte {
	struct page *page;
	u8 path;
	u8 reason;
};

struct tdev_file {
	/* lock serialises this file's ioctls (mirror lifetime) */
	struct mutex lock;
	struct p2pmap_mirror *mirror;
	unsigned long start;
	unsigned long npages;
	/*
	 * pt_lock protects ptes, the device page table: p2pmap's callbacks
	 * write it (under the mirror lock), the "device" reads it.
	 */
	spinlock_t pt_lock;
	struct tdev_pte *ptes;
	atomic64_t invalidations;
};

static struct platform_device *tdev_pdev;
static struct pci_dev *tdev_pci;
static struct p2pmap_importer *tdev_importer;

static bool use_edu = true;
module_param(use_edu, bool, 0444);
MODULE_PARM_DESC(use_edu,
		 "Import as QEMU's edu PCI function when present (a real P2P route), else as a platform device");

static void tdev_invalidate(struct p2pmap_mirror *mirror, unsigned long start,
			    unsigned long end, enum p2pmap_revoke_cause cause)
{
	struct tdev_file *tf = p2pmap_mirror_priv(mirror);
	unsigned long i;

	spin_lock(&tf->pt_lock);
	for (i = (start - tf->start) >> PAGE_SHIFT;
	     i < (end - tf->start) >> PAGE_SHIFT; i++)
		memset(&tf->ptes[i], 0, sizeof(tf->ptes[i]));
	spin_unlock(&tf->pt_lock);
	atomic64_inc(&tf->invalidations);
}

static int tdev_populate(struct p2pmap_mirror *mirror, unsigned long start,
			 unsigned long npages, const struct p2pmap_page *pages)
{
	struct tdev_file *tf = p2pmap_mirror_priv(mirror);
	unsigned long i, first = (start - tf->start) >> PAGE_SHIFT;

	spin_lock(&tf->pt_lock);
	for (i = 0; i < npages; i++) {
		tf->ptes[first + i].page = pages[i].page;
		tf->ptes[first + i].path = pages[i].path;
		tf->ptes[first + i].reason = pages[i].reason;
	}
	spin_unlock(&tf->pt_lock);
	return 0;
}

static const struct p2pmap_importer_ops tdev_ops = {
	.invalidate	= tdev_invalidate,
	.populate	= tdev_populate,
};

static int tdev_open(struct inode *inode, struct file *file)
{
	struct tdev_file *tf = kzalloc(sizeof(*tf), GFP_KERNEL);

	if (!tf)
		return -ENOMEM;
	mutex_init(&tf->lock);
	spin_lock_init(&tf->pt_lock);
	file->private_data = tf;
	return 0;
}

static void tdev_release_mirror(struct tdev_file *tf)
{
	p2pmap_mirror_destroy(tf->mirror);
	tf->mirror = NULL;
	kvfree(tf->ptes);
	tf->ptes = NULL;
}

static int tdev_release(struct inode *inode, struct file *file)
{
	struct tdev_file *tf = file->private_data;

	tdev_release_mirror(tf);
	kfree(tf);
	return 0;
}

static long tdev_mirror(struct tdev_file *tf, struct p2pmap_test_cmd *cmd)
{
	struct p2pmap_mirror *mirror;
	struct tdev_pte *ptes;

	if (!cmd->npages || cmd->npages > SZ_1M)
		return -EINVAL;
	ptes = kvcalloc(cmd->npages, sizeof(*ptes), GFP_KERNEL);
	if (!ptes)
		return -ENOMEM;
	tdev_release_mirror(tf);
	tf->start = cmd->addr;
	tf->npages = cmd->npages;
	tf->ptes = ptes;
	mirror = p2pmap_mirror_create(tdev_importer, current->mm, cmd->addr,
				      cmd->npages << PAGE_SHIFT, tf);
	if (IS_ERR(mirror)) {
		kvfree(ptes);
		tf->ptes = NULL;
		return PTR_ERR(mirror);
	}
	tf->mirror = mirror;
	return 0;
}

/* Read one page through the device page table, as a device would. */
static int tdev_read_page(struct tdev_file *tf, unsigned long i, void *buf,
			  struct p2pmap_test_cmd *cmd)
{
	int tries, ret;

	for (tries = 0; tries < 16; tries++) {
		struct tdev_pte *pte = &tf->ptes[i];
		bool ok = false;

		/* the "device" reads through its page table, under its lock */
		spin_lock(&tf->pt_lock);
		if (pte->page) {
			void *src = kmap_local_page(pte->page);

			memcpy(buf, src, PAGE_SIZE);
			kunmap_local(src);
			if (pte->path == P2PMAP_PATH_P2P)
				cmd->pages_p2p++;
			else
				cmd->pages_fallback++;
			ok = true;
		}
		spin_unlock(&tf->pt_lock);
		if (ok)
			return 0;
		ret = p2pmap_mirror_fault(tf->mirror,
					  tf->start + (i << PAGE_SHIFT), 1, 0);
		cmd->faults++;
		if (ret)
			return ret;
	}
	return -EBUSY;
}

static long tdev_read(struct tdev_file *tf, struct p2pmap_test_cmd *cmd,
		      bool read)
{
	unsigned long first, i;
	void *buf;
	int ret = 0;

	if (!tf->mirror || cmd->addr < tf->start ||
	    cmd->npages > tf->npages ||
	    ((cmd->addr - tf->start) >> PAGE_SHIFT) + cmd->npages > tf->npages)
		return -EINVAL;
	first = (cmd->addr - tf->start) >> PAGE_SHIFT;

	/* a job: the coherency point, then the whole range faulted at once */
	ret = p2pmap_mirror_begin_access(tf->mirror, cmd->addr, cmd->npages);
	if (ret < 0)
		return ret;
	ret = p2pmap_mirror_fault(tf->mirror, cmd->addr, cmd->npages, 0);
	cmd->faults++;
	if (ret)
		return ret;

	if (!read)
		return 0;
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < cmd->npages; i++) {
		ret = tdev_read_page(tf, first + i, buf, cmd);
		if (ret)
			break;
		if (cmd->ptr &&
		    copy_to_user(u64_to_user_ptr(cmd->ptr + (i << PAGE_SHIFT)),
				 buf, PAGE_SIZE)) {
			ret = -EFAULT;
			break;
		}
	}
	kfree(buf);
	return ret;
}

static long tdev_snapshot(struct tdev_file *tf, struct p2pmap_test_cmd *cmd)
{
	unsigned long first, i;
	u8 *out;
	long ret = 0;

	if (!tf->mirror || cmd->addr < tf->start ||
	    cmd->npages > tf->npages ||
	    ((cmd->addr - tf->start) >> PAGE_SHIFT) + cmd->npages > tf->npages)
		return -EINVAL;
	first = (cmd->addr - tf->start) >> PAGE_SHIFT;
	out = kvmalloc(2 * cmd->npages, GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	spin_lock(&tf->pt_lock);
	for (i = 0; i < cmd->npages; i++) {
		out[i] = tf->ptes[first + i].path;
		out[cmd->npages + i] = tf->ptes[first + i].reason;
	}
	spin_unlock(&tf->pt_lock);
	if (copy_to_user(u64_to_user_ptr(cmd->ptr), out, 2 * cmd->npages))
		ret = -EFAULT;
	kvfree(out);
	return ret;
}

static long tdev_ioctl(struct file *file, unsigned int op, unsigned long arg)
{
	struct tdev_file *tf = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct p2pmap_test_cmd cmd;
	long ret;

	if (_IOC_TYPE(op) != 0xBA || _IOC_SIZE(op) != sizeof(cmd))
		return -ENOTTY;
	if (copy_from_user(&cmd, uarg, sizeof(cmd)))
		return -EFAULT;
	if (cmd.flags)
		return -EINVAL;
	cmd.faults = 0;
	cmd.pages_p2p = 0;
	cmd.pages_fallback = 0;

	mutex_lock(&tf->lock);
	switch (op) {
	case P2PMAP_TEST_MIRROR:
		ret = tdev_mirror(tf, &cmd);
		break;
	case P2PMAP_TEST_READ:
		ret = tdev_read(tf, &cmd, true);
		break;
	case P2PMAP_TEST_FAULT:
		ret = tdev_read(tf, &cmd, false);
		break;
	case P2PMAP_TEST_SNAPSHOT:
		ret = tdev_snapshot(tf, &cmd);
		break;
	case P2PMAP_TEST_RELEASE:
		tdev_release_mirror(tf);
		ret = 0;
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	cmd.invalidations = atomic64_read(&tf->invalidations);
	mutex_unlock(&tf->lock);

	if (copy_to_user(uarg, &cmd, sizeof(cmd)))
		return -EFAULT;
	return ret;
}

static const struct file_operations tdev_fops = {
	.owner		= THIS_MODULE,
	.open		= tdev_open,
	.release	= tdev_release,
	.unlocked_ioctl	= tdev_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice tdev_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "p2pmap_test_importer",
	.fops	= &tdev_fops,
	.mode	= 0600,
};

static int __init tdev_init(void)
{
	struct platform_device_info info = {
		.name = "p2pmap-test-importer",
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct device *dev;
	int ret;

	/*
	 * The edu function is only named as the importing device (topology,
	 * DMA mapping); its driver, if any, is not disturbed.
	 */
	if (use_edu)
		/* pairs with pci_dev_put() in exit */
		tdev_pci = pci_get_device(0x1234, 0x11e8, NULL);
	if (tdev_pci) {
		dev = &tdev_pci->dev;
	} else {
		tdev_pdev = platform_device_register_full(&info);
		if (IS_ERR(tdev_pdev))
			return PTR_ERR(tdev_pdev);
		dev = &tdev_pdev->dev;
	}
	tdev_importer = p2pmap_importer_register(dev, &tdev_ops, THIS_MODULE);
	if (IS_ERR(tdev_importer)) {
		ret = PTR_ERR(tdev_importer);
		goto out_put_dev;
	}
	ret = misc_register(&tdev_misc);
	if (ret)
		goto out_unregister_importer;
	return 0;

out_unregister_importer:
	p2pmap_importer_unregister(tdev_importer);
out_put_dev:
	if (tdev_pdev)
		platform_device_unregister(tdev_pdev);
	pci_dev_put(tdev_pci);
	return ret;
}

static void __exit tdev_exit(void)
{
	misc_deregister(&tdev_misc);
	p2pmap_importer_unregister(tdev_importer);
	if (tdev_pdev)
		platform_device_unregister(tdev_pdev);
	pci_dev_put(tdev_pci);
}

module_init(tdev_init);
module_exit(tdev_exit);

MODULE_DESCRIPTION("p2pmap test importer: a CPU device mirroring user memory");
MODULE_LICENSE("GPL");
