// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_dgpu: VRAM objects. The device memory of a dummy GPU is host
 * memory: pages allocated when the object is created, reached by the CPU
 * engine through the kernel's mapping, by edu through a DMA mapping, and by
 * user space through mmap(2) of the DRM file.
 */
#define pr_fmt(fmt) "p2pmap_dgpu: " fmt

#include <linux/mm.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <drm/drm_vma_manager.h>
#include <p2pmap/compat.h>

#include "dgpu.h"

static vm_fault_t dgpu_vram_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct drm_gem_object *gem = vma->vm_private_data;
	struct dgpu_vram *vram = to_dgpu_vram(to_dgpu_obj(gem));
	unsigned long pgoff = vmf->pgoff - drm_vma_node_start(&gem->vma_node);

	if (pgoff >= vram->npages)
		return VM_FAULT_SIGBUS;
	return vmf_insert_mixed(vma, vmf->address,
				page_to_pfn_t(vram->pages[pgoff]));
}

static const struct vm_operations_struct dgpu_vram_vm_ops = {
	.fault = dgpu_vram_fault,
	.open = drm_gem_vm_open,	/* a GEM reference per VMA */
	.close = drm_gem_vm_close,
};

static int dgpu_vram_mmap(struct drm_gem_object *gem,
			  struct vm_area_struct *vma)
{
	/* a private copy of device memory would be neither VRAM nor coherent */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	p2pmap_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &dgpu_vram_vm_ops;
	return 0;
}

static void dgpu_vram_free_pages(struct dgpu_vram *vram)
{
	unsigned long i;

	for (i = 0; i < vram->npages; i++)
		if (vram->pages[i])
			__free_page(vram->pages[i]);
	kvfree(vram->pages);
}

static void dgpu_vram_free(struct drm_gem_object *gem)
{
	struct dgpu_vram *vram = to_dgpu_vram(to_dgpu_obj(gem));
	struct dgpu_device *dgpu = to_dgpu(gem->dev);

	dgpu_vram_free_pages(vram);
	atomic64_sub((u64)vram->npages << PAGE_SHIFT, &dgpu->vram_used);
	drm_gem_object_release(gem);
	kfree(vram);
}

static const struct drm_gem_object_funcs dgpu_vram_funcs = {
	.free = dgpu_vram_free,
	.mmap = dgpu_vram_mmap,
	.vm_ops = &dgpu_vram_vm_ops,
};

static int dgpu_vram_begin_access(struct dgpu_obj *obj, u64 offset,
				  u64 length)
{
	return 0;	/* only the device writes VRAM through jobs */
}

static int dgpu_vram_prepare(struct dgpu_obj *obj, u64 offset, u64 end,
			     bool write, struct dgpu_job_stats *stats)
{
	return 0;	/* VRAM is always there */
}

static int dgpu_vram_pin(struct dgpu_obj *obj, u64 offset, bool write,
			 struct dgpu_job_stats *stats, struct dgpu_span *span)
{
	struct dgpu_vram *vram = to_dgpu_vram(obj);

	span->page = vram->pages[offset >> PAGE_SHIFT];
	span->offset = offset_in_page(offset);
	span->addr = 0;
	span->mapped = false;
	return 0;
}

static void dgpu_vram_unpin(struct dgpu_obj *obj, u64 offset)
{
}

static u64 dgpu_vram_invalidations(struct dgpu_obj *obj)
{
	return 0;	/* nobody takes VRAM back */
}

static const struct dgpu_obj_ops dgpu_vram_ops = {
	.begin_access = dgpu_vram_begin_access,
	.prepare = dgpu_vram_prepare,
	.pin = dgpu_vram_pin,
	.unpin = dgpu_vram_unpin,
	.invalidations = dgpu_vram_invalidations,
};

static struct dgpu_vram *dgpu_vram_create(struct dgpu_device *dgpu, u64 size)
{
	struct dgpu_vram *vram;
	unsigned long i;
	int ret;

	vram = kzalloc(sizeof(*vram), GFP_KERNEL);
	if (!vram)
		return ERR_PTR(-ENOMEM);
	vram->npages = size >> PAGE_SHIFT;
	vram->pages = kvcalloc(vram->npages, sizeof(*vram->pages), GFP_KERNEL);
	if (!vram->pages) {
		ret = -ENOMEM;
		goto out_free_vram;
	}
	for (i = 0; i < vram->npages; i++) {
		vram->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO |
					    __GFP_NOWARN);
		if (!vram->pages[i]) {
			ret = -ENOMEM;
			goto out_free_pages;
		}
	}

	vram->obj.kind = DGPU_OBJ_VRAM;
	vram->obj.ops = &dgpu_vram_ops;
	vram->obj.base.funcs = &dgpu_vram_funcs;
	drm_gem_private_object_init(&dgpu->drm, &vram->obj.base, size);
	return vram;

out_free_pages:
	dgpu_vram_free_pages(vram);
out_free_vram:
	kfree(vram);
	return ERR_PTR(ret);
}

/**
 * dgpu_ioctl_gem_create() - DRM_IOCTL_P2PMAP_DGPU_GEM_CREATE
 * @drm: the device.
 * @data: struct drm_p2pmap_dgpu_gem_create.
 * @file: the caller's DRM file.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL for bad arguments, -ENOSPC past the VRAM budget,
 * -ENOMEM.
 */
int dgpu_ioctl_gem_create(struct drm_device *drm, void *data,
			  struct drm_file *file)
{
	struct drm_p2pmap_dgpu_gem_create *args = data;
	struct dgpu_device *dgpu = to_dgpu(drm);
	struct dgpu_vram *vram;
	u64 size;
	u32 handle;
	int ret;

	if (args->flags || memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	if (!args->size)
		return -EINVAL;
	if (args->size > dgpu->vram_size)
		return -ENOSPC;
	size = PAGE_ALIGN(args->size);

	/* reserve the budget first, so that racing creators cannot exceed it */
	if (atomic64_add_return(size, &dgpu->vram_used) > dgpu->vram_size) {
		atomic64_sub(size, &dgpu->vram_used);
		return -ENOSPC;
	}
	vram = dgpu_vram_create(dgpu, size);
	if (IS_ERR(vram)) {
		atomic64_sub(size, &dgpu->vram_used);
		return PTR_ERR(vram);
	}

	/* from here the object's free returns the budget */
	ret = drm_gem_handle_create(file, &vram->obj.base, &handle);
	drm_gem_object_put(&vram->obj.base);	/* the handle holds it now */
	if (ret)
		return ret;
	args->handle = handle;
	return 0;
}

/**
 * dgpu_ioctl_gem_mmap_offset() - DRM_IOCTL_P2PMAP_DGPU_GEM_MMAP_OFFSET
 * @drm: the device.
 * @data: struct drm_p2pmap_dgpu_gem_mmap_offset.
 * @file: the caller's DRM file.
 *
 * Context: process context; sleeps.
 * Return: 0, -EINVAL for bad arguments or a userptr object, -ENOENT for an
 * unknown handle, -ENOMEM or -ENOSPC from the offset manager.
 */
int dgpu_ioctl_gem_mmap_offset(struct drm_device *drm, void *data,
			       struct drm_file *file)
{
	struct drm_p2pmap_dgpu_gem_mmap_offset *args = data;
	struct drm_gem_object *gem;
	int ret;

	if (args->flags || memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	gem = drm_gem_object_lookup(file, args->handle);
	if (!gem)
		return -ENOENT;
	if (to_dgpu_obj(gem)->kind != DGPU_OBJ_VRAM) {
		ret = -EINVAL;
		goto out_put;
	}
	ret = drm_gem_create_mmap_offset(gem);
	if (!ret)
		args->offset = drm_vma_node_offset_addr(&gem->vma_node);
out_put:
	drm_gem_object_put(gem);	/* pairs with drm_gem_object_lookup() */
	return ret;
}
