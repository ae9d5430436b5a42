// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_dgpu: jobs. A job copies between two objects or checksums one, on
 * one engine, in a work item of the device's queue, a page piece at a
 * time: prepare (fault) the pages, pin them, let the engine move the bytes,
 * unpin. A job holds references to its objects until it ends, and the open
 * file holds the job until user space waits for it (or closes the file,
 * which cancels it).
 */
#define pr_fmt(fmt) "p2pmap_dgpu: " fmt

#include <linux/crc32.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <drm/drm_drv.h>

#include "dgpu.h"

/* prepare-and-pin attempts per page before the job gives up with -EBUSY */
#define DGPU_PIN_TRIES		64

/**
 * struct dgpu_job - one submitted job
 * @ref: references: the file's (its id in dgpu_file.jobs), the worker's
 *	while it runs, a waiter's while it waits.
 * @work: runs the job on @dgpu's queue.
 * @dgpu: the device.
 * @engine: the engine it runs on.
 * @op: enum p2pmap_dgpu_op.
 * @src: the object read, referenced until the job ends.
 * @dst: the object written (NULL for a checksum), referenced likewise.
 * @src_offset: first byte read.
 * @dst_offset: first byte written.
 * @length: bytes.
 * @cancel: set to stop the job at its next page piece.
 * @done: completed (for good) when @result is final.
 * @stats: the counters while it runs.
 * @result: what it did; read-only once @done.
 */
struct dgpu_job {
	struct kref ref;
	struct work_struct work;
	struct dgpu_device *dgpu;
	struct dgpu_engine *engine;
	u32 op;
	struct dgpu_obj *src;
	struct dgpu_obj *dst;
	u64 src_offset;
	u64 dst_offset;
	u64 length;
	atomic_t cancel;
	struct completion done;
	struct dgpu_job_stats stats;
	struct drm_p2pmap_dgpu_result result;
};

static void dgpu_job_release(struct kref *ref)
{
	struct dgpu_job *job = container_of(ref, struct dgpu_job, ref);

	/* objects are dropped when the job ends, or here if it never ran */
	if (job->src)
		drm_gem_object_put(&job->src->base);
	if (job->dst)
		drm_gem_object_put(&job->dst->base);
	kfree(job);
}

static u64 dgpu_job_invalidations(struct dgpu_job *job)
{
	u64 n = job->src->ops->invalidations(job->src);

	if (job->dst && job->dst != job->src)
		n += job->dst->ops->invalidations(job->dst);
	return n;
}

/*
 * Make the source page (and the destination page) of one piece reachable
 * and pin them. Faults happen with no pin held; a page taken back between
 * the fault and the pin is simply faulted again. On success an exclusive
 * engine is held too, until dgpu_job_unpin().
 */
static int dgpu_job_pin(struct dgpu_job *job, u64 pos, struct dgpu_span *src,
			struct dgpu_span *dst)
{
	u64 soff = job->src_offset + pos, doff = job->dst_offset + pos;
	/* each page is counted once: at its first byte, or the job's */
	bool count_src = !pos || !offset_in_page(soff);
	bool count_dst = !pos || !offset_in_page(doff);
	struct dgpu_engine *engine = job->engine;
	unsigned int tries;
	int ret;

	for (tries = 0; tries < DGPU_PIN_TRIES; tries++) {
		ret = job->src->ops->prepare(job->src, soff,
					     job->src_offset + job->length,
					     false, &job->stats);
		if (ret)
			return ret;
		if (job->dst) {
			ret = job->dst->ops->prepare(job->dst, doff,
						     job->dst_offset + job->length,
						     true, &job->stats);
			if (ret)
				return ret;
		}

		if (engine->exclusive)
			mutex_lock(&engine->lock);
		ret = job->src->ops->pin(job->src, soff, false,
					 count_src ? &job->stats : NULL, src);
		if (!ret && job->dst) {
			ret = job->dst->ops->pin(job->dst, doff, true,
						 count_dst ? &job->stats : NULL,
						 dst);
			if (ret)
				job->src->ops->unpin(job->src, soff);
		}
		if (!ret)
			return 0;
		if (engine->exclusive)
			mutex_unlock(&engine->lock);
		if (ret != -EAGAIN)
			return ret;
	}
	return -EBUSY;
}

static void dgpu_job_unpin(struct dgpu_job *job, u64 pos)
{
	if (job->dst)
		job->dst->ops->unpin(job->dst, job->dst_offset + pos);
	job->src->ops->unpin(job->src, job->src_offset + pos);
	if (job->engine->exclusive)
		mutex_unlock(&job->engine->lock);
}

static void dgpu_job_work(struct work_struct *work)
{
	struct dgpu_job *job = container_of(work, struct dgpu_job, work);
	struct drm_p2pmap_dgpu_result *res = &job->result;
	struct dgpu_engine *engine = job->engine;
	ktime_t start = ktime_get();
	u64 invalidations = dgpu_job_invalidations(job);
	u32 crc = ~0U;
	u64 pos = 0;
	int ret = 0;

	/* the job's start is a coherency point for what it touches */
	ret = job->src->ops->begin_access(job->src, job->src_offset, job->length);
	if (!ret && job->dst)
		ret = job->dst->ops->begin_access(job->dst, job->dst_offset,
						  job->length);

	while (!ret && pos < job->length) {
		u64 soff = job->src_offset + pos, doff = job->dst_offset + pos;
		struct dgpu_span src, dst;
		unsigned int len;

		if (atomic_read(&job->cancel)) {
			ret = -ECANCELED;
			break;
		}
		len = min_t(u64, job->length - pos, PAGE_SIZE - offset_in_page(soff));
		if (job->dst)
			len = min_t(unsigned int, len, PAGE_SIZE - offset_in_page(doff));

		ret = dgpu_job_pin(job, pos, &src, &dst);
		if (ret)
			break;
		if (job->dst)
			ret = engine->ops->copy(engine, &dst, &src, len,
						&job->cancel);
		else
			ret = engine->ops->checksum(engine, &src, len, &crc,
						    &job->cancel);
		dgpu_job_unpin(job, pos);
		if (ret)
			break;
		pos += len;
		cond_resched();
	}

	res->error = -ret;
	res->engine = engine->id;
	res->error_offset = ret ? pos : 0;
	res->bytes = pos;
	res->checksum = job->op == P2PMAP_DGPU_OP_CHECKSUM ? (u32)~crc : 0;
	res->pages_p2p = job->stats.pages_p2p;
	res->pages_pagecache = job->stats.pages_pagecache;
	res->faults = job->stats.faults;
	res->faulted_pages = job->stats.faulted_pages;
	res->refaults = job->stats.refaults;
	res->invalidations = dgpu_job_invalidations(job) - invalidations;
	res->duration_ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	memcpy(res->reasons, job->stats.reasons, sizeof(res->reasons));

	/* acknowledged means on the blocks (ext4: p2pmap_mirror_end_access()) */
	if (job->dst && job->dst->ops->end_access) {
		int err = job->dst->ops->end_access(job->dst, job->dst_offset,
						    job->length);

		if (err && !res->error)
			res->error = -err;
	}

	/* the objects go now, not when user space gets around to waiting */
	drm_gem_object_put(&job->src->base);
	job->src = NULL;
	if (job->dst) {
		drm_gem_object_put(&job->dst->base);
		job->dst = NULL;
	}
	complete_all(&job->done);
	kref_put(&job->ref, dgpu_job_release);	/* the worker's reference */
}

static int dgpu_job_check_range(struct dgpu_obj *obj, u64 offset, u64 length)
{
	if (offset > obj->base.size || length > obj->base.size - offset)
		return -EINVAL;
	return 0;
}

/**
 * dgpu_ioctl_submit() - DRM_IOCTL_P2PMAP_DGPU_SUBMIT
 * @drm: the device.
 * @data: struct drm_p2pmap_dgpu_submit.
 * @file: the caller's DRM file.
 *
 * Context: process context; sleeps.
 * Return: 0 with the job queued, -EINVAL for bad arguments, -ENOENT for an
 * unknown handle, -ENODEV for a missing engine or a device going away,
 * -EBUSY with too many jobs not waited for, -ENOMEM.
 */
int dgpu_ioctl_submit(struct drm_device *drm, void *data,
		      struct drm_file *file)
{
	struct drm_p2pmap_dgpu_submit *args = data;
	struct dgpu_device *dgpu = to_dgpu(drm);
	struct dgpu_file *dfile = file->driver_priv;
	struct drm_gem_object *src = NULL, *dst = NULL;
	struct dgpu_job *job;
	int idx, ret;
	u32 id;

	if (args->flags || args->pad ||
	    memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	if (args->op != P2PMAP_DGPU_OP_COPY && args->op != P2PMAP_DGPU_OP_CHECKSUM)
		return -EINVAL;
	if (args->op == P2PMAP_DGPU_OP_CHECKSUM &&
	    (args->dst_handle || args->dst_offset))
		return -EINVAL;
	if (!args->length || args->length > DGPU_MAX_JOB_BYTES)
		return -EINVAL;
	if (args->engine >= ARRAY_SIZE(dgpu->engines))
		return -EINVAL;
	if (!dgpu->engines[args->engine])
		return -ENODEV;

	src = drm_gem_object_lookup(file, args->src_handle);
	if (!src)
		return -ENOENT;
	ret = dgpu_job_check_range(to_dgpu_obj(src), args->src_offset, args->length);
	if (ret)
		goto out_put;
	if (args->op == P2PMAP_DGPU_OP_COPY) {
		dst = drm_gem_object_lookup(file, args->dst_handle);
		if (!dst) {
			ret = -ENOENT;
			goto out_put;
		}
		ret = dgpu_job_check_range(to_dgpu_obj(dst), args->dst_offset,
					   args->length);
		if (ret)
			goto out_put;
		/* an overlapping copy within one object has no defined result */
		if (src == dst && args->src_offset < args->dst_offset + args->length &&
		    args->dst_offset < args->src_offset + args->length) {
			ret = -EINVAL;
			goto out_put;
		}
	}

	if (atomic_inc_return(&dfile->nr_jobs) > DGPU_MAX_JOBS) {
		ret = -EBUSY;
		goto out_dec;
	}
	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job) {
		ret = -ENOMEM;
		goto out_dec;
	}
	kref_init(&job->ref);		/* the file's, dropped by wait or close */
	INIT_WORK(&job->work, dgpu_job_work);
	init_completion(&job->done);
	job->dgpu = dgpu;
	job->engine = dgpu->engines[args->engine];
	job->op = args->op;
	job->src = to_dgpu_obj(src);	/* the lookup references are the job's */
	job->dst = dst ? to_dgpu_obj(dst) : NULL;
	src = NULL;
	dst = NULL;
	job->src_offset = args->src_offset;
	job->dst_offset = args->dst_offset;
	job->length = args->length;

	ret = xa_alloc_cyclic(&dfile->jobs, &id, job, xa_limit_31b,
			      &dfile->next_job, GFP_KERNEL);
	if (ret < 0)
		goto out_free_job;

	/*
	 * Inside the device (an unplug waits for the section) and under
	 * dgpu->lock, so that a removal either refuses the job or cancels it.
	 */
	if (!drm_dev_enter(drm, &idx)) {
		ret = -ENODEV;
		goto out_erase;
	}
	mutex_lock(&dgpu->lock);
	if (dgpu->dying) {
		mutex_unlock(&dgpu->lock);
		drm_dev_exit(idx);
		ret = -ENODEV;
		goto out_erase;
	}
	kref_get(&job->ref);		/* the worker's */
	queue_work(dgpu->wq, &job->work);
	mutex_unlock(&dgpu->lock);
	drm_dev_exit(idx);

	args->job = id;
	return 0;

out_erase:
	xa_erase(&dfile->jobs, id);
out_free_job:
	kref_put(&job->ref, dgpu_job_release);
out_dec:
	atomic_dec(&dfile->nr_jobs);
out_put:
	if (dst)
		drm_gem_object_put(dst);
	if (src)
		drm_gem_object_put(src);
	return ret;
}

/**
 * dgpu_ioctl_wait() - DRM_IOCTL_P2PMAP_DGPU_WAIT
 * @drm: the device.
 * @data: struct drm_p2pmap_dgpu_wait.
 * @file: the caller's DRM file.
 *
 * Context: process context; sleeps.
 * Return: 0 with the result, -ETIME when the timeout passed first,
 * -ERESTARTSYS on a signal, -ENOENT for an unknown job, -EINVAL for bad
 * arguments.
 */
int dgpu_ioctl_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct drm_p2pmap_dgpu_wait *args = data;
	struct dgpu_file *dfile = file->driver_priv;
	unsigned long timeout;
	struct dgpu_job *job;
	long left;
	int ret;

	if (args->flags || args->pad ||
	    memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	if (!args->job || args->job > U32_MAX)
		return -ENOENT;

	xa_lock(&dfile->jobs);
	job = xa_load(&dfile->jobs, args->job);
	if (job)
		kref_get(&job->ref);	/* the waiter's */
	xa_unlock(&dfile->jobs);
	if (!job)
		return -ENOENT;

	if (!args->timeout_ns) {
		left = completion_done(&job->done) ? 1 : 0;
	} else {
		timeout = min_t(u64, nsecs_to_jiffies64(args->timeout_ns),
				MAX_SCHEDULE_TIMEOUT - 1);
		left = wait_for_completion_interruptible_timeout(&job->done,
								 max(timeout, 1UL));
	}
	if (left < 0) {
		ret = left;
	} else if (!left) {
		ret = -ETIME;
	} else if (xa_cmpxchg(&dfile->jobs, args->job, job, NULL, 0) != job) {
		ret = -ENOENT;		/* another waiter had it first */
	} else {
		atomic_dec(&dfile->nr_jobs);
		memcpy(&args->result, &job->result, sizeof(args->result));
		kref_put(&job->ref, dgpu_job_release);	/* the file's */
		ret = 0;
	}
	kref_put(&job->ref, dgpu_job_release);	/* the waiter's */
	return ret;
}

/**
 * dgpu_file_cancel_jobs() - ask every job of a file to stop
 * @dfile: the file.
 *
 * A job stops at its next page piece; one on edu finishes the DMA it is in.
 *
 * Context: any context that may take the xarray lock.
 */
void dgpu_file_cancel_jobs(struct dgpu_file *dfile)
{
	struct dgpu_job *job;
	unsigned long id;

	xa_lock(&dfile->jobs);
	xa_for_each(&dfile->jobs, id, job)
		atomic_set(&job->cancel, 1);
	xa_unlock(&dfile->jobs);
}

/**
 * dgpu_file_reap_jobs() - cancel, wait for and forget every job of a file
 * @dfile: a file being closed; nothing else uses its jobs any more.
 *
 * Context: process context; sleeps until the jobs have stopped.
 */
void dgpu_file_reap_jobs(struct dgpu_file *dfile)
{
	struct dgpu_job *job;
	unsigned long id;

	dgpu_file_cancel_jobs(dfile);
	xa_for_each(&dfile->jobs, id, job) {
		wait_for_completion(&job->done);
		xa_erase(&dfile->jobs, id);
		atomic_dec(&dfile->nr_jobs);
		kref_put(&job->ref, dgpu_job_release);	/* the file's */
	}
}
