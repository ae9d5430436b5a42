// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_dgpu: the software engine. The CPU moves the bytes, through the
 * kernel's mapping of each page: VRAM and page-cache pages from the linear
 * map, P2P pages from the provider's ZONE_DEVICE pages, which map the CMB
 * itself (so under QEMU every such access is a trapped MMIO read).
 */
#define pr_fmt(fmt) "p2pmap_dgpu: " fmt

#include <linux/crc32.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dgpu.h"

static int dgpu_cpu_copy(struct dgpu_engine *engine, const struct dgpu_span *dst,
			 const struct dgpu_span *src, unsigned int len,
			 const atomic_t *cancel)
{
	void *to = kmap_local_page(dst->page);
	void *from = kmap_local_page(src->page);

	memcpy(to + dst->offset, from + src->offset, len);
	kunmap_local(from);
	kunmap_local(to);
	return 0;
}

static int dgpu_cpu_checksum(struct dgpu_engine *engine,
			     const struct dgpu_span *src, unsigned int len,
			     u32 *crc, const atomic_t *cancel)
{
	void *from = kmap_local_page(src->page);

	*crc = crc32_le(*crc, from + src->offset, len);
	kunmap_local(from);
	return 0;
}

static const struct dgpu_engine_ops dgpu_cpu_ops = {
	.copy = dgpu_cpu_copy,
	.checksum = dgpu_cpu_checksum,
};

/**
 * dgpu_engine_cpu_create() - the software engine of a device
 * @dgpu: the device.
 *
 * Context: process context; may sleep.
 * Return: the engine, or ERR_PTR(-ENOMEM).
 */
struct dgpu_engine *dgpu_engine_cpu_create(struct dgpu_device *dgpu)
{
	struct dgpu_engine *engine;

	engine = kzalloc(sizeof(*engine), GFP_KERNEL);
	if (!engine)
		return ERR_PTR(-ENOMEM);
	engine->ops = &dgpu_cpu_ops;
	engine->id = P2PMAP_DGPU_ENGINE_CPU;
	engine->exclusive = false;	/* every job copies on its own CPU */
	mutex_init(&engine->lock);
	return engine;
}

/**
 * dgpu_engine_cpu_destroy() - free the software engine
 * @engine: from dgpu_engine_cpu_create(); NULL is ignored. No job may run.
 *
 * Context: any context.
 */
void dgpu_engine_cpu_destroy(struct dgpu_engine *engine)
{
	if (!engine)
		return;
	mutex_destroy(&engine->lock);
	kfree(engine);
}
