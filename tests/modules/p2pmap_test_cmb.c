// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only driver of a p2pmap provider (drivers/nvme-cmb), for guest tests:
 * /dev/p2pmap_test_cmb opens a block device, stages ranges (one or a batch)
 * into chunks held in numbered slots, reads and writes their bytes with the
 * CPU or reads them by DMA with QEMU's edu device from the chunk's bus
 * address, puts them, syncs, asks reach(), and records every revoke
 * callback with its cause. ABI: p2pmap_test_cmb.h.
 */
#define pr_fmt(fmt) "p2pmap_test_cmb: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/p2pmap.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "p2pmap_test_cmb.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	0x1
#define EDU_DMA_TO_BUS	0x2
#define EDU_BUFFER	0x40000
#define EDU_DMA_MAX	2048

struct test_slot {
	struct p2pmap_chunk *chunk;	/* LIVE: the chunk */
	u32 state;
	u32 cause;
	bool pinned;			/* a provider call on it is running */
	bool keep;			/* revoked: put only at PUT (KEEP) */
	struct p2pmap_chunk *put_later;	/* revoked while pinned */
};

struct test_early {
	struct p2pmap_chunk *chunk;	/* revoked before it got a slot */
	u32 cause;
};

struct test_ctx {
	struct mutex ioctl_lock;	/* one ioctl at a time */
	struct rw_semaphore io_sem;	/* CPU/DMA access to chunks vs revoke and put */
	spinlock_t lock;		/* @slots, @early, @nr_early, @revokes */
	struct test_slot *slots;
	struct test_early early[2 * P2PMAP_TEST_CMB_BATCH_MAX];
	unsigned int nr_early;
	u64 revokes[P2PMAP_REVOKE_COUNT];
	struct block_device *bdev;
	struct p2pmap_owner owner;
};

static void test_revoke(struct p2pmap_chunk *chunk, void *priv,
			enum p2pmap_revoke_cause cause)
{
	struct test_ctx *ctx = priv;
	bool found = false;
	unsigned int i;

	down_write(&ctx->io_sem);	/* no CPU or edu access to it any more */
	spin_lock(&ctx->lock);
	if (cause < P2PMAP_REVOKE_COUNT)
		ctx->revokes[cause]++;
	for (i = 0; i < P2PMAP_TEST_CMB_SLOTS; i++) {
		if (ctx->slots[i].state == P2PMAP_TEST_CMB_LIVE &&
		    ctx->slots[i].chunk == chunk) {
			ctx->slots[i].state = P2PMAP_TEST_CMB_REVOKED;
			ctx->slots[i].cause = cause;
			ctx->slots[i].chunk = NULL;
			found = true;
			if (ctx->slots[i].pinned || ctx->slots[i].keep) {
				/* the pinner, or PUT (KEEP), puts it */
				ctx->slots[i].put_later = chunk;
				found = false;
				chunk = NULL;
			}
			break;
		}
	}
	if (!found && chunk &&
	    !WARN_ON_ONCE(ctx->nr_early >= ARRAY_SIZE(ctx->early))) {
		/* staged by the ioctl in progress: put when it assigns slots */
		ctx->early[ctx->nr_early].chunk = chunk;
		ctx->early[ctx->nr_early].cause = cause;
		ctx->nr_early++;
	}
	spin_unlock(&ctx->lock);
	up_write(&ctx->io_sem);
	if (found)
		p2pmap_chunk_put(chunk);
}

/* Give @chunk a slot (or put it if it was revoked meanwhile); return the slot. */
static int test_assign(struct test_ctx *ctx, struct p2pmap_chunk *chunk,
		       bool keep)
{
	unsigned int i;
	int slot = -ENOSPC;
	bool revoked = false;
	u32 cause = 0;

	spin_lock(&ctx->lock);
	for (i = 0; i < ctx->nr_early; i++) {
		if (ctx->early[i].chunk == chunk) {
			revoked = true;
			cause = ctx->early[i].cause;
			ctx->early[i] = ctx->early[--ctx->nr_early];
			break;
		}
	}
	for (i = 0; i < P2PMAP_TEST_CMB_SLOTS; i++) {
		if (ctx->slots[i].state == P2PMAP_TEST_CMB_FREE) {
			ctx->slots[i].state = revoked ? P2PMAP_TEST_CMB_REVOKED :
							P2PMAP_TEST_CMB_LIVE;
			ctx->slots[i].chunk = revoked ? NULL : chunk;
			ctx->slots[i].cause = cause;
			ctx->slots[i].keep = keep;
			slot = i;
			break;
		}
	}
	spin_unlock(&ctx->lock);
	if (revoked || slot < 0)
		p2pmap_chunk_put(chunk);
	return slot;
}

static struct p2pmap_provider *test_provider(struct test_ctx *ctx)
{
	return ctx->bdev ? p2pmap_provider_find(ctx->bdev) : NULL;
}

static long test_open_bdev(struct test_ctx *ctx, void __user *uarg)
{
	struct p2pmap_test_cmb_open o;
	struct p2pmap_provider *provider;
	struct block_device *bdev;
	char *path;

	if (copy_from_user(&o, uarg, sizeof(o)))
		return -EFAULT;
	if (ctx->bdev)
		return -EBUSY;
	path = strndup_user(u64_to_user_ptr(o.path), PATH_MAX);
	if (IS_ERR(path))
		return PTR_ERR(path);
	bdev = blkdev_get_by_path(path, FMODE_READ | FMODE_WRITE, ctx);
	kfree(path);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	provider = p2pmap_provider_find(bdev);
	if (!provider) {
		blkdev_put(bdev, FMODE_READ | FMODE_WRITE);
		return -ENODEV;
	}
	strscpy(o.name, provider->name, sizeof(o.name));
	p2pmap_provider_put(provider);
	ctx->bdev = bdev;
	if (copy_to_user(uarg, &o, sizeof(o)))
		return -EFAULT;
	return 0;
}

static void test_batch_done(struct p2pmap_stage_batch *batch)
{
	complete(batch->priv);
}

/* Stage @n ranges as one batch; fills in slot, error and bus address. */
static int test_stage_many(struct test_ctx *ctx,
			   struct p2pmap_test_cmb_stage *st, unsigned int n,
			   unsigned int flags)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct p2pmap_stage_batch batch = {};
	const bool keep = flags & P2PMAP_TEST_CMB_KEEP;
	struct p2pmap_provider *provider;
	struct p2pmap_stage_req *reqs;
	unsigned int i;
	int ret, slot;

	flags &= ~P2PMAP_TEST_CMB_KEEP;
	provider = test_provider(ctx);
	if (!provider)
		return -ENODEV;
	reqs = kvcalloc(n, sizeof(*reqs), GFP_KERNEL);
	if (!reqs) {
		ret = -ENOMEM;
		goto out_provider_put;
	}
	for (i = 0; i < n; i++) {
		reqs[i].bdev = ctx->bdev;
		reqs[i].sector = st[i].sector;
		reqs[i].nr_pages = st[i].nr_pages;
	}
	batch.reqs = reqs;
	batch.nr_reqs = n;
	batch.flags = flags;
	batch.owner = &ctx->owner;
	batch.done = test_batch_done;
	batch.priv = &done;
	if (provider->ops->stage_batch) {
		ret = provider->ops->stage_batch(provider, &batch);
		if (ret)
			goto out_free;
		wait_for_completion(&done);
	} else {
		for (i = 0; i < n; i++) {
			struct p2pmap_chunk *c;

			c = provider->ops->stage(provider, ctx->bdev,
						 reqs[i].sector,
						 reqs[i].nr_pages, flags,
						 &ctx->owner);
			reqs[i].chunk = IS_ERR(c) ? NULL : c;
			reqs[i].error = IS_ERR(c) ? PTR_ERR(c) : 0;
		}
	}
	ret = 0;
	for (i = 0; i < n; i++) {
		st[i].error = reqs[i].error;
		st[i].slot = ~0U;
		st[i].bus_addr = 0;
		if (reqs[i].error)
			continue;
		st[i].bus_addr = reqs[i].chunk->bus_addr;
		slot = test_assign(ctx, reqs[i].chunk, keep);
		if (slot < 0)
			st[i].error = slot;
		else
			st[i].slot = slot;
	}
out_free:
	kvfree(reqs);
out_provider_put:
	p2pmap_provider_put(provider);
	return ret;
}

static long test_stage(struct test_ctx *ctx, void __user *uarg)
{
	struct p2pmap_test_cmb_stage st;
	int ret;

	if (copy_from_user(&st, uarg, sizeof(st)))
		return -EFAULT;
	ret = test_stage_many(ctx, &st, 1, st.flags);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &st, sizeof(st)))
		return -EFAULT;
	return 0;
}

static long test_batch(struct test_ctx *ctx, void __user *uarg)
{
	struct p2pmap_test_cmb_stage *st;
	struct p2pmap_test_cmb_batch b;
	size_t size;
	long ret;

	if (copy_from_user(&b, uarg, sizeof(b)))
		return -EFAULT;
	if (!b.nr || b.nr > P2PMAP_TEST_CMB_BATCH_MAX)
		return -EINVAL;
	size = b.nr * sizeof(*st);
	st = vmemdup_user(u64_to_user_ptr(b.reqs), size);
	if (IS_ERR(st))
		return PTR_ERR(st);
	ret = test_stage_many(ctx, st, b.nr, b.flags);
	if (!ret && copy_to_user(u64_to_user_ptr(b.reqs), st, size))
		ret = -EFAULT;
	kvfree(st);
	return ret;
}

/* DMA @len bytes between the edu buffer and @bus; @to_bus: buffer -> bus. */
static int test_edu_dma(void __iomem *regs, u64 bus, u32 len, bool to_bus)
{
	unsigned int i;

	writeq(to_bus ? EDU_BUFFER : bus, regs + EDU_DMA_SRC);
	writeq(to_bus ? bus : EDU_BUFFER, regs + EDU_DMA_DST);
	writeq(len, regs + EDU_DMA_COUNT);
	writeq(EDU_DMA_RUN | (to_bus ? EDU_DMA_TO_BUS : 0), regs + EDU_DMA_CMD);
	for (i = 0; i < 150; i++) {	/* ~100 ms per DMA in QEMU */
		if (!(readq(regs + EDU_DMA_CMD) & EDU_DMA_RUN))
			return 0;
		msleep(20);
	}
	return -ETIMEDOUT;
}

/* Read @len bytes at bus address @bus with the edu device into @buf. */
static int test_edu_read(u64 bus, void *buf, u32 len)
{
	struct pci_dev *edu;
	void __iomem *regs;
	dma_addr_t dma;
	u32 off, n;
	int ret;

	/* the first edu no driver is bound to (dummy-gpu may drive one) */
	for (edu = NULL, ret = -ENODEV;
	     (edu = pci_get_device(EDU_VENDOR, EDU_DEVICE, edu)); ret = -EBUSY) {
		device_lock(&edu->dev);
		if (!edu->dev.driver)
			break;
		device_unlock(&edu->dev);
	}
	if (!edu)
		return ret;
	ret = pci_enable_device(edu);
	if (ret)
		goto out_unlock;
	ret = pci_request_region(edu, 0, "p2pmap_test_cmb");
	if (ret)
		goto out_disable;
	regs = pci_iomap(edu, 0, 0);
	if (!regs) {
		ret = -ENOMEM;
		goto out_release;
	}
	pci_set_master(edu);
	ret = dma_set_mask_and_coherent(&edu->dev, DMA_BIT_MASK(64));
	if (ret)
		goto out_iounmap;
	dma = dma_map_single(&edu->dev, buf, len, DMA_FROM_DEVICE);
	ret = dma_mapping_error(&edu->dev, dma);
	if (ret)
		goto out_iounmap;
	/* QEMU's edu refuses (aborts on) a DMA reaching its buffer's last byte */
	for (off = 0; !ret && off < len; off += n) {
		n = min_t(u32, len - off, EDU_DMA_MAX);
		/* CMB -> edu buffer: a peer-to-peer read of the CMB */
		ret = test_edu_dma(regs, bus + off, n, false);
		/* edu buffer -> RAM */
		if (!ret)
			ret = test_edu_dma(regs, dma + off, n, true);
	}
	dma_unmap_single(&edu->dev, dma, len, DMA_FROM_DEVICE);
out_iounmap:
	pci_clear_master(edu);
	pci_iounmap(edu, regs);
out_release:
	pci_release_region(edu, 0);
out_disable:
	pci_disable_device(edu);
out_unlock:
	device_unlock(&edu->dev);
	pci_dev_put(edu);
	return ret;
}

static long test_io(struct test_ctx *ctx, void __user *uarg, bool write)
{
	struct p2pmap_test_cmb_io io;
	struct p2pmap_chunk *chunk;
	u64 off, end, n;
	void *buf = NULL;
	long ret = 0;

	if (copy_from_user(&io, uarg, sizeof(io)))
		return -EFAULT;
	if (io.slot >= P2PMAP_TEST_CMB_SLOTS || !io.len ||
	    io.how > P2PMAP_TEST_CMB_EDU || (write && io.how != P2PMAP_TEST_CMB_CPU))
		return -EINVAL;
	if (io.how == P2PMAP_TEST_CMB_EDU &&
	    (io.len > PAGE_SIZE || (io.offset & ~PAGE_MASK) + io.len > PAGE_SIZE))
		return -EINVAL;
	if (io.how == P2PMAP_TEST_CMB_EDU) {
		buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
	}

	down_read(&ctx->io_sem);
	spin_lock(&ctx->lock);
	chunk = ctx->slots[io.slot].state == P2PMAP_TEST_CMB_LIVE ?
		ctx->slots[io.slot].chunk : NULL;
	spin_unlock(&ctx->lock);
	if (!chunk) {
		ret = ctx->slots[io.slot].state == P2PMAP_TEST_CMB_REVOKED ?
		      -EIO : -ENOENT;
		goto out_up;
	}
	if (io.offset >= (u64)chunk->nr_pages << PAGE_SHIFT ||
	    io.len > ((u64)chunk->nr_pages << PAGE_SHIFT) - io.offset) {
		ret = -EINVAL;
		goto out_up;
	}
	if (io.how == P2PMAP_TEST_CMB_EDU) {
		ret = test_edu_read(chunk->bus_addr + io.offset, buf, io.len);
		if (!ret && copy_to_user(u64_to_user_ptr(io.buf), buf, io.len))
			ret = -EFAULT;
		goto out_up;
	}
	for (off = io.offset, end = io.offset + io.len; off < end; off += n) {
		void *va = page_address(chunk->pages[off >> PAGE_SHIFT]) +
			   (off & ~PAGE_MASK);
		void __user *u = u64_to_user_ptr(io.buf + (off - io.offset));

		n = min_t(u64, end - off, PAGE_SIZE - (off & ~PAGE_MASK));
		if (write ? copy_from_user(va, u, n) : copy_to_user(u, va, n)) {
			ret = -EFAULT;
			break;
		}
	}
out_up:
	up_read(&ctx->io_sem);
	kfree(buf);
	return ret;
}

static long test_put(struct test_ctx *ctx, void __user *uarg)
{
	struct p2pmap_chunk *chunk = NULL, *put_later;
	u32 slot;

	if (get_user(slot, (u32 __user *)uarg))
		return -EFAULT;
	if (slot >= P2PMAP_TEST_CMB_SLOTS)
		return -EINVAL;
	down_write(&ctx->io_sem);
	spin_lock(&ctx->lock);
	if (ctx->slots[slot].state == P2PMAP_TEST_CMB_LIVE)
		chunk = ctx->slots[slot].chunk;
	put_later = ctx->slots[slot].put_later;	/* revoked, KEEP */
	ctx->slots[slot].put_later = NULL;
	if (ctx->slots[slot].state != P2PMAP_TEST_CMB_FREE) {
		ctx->slots[slot].state = P2PMAP_TEST_CMB_FREE;
		ctx->slots[slot].chunk = NULL;
		ctx->slots[slot].keep = false;
	} else {
		slot = ~0U;
	}
	spin_unlock(&ctx->lock);
	up_write(&ctx->io_sem);
	if (chunk)
		p2pmap_chunk_put(chunk);
	if (put_later)
		p2pmap_chunk_put(put_later);
	return slot == ~0U ? -ENOENT : 0;
}

/* The blocks of a slot's chunk changed: forget it (the slot keeps it). */
static long test_forget(struct test_ctx *ctx, void __user *uarg)
{
	struct p2pmap_chunk *chunk = NULL, *put_later;
	bool has_forget;
	u32 slot;

	if (get_user(slot, (u32 __user *)uarg))
		return -EFAULT;
	if (slot >= P2PMAP_TEST_CMB_SLOTS)
		return -EINVAL;
	/*
	 * Pinned, not io_sem: forget revokes the extent's other holders, which
	 * may be slots of this file (test_revoke takes io_sem for writing).
	 */
	spin_lock(&ctx->lock);
	if (ctx->slots[slot].state == P2PMAP_TEST_CMB_LIVE) {
		chunk = ctx->slots[slot].chunk;
		ctx->slots[slot].pinned = true;
	}
	spin_unlock(&ctx->lock);
	if (!chunk)
		return -ENOENT;
	has_forget = chunk->provider->ops->forget;
	if (has_forget)
		chunk->provider->ops->forget(chunk);
	spin_lock(&ctx->lock);
	ctx->slots[slot].pinned = false;
	put_later = ctx->slots[slot].put_later;
	ctx->slots[slot].put_later = NULL;
	spin_unlock(&ctx->lock);
	if (put_later)
		p2pmap_chunk_put(put_later);
	return has_forget ? 0 : -EOPNOTSUPP;
}

static long test_status(struct test_ctx *ctx, void __user *uarg)
{
	struct p2pmap_test_cmb_status s;
	unsigned int i;

	if (copy_from_user(&s, uarg, sizeof(s)))
		return -EFAULT;
	if (s.slot >= P2PMAP_TEST_CMB_SLOTS)
		return -EINVAL;
	memset(s.revokes, 0, sizeof(s.revokes));
	s.live = 0;
	s.revoked = 0;
	spin_lock(&ctx->lock);
	for (i = 0; i < P2PMAP_REVOKE_COUNT; i++)
		s.revokes[i] = ctx->revokes[i];
	for (i = 0; i < P2PMAP_TEST_CMB_SLOTS; i++) {
		s.live += ctx->slots[i].state == P2PMAP_TEST_CMB_LIVE;
		s.revoked += ctx->slots[i].state == P2PMAP_TEST_CMB_REVOKED;
	}
	s.slot_state = ctx->slots[s.slot].state;
	s.slot_cause = ctx->slots[s.slot].cause;
	spin_unlock(&ctx->lock);
	if (copy_to_user(uarg, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}

static long test_sync(struct test_ctx *ctx)
{
	struct p2pmap_provider *provider = test_provider(ctx);
	long ret;

	if (!provider)
		return -ENODEV;
	ret = provider->ops->sync ? provider->ops->sync(provider, ctx->bdev) :
				    -EOPNOTSUPP;
	p2pmap_provider_put(provider);
	return ret;
}

static long test_reach(struct test_ctx *ctx, void __user *uarg)
{
	struct p2pmap_test_cmb_reach r;
	struct p2pmap_provider *provider;
	struct pci_dev *client = NULL;
	struct device *dev;
	char *name;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	r.pci[sizeof(r.pci) - 1] = 0;
	provider = test_provider(ctx);
	if (!provider)
		return -ENODEV;
	if (r.pci[0]) {
		name = r.pci;
		dev = bus_find_device_by_name(&pci_bus_type, NULL, name);
		client = dev ? to_pci_dev(dev) : NULL;
	} else {
		client = pci_get_device(EDU_VENDOR, EDU_DEVICE, NULL);
	}
	if (!client) {
		p2pmap_provider_put(provider);
		return -ENODEV;
	}
	memset(r.why, 0, sizeof(r.why));
	r.result = provider->ops->reach(provider, &client->dev, r.why,
					sizeof(r.why));
	strscpy(r.pci, pci_name(client), sizeof(r.pci));
	pci_dev_put(client);
	p2pmap_provider_put(provider);
	if (copy_to_user(uarg, &r, sizeof(r)))
		return -EFAULT;
	return 0;
}

struct test_bioloop {
	atomic_t inflight;
	atomic64_t errors;
	wait_queue_head_t wq;
};

static void test_bioloop_end_io(struct bio *bio)
{
	struct test_bioloop *loop = bio->bi_private;

	if (bio->bi_status)
		atomic64_inc(&loop->errors);
	bio_put(bio);
	atomic_dec(&loop->inflight);
	wake_up(&loop->wq);
}

/* The baseline of the benchmark: bios straight into CMB pages, no engine. */
static long test_bioloop(struct test_ctx *ctx, void __user *uarg)
{
	struct p2pmap_test_cmb_bioloop b;
	struct test_bioloop loop;
	struct p2pmap_chunk *chunk;
	u64 done, chunk_bytes, pos;
	unsigned int i, n;
	struct bio *bio;
	ktime_t start;
	long ret = 0;

	if (copy_from_user(&b, uarg, sizeof(b)))
		return -EFAULT;
	if (b.slot >= P2PMAP_TEST_CMB_SLOTS || !b.depth || b.depth > 256 ||
	    !b.bio_bytes || b.bio_bytes % PAGE_SIZE ||
	    b.bio_bytes > BIO_MAX_VECS * PAGE_SIZE)
		return -EINVAL;
	atomic_set(&loop.inflight, 0);
	atomic64_set(&loop.errors, 0);
	init_waitqueue_head(&loop.wq);

	down_read(&ctx->io_sem);
	spin_lock(&ctx->lock);
	chunk = ctx->slots[b.slot].state == P2PMAP_TEST_CMB_LIVE ?
		ctx->slots[b.slot].chunk : NULL;
	spin_unlock(&ctx->lock);
	if (!chunk) {
		ret = -ENOENT;
		goto out_up;
	}
	chunk_bytes = (u64)chunk->nr_pages << PAGE_SHIFT;
	if (chunk_bytes % b.bio_bytes) {
		ret = -EINVAL;
		goto out_up;
	}
	start = ktime_get();
	for (done = 0; done < b.total_bytes; done += b.bio_bytes) {
		wait_event(loop.wq, atomic_read(&loop.inflight) < b.depth);
		pos = done % chunk_bytes;
		n = b.bio_bytes >> PAGE_SHIFT;
		bio = bio_alloc(ctx->bdev, n, REQ_OP_READ, GFP_KERNEL);
		bio->bi_iter.bi_sector = chunk->sector + (pos >> SECTOR_SHIFT);
		bio->bi_end_io = test_bioloop_end_io;
		bio->bi_private = &loop;
		for (i = 0; i < n; i++)
			bio_add_page(bio, chunk->pages[(pos >> PAGE_SHIFT) + i],
				     PAGE_SIZE, 0);
		atomic_inc(&loop.inflight);
		submit_bio(bio);
	}
	wait_event(loop.wq, !atomic_read(&loop.inflight));
	b.ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	b.errors = atomic64_read(&loop.errors);
out_up:
	up_read(&ctx->io_sem);
	if (!ret && copy_to_user(uarg, &b, sizeof(b)))
		ret = -EFAULT;
	return ret;
}

/* Put every chunk and close the device. */
static void test_close(struct test_ctx *ctx)
{
	struct p2pmap_chunk *chunk, *put_later;
	unsigned int i;

	for (i = 0; i < P2PMAP_TEST_CMB_SLOTS; i++) {
		down_write(&ctx->io_sem);
		spin_lock(&ctx->lock);
		chunk = ctx->slots[i].state == P2PMAP_TEST_CMB_LIVE ?
			ctx->slots[i].chunk : NULL;
		put_later = ctx->slots[i].put_later;
		ctx->slots[i].put_later = NULL;
		ctx->slots[i].state = P2PMAP_TEST_CMB_FREE;
		ctx->slots[i].chunk = NULL;
		ctx->slots[i].keep = false;
		spin_unlock(&ctx->lock);
		up_write(&ctx->io_sem);
		if (chunk)
			p2pmap_chunk_put(chunk);
		if (put_later)
			p2pmap_chunk_put(put_later);
	}
	WARN_ON_ONCE(ctx->nr_early);
	if (ctx->bdev)
		blkdev_put(ctx->bdev, FMODE_READ | FMODE_WRITE);
	ctx->bdev = NULL;
}

static long test_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct test_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	mutex_lock(&ctx->ioctl_lock);
	if (cmd != P2PMAP_TEST_CMB_OPEN && cmd != P2PMAP_TEST_CMB_STATUS &&
	    !ctx->bdev) {
		ret = -EBADFD;
		goto out_unlock;
	}
	switch (cmd) {
	case P2PMAP_TEST_CMB_OPEN:
		ret = test_open_bdev(ctx, uarg);
		break;
	case P2PMAP_TEST_CMB_STAGE:
		ret = test_stage(ctx, uarg);
		break;
	case P2PMAP_TEST_CMB_BATCH:
		ret = test_batch(ctx, uarg);
		break;
	case P2PMAP_TEST_CMB_READ:
		ret = test_io(ctx, uarg, false);
		break;
	case P2PMAP_TEST_CMB_WRITE:
		ret = test_io(ctx, uarg, true);
		break;
	case P2PMAP_TEST_CMB_PUT:
		ret = test_put(ctx, uarg);
		break;
	case P2PMAP_TEST_CMB_STATUS:
		ret = test_status(ctx, uarg);
		break;
	case P2PMAP_TEST_CMB_SYNC:
		ret = test_sync(ctx);
		break;
	case P2PMAP_TEST_CMB_REACH:
		ret = test_reach(ctx, uarg);
		break;
	case P2PMAP_TEST_CMB_FORGET:
		ret = test_forget(ctx, uarg);
		break;
	case P2PMAP_TEST_CMB_BIOLOOP:
		ret = test_bioloop(ctx, uarg);
		break;
	case P2PMAP_TEST_CMB_CLOSE:
		test_close(ctx);
		ret = 0;
		break;
	default:
		ret = -ENOTTY;
	}
out_unlock:
	mutex_unlock(&ctx->ioctl_lock);
	return ret;
}

static int test_fop_open(struct inode *inode, struct file *file)
{
	struct test_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->slots = kvcalloc(P2PMAP_TEST_CMB_SLOTS, sizeof(*ctx->slots),
			      GFP_KERNEL);
	if (!ctx->slots) {
		kfree(ctx);
		return -ENOMEM;
	}
	mutex_init(&ctx->ioctl_lock);
	init_rwsem(&ctx->io_sem);
	spin_lock_init(&ctx->lock);
	ctx->owner.revoke = test_revoke;
	ctx->owner.priv = ctx;
	file->private_data = ctx;
	return 0;
}

static int test_fop_release(struct inode *inode, struct file *file)
{
	struct test_ctx *ctx = file->private_data;

	test_close(ctx);
	kvfree(ctx->slots);
	kfree(ctx);
	return 0;
}

static const struct file_operations test_fops = {
	.owner		= THIS_MODULE,
	.open		= test_fop_open,
	.release	= test_fop_release,
	.unlocked_ioctl	= test_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice test_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "p2pmap_test_cmb",
	.fops	= &test_fops,
	.mode	= 0600,
};

module_misc_device(test_misc);

MODULE_DESCRIPTION("p2pmap: test driver of the nvme-cmb provider (test only)");
MODULE_LICENSE("GPL");
