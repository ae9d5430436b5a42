// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap core: P2PMAP_IOC_CHECK, the answer to "why is this slow": for each
 * range of a file, the path a device would get and why. It asks the same
 * file-system hooks and providers as a fault does, with P2PMAP_MAP_PROBE so
 * that nothing is flushed, allocated or staged.
 */
#define pr_fmt(fmt) "p2pmap: " fmt

#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"

#define P2PMAP_CHECK_MAX_EXTENTS	4096

struct p2pmap_check_ctx {
	struct p2pmap_check *c;
	struct p2pmap_check_extent *out;
	u32 n;
};

/* Append a range, merging it into the previous one when it continues it. */
static bool p2pmap_check_add(struct p2pmap_check_ctx *ctx, u64 offset,
			     u64 length, u64 sector, u32 path, u32 reason)
{
	struct p2pmap_check_extent *prev = ctx->n ? &ctx->out[ctx->n - 1] : NULL;

	if (prev && prev->path == path && prev->reason == reason &&
	    prev->offset + prev->length == offset &&
	    (!sector || prev->sector + (prev->length >> SECTOR_SHIFT) == sector)) {
		prev->length += length;
		return true;
	}
	if (ctx->n == ctx->c->nr_extents)
		return false;
	ctx->out[ctx->n++] = (struct p2pmap_check_extent) {
		.offset = offset, .length = length, .sector = sector,
		.path = path, .reason = reason,
	};
	return true;
}

static int p2pmap_check_file(struct p2pmap_check_ctx *ctx, struct file *file,
			     struct pci_dev *pdev)
{
	struct p2pmap_check *c = ctx->c;
	struct inode *inode = file_inode(file);
	const struct p2pmap_vm_ops *ops;
	u64 end, pos = round_down(c->offset, PAGE_SIZE);
	u64 size = round_up(i_size_read(inode), PAGE_SIZE);
	int ret = 0;

	end = min_t(u64, round_up(c->offset + c->length, PAGE_SIZE), size);
	c->next_offset = pos;
	if (pos >= end)
		return 0;

	ops = p2pmap_vm_ops_get(inode->i_sb->s_type);
	if (!ops) {
		snprintf(c->why, sizeof(c->why),
			 "file system %s has no p2pmap hooks (is p2pmap_fs loaded?)",
			 inode->i_sb->s_type->name);
		if (p2pmap_check_add(ctx, pos, end - pos, 0,
				     P2PMAP_PATH_PAGECACHE,
				     P2PMAP_REASON_UNSUPPORTED_FS))
			c->next_offset = end;
		return 0;
	}

	while (pos < end) {
		struct p2pmap_extent ext = { };
		struct p2pmap_provider *provider;
		u32 path = P2PMAP_PATH_PAGECACHE, reason;
		u64 len, sector = 0;

		ret = ops->device_map(file, pos >> PAGE_SHIFT,
				      (end - pos) >> PAGE_SHIFT,
				      P2PMAP_MAP_PROBE, &ext);
		if (ret)
			break;
		len = min_t(u64, (u64)ext.npages << PAGE_SHIFT, end - pos);
		if (WARN_ON_ONCE(!len)) {
			ret = -EIO;
			break;
		}
		reason = ext.reason;
		if (reason == P2PMAP_REASON_NONE) {
			sector = ext.sector;
			provider = p2pmap_provider_find(ext.bdev);
			if (!provider) {
				reason = P2PMAP_REASON_NO_CMB;
			} else {
				strscpy(c->provider, provider->name,
					sizeof(c->provider));
				if (pdev && provider->ops->reach(provider, &pdev->dev,
								 c->why, sizeof(c->why)))
					reason = P2PMAP_REASON_NO_ROUTE;
				else
					path = P2PMAP_PATH_P2P;
				p2pmap_provider_put(provider);
			}
		}
		if (!p2pmap_check_add(ctx, pos, len, sector, path, reason))
			break;
		pos += len;
		c->next_offset = pos;
	}
	p2pmap_vm_ops_put(ops);
	return ret;
}

long p2pmap_ioc_check(void __user *uarg)
{
	struct p2pmap_check_ctx ctx = { };
	struct pci_dev *pdev = NULL;
	struct p2pmap_check c;
	struct fd f;
	long ret;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if (c.size != sizeof(c) || c.flags & ~P2PMAP_CHECK_DEVICE || c.__pad ||
	    memchr_inv(c.reserved, 0, sizeof(c.reserved)) || !c.length ||
	    c.offset + c.length < c.offset || !c.nr_extents ||
	    c.nr_extents > P2PMAP_CHECK_MAX_EXTENTS)
		return -EINVAL;

	f = fdget(c.fd);
	if (!f.file)
		return -EBADF;
	ret = -EBADF;
	if (!(f.file->f_mode & FMODE_READ))
		goto out_fdput;
	ret = -EINVAL;
	if (!S_ISREG(file_inode(f.file)->i_mode))
		goto out_fdput;

	if (c.flags & P2PMAP_CHECK_DEVICE) {
		/* pairs with pci_dev_put() below */
		pdev = pci_get_domain_bus_and_slot(c.device >> 16,
						   (c.device >> 8) & 0xff,
						   c.device & 0xff);
		ret = -ENODEV;
		if (!pdev)
			goto out_fdput;
	}

	ret = -ENOMEM;
	ctx.out = kvcalloc(c.nr_extents, sizeof(*ctx.out), GFP_KERNEL);
	if (!ctx.out)
		goto out_put_pdev;
	ctx.c = &c;
	memset(c.provider, 0, sizeof(c.provider));
	memset(c.why, 0, sizeof(c.why));

	ret = p2pmap_check_file(&ctx, f.file, pdev);
	if (ret)
		goto out_free;
	c.nr_extents = ctx.n;
	ret = -EFAULT;
	if (copy_to_user(u64_to_user_ptr(c.extents), ctx.out,
			 ctx.n * sizeof(*ctx.out)) ||
	    copy_to_user(uarg, &c, sizeof(c)))
		goto out_free;
	ret = 0;
out_free:
	kvfree(ctx.out);
out_put_pdev:
	pci_dev_put(pdev);
out_fdput:
	fdput(f);
	return ret;
}
