// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap core: the /dev/p2pmap misc device and its ioctls.
 */
#define pr_fmt(fmt) "p2pmap: " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"

static u64 p2pmap_features(void)
{
	u64 features = 0;

	if (P2PMAP_HAVE_PCI_P2PDMA())
		features |= P2PMAP_FEATURE_PCI_P2PDMA;
	if (P2PMAP_HAVE_HMM_MIRROR())
		features |= P2PMAP_FEATURE_HMM_MIRROR;
	if (P2PMAP_HAVE_BLOCK_LAYOUTS())
		features |= P2PMAP_FEATURE_BLOCK_LAYOUTS;
	return features;
}

static long p2pmap_ioc_version(void __user *uarg)
{
	struct p2pmap_version v;

	if (copy_from_user(&v, uarg, sizeof(v)))
		return -EFAULT;
	if (v.size != sizeof(v) || v.flags ||
	    memchr_inv(v.reserved, 0, sizeof(v.reserved)))
		return -EINVAL;

	v.major = P2PMAP_VERSION_MAJOR;
	v.minor = P2PMAP_VERSION_MINOR;
	v.patch = P2PMAP_VERSION_PATCH;
	v.abi = P2PMAP_ABI_VERSION;
	v.features = p2pmap_features();

	if (copy_to_user(uarg, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

static long p2pmap_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case P2PMAP_IOC_VERSION:
		return p2pmap_ioc_version(uarg);
	case P2PMAP_IOC_STATS:
		return p2pmap_ioc_stats(uarg);
	case P2PMAP_IOC_CHECK:
		return p2pmap_ioc_check(uarg);
	case P2PMAP_IOC_LAYOUT_GET:
	case P2PMAP_IOC_LAYOUT_COMMIT:
	case P2PMAP_IOC_LAYOUT_RETURN:
	case P2PMAP_IOC_LAYOUT_IO:
		return p2pmap_layout_ioctl(file, cmd, uarg);
	default:
		return -ENOTTY;
	}
}

/* Each open holds its own layouts (layout.c). */
static int p2pmap_open(struct inode *inode, struct file *file)
{
	return p2pmap_layout_open(file);
}

static int p2pmap_release(struct inode *inode, struct file *file)
{
	p2pmap_layout_release(file);
	return 0;
}

static ssize_t p2pmap_read(struct file *file, char __user *buf, size_t count,
			   loff_t *ppos)
{
	return p2pmap_layout_read(file, buf, count,
				  file->f_flags & O_NONBLOCK);
}

static __poll_t p2pmap_poll(struct file *file, poll_table *wait)
{
	return p2pmap_layout_poll(file, wait);
}

static const struct file_operations p2pmap_fops = {
	.owner		= THIS_MODULE,
	.open		= p2pmap_open,
	.release	= p2pmap_release,
	.read		= p2pmap_read,
	.poll		= p2pmap_poll,
	.unlocked_ioctl	= p2pmap_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice p2pmap_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "p2pmap",
	.fops	= &p2pmap_fops,
	.mode	= 0666,
};

static int __init p2pmap_init(void)
{
	int ret;

	p2pmap_stats_init();
	ret = p2pmap_mirror_init();
	if (ret)
		goto out_stats_exit;
	ret = misc_register(&p2pmap_misc);
	if (ret)
		goto out_mirror_exit;

	pr_info("version %s loaded (features 0x%llx)\n", P2PMAP_VERSION_STR,
		p2pmap_features());
	return 0;

out_mirror_exit:
	p2pmap_mirror_exit();
out_stats_exit:
	p2pmap_stats_exit();
	return ret;
}

static void __exit p2pmap_exit(void)
{
	misc_deregister(&p2pmap_misc);
	p2pmap_mirror_exit();
	p2pmap_registry_exit();
	p2pmap_stats_exit();
}

module_init(p2pmap_init);
module_exit(p2pmap_exit);

MODULE_DESCRIPTION("p2pmap: peer-to-peer mapping of file data for devices");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMAP_VERSION_STR);
