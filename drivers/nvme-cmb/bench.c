// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap nvme-cmb: the bare bio loop that `p2pmap bench` measures against.
 *
 *   /sys/kernel/debug/p2pmap-nvme-cmb/bench   (root, 0600)
 *
 * One write(2) runs one loop; read(2) on the same open file then returns
 * its result (from the start again after each write). The command, one line:
 *
 *   FD DEPTH BIO_BYTES PASSES [drain=PIECE_BYTES] SECTOR+NR [SECTOR+NR ...]
 *
 * FD is a descriptor of the writer's, open on a file of the file system
 * whose block device is read (the file only names the device and keeps it
 * alive); the ranges are 512-byte sectors relative to that device, page
 * aligned (FIEMAP's physical extents of the file being benchmarked). The
 * loop reads every range PASSES times, BIO_BYTES a bio, DEPTH bios in
 * flight, into the pages of one chunk of CMB memory: no cache lookup, no
 * LRU, no device mapping, no page cache — the rate at which the controller
 * can fill its own CMB in this machine, the limit of the staging engine.
 *
 * With drain=PIECE_BYTES the loop waits for every bio in flight after each
 * PIECE_BYTES of the ranges (and at the end of each pass), and no bio
 * straddles two pieces: the I/O of one device fault of a piece, one piece
 * at a time, with nothing of p2pmap around it. `p2pmap bench` reports the
 * map-and-stage rate against that loop too: what p2pmap itself adds to a
 * fault's I/O.
 *
 * The chunk is taken through the provider's own stage() (untimed) and
 * forgotten at once, so that no later stage finds the bytes the loop writes
 * into it; it is put when the loop ends. The result:
 *
 *   bytes N / ns N / bios N / errors N / chunk_bytes N / revoked 0|1 /
 *   drains N
 *
 * (drains: the waits for an empty queue that drain= made; 0 without it.)
 */
#define pr_fmt(fmt) "p2pmap-nvme-cmb: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "nvme-cmb.h"

#define NVME_CMB_BENCH_MAX_CMD		(64 * 1024)
#define NVME_CMB_BENCH_MAX_DEPTH	256
#define NVME_CMB_BENCH_MAX_PASSES	1024

/**
 * struct nvme_cmb_bench_range - one run of sectors to read
 * @sector: first sector, relative to the device.
 * @nr: sectors.
 */
struct nvme_cmb_bench_range {
	sector_t sector;
	sector_t nr;
};

/**
 * struct nvme_cmb_bench - one open bench file
 * @lock: protects @result and @result_len; held across a whole loop, so
 *	one open file runs one loop at a time.
 * @result: the last loop's result, as read(2) returns it.
 * @result_len: its length; 0 before the first loop.
 * @inflight: bios submitted and not completed.
 * @errors: bios that completed with an error.
 * @revoked: the provider took the chunk back: submit no more.
 * @wq: waits for @inflight.
 */
struct nvme_cmb_bench {
	struct mutex lock;	/* see @lock above */
	char result[192];
	size_t result_len;
	atomic_t inflight;
	atomic64_t errors;
	atomic_t revoked;
	wait_queue_head_t wq;
};

static void nvme_cmb_bench_end_io(struct bio *bio)
{
	struct nvme_cmb_bench *b = bio->bi_private;

	if (bio->bi_status)
		atomic64_inc(&b->errors);
	bio_put(bio);
	atomic_dec(&b->inflight);
	wake_up(&b->wq);
}

/* The provider needs the chunk back: stop submitting, drain, and let go. */
static void nvme_cmb_bench_revoke(struct p2pmap_chunk *chunk, void *priv,
				  enum p2pmap_revoke_cause cause)
{
	struct nvme_cmb_bench *b = priv;

	atomic_set(&b->revoked, 1);
	/* pairs with the barrier after the loop's atomic_inc(&b->inflight) */
	smp_mb__after_atomic();
	/* our bios write into the chunk's pages: none may be left */
	wait_event(b->wq, !atomic_read(&b->inflight));
}

/* Parse "SECTOR+NR" ranges; Return: how many, or a negative errno. */
static int nvme_cmb_bench_parse_ranges(char *p, struct nvme_cmb_bench_range *r,
				       int max, sector_t capacity)
{
	unsigned long long sector, nr;
	char *tok, *plus;
	int n = 0;

	while ((tok = strsep(&p, " \t\n"))) {
		if (!*tok)
			continue;
		if (n == max)
			return -E2BIG;
		plus = strchr(tok, '+');
		if (!plus)
			return -EINVAL;
		*plus = '\0';
		if (kstrtoull(tok, 0, &sector) || kstrtoull(plus + 1, 0, &nr))
			return -EINVAL;
		if (!nr || sector % (PAGE_SIZE >> SECTOR_SHIFT) ||
		    nr % (PAGE_SIZE >> SECTOR_SHIFT) ||
		    sector >= capacity || nr > capacity - sector)
			return -EINVAL;
		r[n].sector = sector;
		r[n].nr = nr;
		n++;
	}
	return n ? n : -EINVAL;
}

/* Wait until no bio is in flight, and count the wait in *@drains. */
static void nvme_cmb_bench_drain(struct nvme_cmb_bench *b, u64 *drains)
{
	wait_event(b->wq, !atomic_read(&b->inflight));
	(*drains)++;
}

/*
 * Read @nr ranges @passes times into @chunk's pages, @depth bios of at most
 * @bio_pages pages in flight; with @drain_pages, wait for none in flight
 * after each @drain_pages of the ranges and at the end of each pass.
 * Return: bytes read; *@bios, *@drains and *@ns filled.
 */
static u64 nvme_cmb_bench_loop(struct nvme_cmb_bench *b,
			       struct p2pmap_chunk *chunk,
			       const struct nvme_cmb_bench_range *r, int nr,
			       unsigned int passes, unsigned int depth,
			       unsigned int bio_pages, unsigned long drain_pages,
			       u64 *bios, u64 *drains, u64 *ns)
{
	unsigned int pass, n, pos = 0;
	unsigned long piece = 0;	/* pages of the current piece so far */
	sector_t sector, left;
	ktime_t start;
	struct bio *bio;
	u64 bytes = 0;
	int k;

	lockdep_assert_held(&b->lock);
	*bios = 0;
	*drains = 0;
	start = ktime_get();
	for (pass = 0; pass < passes; pass++) {
		for (k = 0; k < nr; k++) {
			sector = r[k].sector;
			left = r[k].nr;
			while (left) {
				wait_event(b->wq,
					   atomic_read(&b->inflight) < depth);
				/* counted before the check: revoke waits for it */
				atomic_inc(&b->inflight);
				/* pairs with the barrier in nvme_cmb_bench_revoke() */
				smp_mb__after_atomic();
				if (atomic_read(&b->revoked)) {
					atomic_dec(&b->inflight);
					wake_up(&b->wq);
					goto out_drain;
				}
				n = min_t(sector_t, left >> (PAGE_SHIFT - SECTOR_SHIFT),
					  bio_pages);
				if (drain_pages)	/* no bio across two pieces */
					n = min_t(unsigned long, n,
						  drain_pages - piece);
				if (pos + n > chunk->nr_pages)
					pos = 0;
				bio = bio_alloc(chunk->bdev, n, REQ_OP_READ,
						GFP_KERNEL);
				bio->bi_iter.bi_sector = sector;
				bio->bi_end_io = nvme_cmb_bench_end_io;
				bio->bi_private = b;
				/* as staging does: a bvec per contiguous run */
				nvme_cmb_bio_add_pages(bio, chunk->pages + pos, n);
				submit_bio(bio);
				(*bios)++;
				pos += n;
				sector += (sector_t)n << (PAGE_SHIFT - SECTOR_SHIFT);
				left -= (sector_t)n << (PAGE_SHIFT - SECTOR_SHIFT);
				bytes += (u64)n << PAGE_SHIFT;
				piece += n;
				if (drain_pages && piece == drain_pages) {
					nvme_cmb_bench_drain(b, drains);
					piece = 0;
				}
			}
		}
		if (drain_pages && piece)	/* a pass's last piece, shorter */
			nvme_cmb_bench_drain(b, drains);
		piece = 0;
	}
out_drain:
	wait_event(b->wq, !atomic_read(&b->inflight));
	*ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	return bytes;
}

/* Run the loop a command asks for; Return: 0 or a negative errno. */
static int nvme_cmb_bench_run(struct nvme_cmb_bench *b, char *cmd)
{
	struct p2pmap_owner owner = {
		.revoke = nvme_cmb_bench_revoke,
		.priv = b,
	};
	unsigned int fd, depth, passes, chunk_pages;
	unsigned long long drain_bytes = 0;
	struct nvme_cmb_bench_range *ranges;
	struct p2pmap_provider *provider;
	struct block_device *bdev;
	struct p2pmap_chunk *chunk;
	unsigned long long bio_bytes;
	u64 bytes, bios, drains, ns;
	sector_t capacity, start;
	struct file *file;
	char *p = cmd;
	int nr, ret;

	lockdep_assert_held(&b->lock);
	if (kstrtouint(strsep(&p, " ") ?: "", 0, &fd) ||
	    kstrtouint(strsep(&p, " ") ?: "", 0, &depth) ||
	    kstrtoull(strsep(&p, " ") ?: "", 0, &bio_bytes) ||
	    kstrtouint(strsep(&p, " ") ?: "", 0, &passes) || !p)
		return -EINVAL;
	if (str_has_prefix(p, "drain=")) {
		if (kstrtoull(strsep(&p, " ") + strlen("drain="), 0,
			      &drain_bytes) || !p || !drain_bytes ||
		    drain_bytes % PAGE_SIZE || drain_bytes > SZ_1G)
			return -EINVAL;
	}
	if (!depth || depth > NVME_CMB_BENCH_MAX_DEPTH || !bio_bytes ||
	    bio_bytes % PAGE_SIZE || bio_bytes > BIO_MAX_VECS * PAGE_SIZE ||
	    !passes || passes > NVME_CMB_BENCH_MAX_PASSES)
		return -EINVAL;

	file = fget(fd);
	if (!file)
		return -EBADF;
	/* the superblock, and so its device, lives while we hold the file */
	bdev = file_inode(file)->i_sb->s_bdev;
	if (!bdev) {
		ret = -ENOTBLK;
		goto out_fput;
	}
	capacity = bdev_nr_sectors(bdev);
	ranges = kvmalloc_array(NVME_CMB_BENCH_MAX_CMD / 4, sizeof(*ranges),
				GFP_KERNEL);
	if (!ranges) {
		ret = -ENOMEM;
		goto out_fput;
	}
	nr = nvme_cmb_bench_parse_ranges(p, ranges, NVME_CMB_BENCH_MAX_CMD / 4,
					 capacity);
	if (nr < 0) {
		ret = nr;
		goto out_free_ranges;
	}

	provider = p2pmap_provider_find(bdev);
	if (!provider) {
		ret = -ENODEV;
		goto out_free_ranges;
	}
	if (provider->owner != THIS_MODULE) {
		ret = -ENODEV;
		goto out_provider_put;
	}

	/* DEPTH bios' worth of pages, aligned down to the device's end */
	chunk_pages = depth * (unsigned int)(bio_bytes >> PAGE_SHIFT);
	if (((u64)chunk_pages << (PAGE_SHIFT - SECTOR_SHIFT)) > capacity) {
		ret = -EINVAL;
		goto out_provider_put;
	}
	atomic_set(&b->inflight, 0);
	atomic64_set(&b->errors, 0);
	atomic_set(&b->revoked, 0);
	start = min_t(sector_t, ranges[0].sector,
		      capacity - ((sector_t)chunk_pages <<
				  (PAGE_SHIFT - SECTOR_SHIFT)));
	start = round_down(start, PAGE_SIZE >> SECTOR_SHIFT);
	chunk = provider->ops->stage(provider, bdev, start, chunk_pages, 0,
				     &owner);
	if (IS_ERR(chunk)) {
		ret = PTR_ERR(chunk);
		goto out_provider_put;
	}
	/* the loop overwrites the staged bytes: no one may find them again */
	provider->ops->forget(chunk);

	bytes = nvme_cmb_bench_loop(b, chunk, ranges, nr, passes, depth,
				    bio_bytes >> PAGE_SHIFT,
				    drain_bytes >> PAGE_SHIFT, &bios, &drains,
				    &ns);
	b->result_len = scnprintf(b->result, sizeof(b->result),
				  "bytes %llu\nns %llu\nbios %llu\nerrors %lld\nchunk_bytes %llu\nrevoked %d\ndrains %llu\n",
				  bytes, ns, bios, atomic64_read(&b->errors),
				  (u64)chunk_pages << PAGE_SHIFT,
				  atomic_read(&b->revoked), drains);
	p2pmap_chunk_put(chunk);
	ret = 0;

out_provider_put:
	p2pmap_provider_put(provider);
out_free_ranges:
	kvfree(ranges);
out_fput:
	fput(file);
	return ret;
}

static int nvme_cmb_bench_open(struct inode *inode, struct file *file)
{
	struct nvme_cmb_bench *b;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	mutex_init(&b->lock);
	init_waitqueue_head(&b->wq);
	file->private_data = b;
	return nonseekable_open(inode, file);
}

static int nvme_cmb_bench_release(struct inode *inode, struct file *file)
{
	struct nvme_cmb_bench *b = file->private_data;

	mutex_destroy(&b->lock);
	kfree(b);
	return 0;
}

static ssize_t nvme_cmb_bench_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	struct nvme_cmb_bench *b = file->private_data;
	char *cmd;
	int ret;

	if (!len || len >= NVME_CMB_BENCH_MAX_CMD)
		return -EINVAL;
	cmd = memdup_user_nul(ubuf, len);
	if (IS_ERR(cmd))
		return PTR_ERR(cmd);
	mutex_lock(&b->lock);
	b->result_len = 0;
	*ppos = 0;	/* the next read(2) returns this loop's result */
	ret = nvme_cmb_bench_run(b, strim(cmd));
	mutex_unlock(&b->lock);
	kfree(cmd);
	return ret ? ret : len;
}

static ssize_t nvme_cmb_bench_read(struct file *file, char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	struct nvme_cmb_bench *b = file->private_data;
	ssize_t ret;

	mutex_lock(&b->lock);
	if (!b->result_len)
		ret = -ENODATA;
	else
		ret = simple_read_from_buffer(ubuf, len, ppos, b->result,
					      b->result_len);
	mutex_unlock(&b->lock);
	return ret;
}

static const struct file_operations nvme_cmb_bench_fops = {
	.owner		= THIS_MODULE,
	.open		= nvme_cmb_bench_open,
	.release	= nvme_cmb_bench_release,
	.write		= nvme_cmb_bench_write,
	.read		= nvme_cmb_bench_read,
	.llseek		= no_llseek,
};

/**
 * nvme_cmb_bench_init() - create the bench file
 * @root: the module's debugfs directory.
 *
 * Context: module init.
 */
void nvme_cmb_bench_init(struct dentry *root)
{
	debugfs_create_file("bench", 0600, root, NULL, &nvme_cmb_bench_fops);
}
