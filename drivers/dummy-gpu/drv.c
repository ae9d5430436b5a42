// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_dgpu: a dummy GPU as a DRM render-node driver, the p2pmap
 * importer that tests and users watch consume files peer to peer.
 *
 * One instance per QEMU edu PCI function (1234:11e8): DMA with edu, and
 * P2P where the topology lets edu reach the NVMe CMB. The module parameter
 * virtual_instances adds instances with no PCI function at all, whose
 * pages always come from the page cache (no P2P route).
 */
#define pr_fmt(fmt) "p2pmap_dgpu: " fmt

#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <drm/drm_drv.h>
#include <drm/drm_ioctl.h>

#include "dgpu.h"

#define DGPU_MAX_VIRTUAL	4

static unsigned int virtual_instances;
module_param(virtual_instances, uint, 0444);
MODULE_PARM_DESC(virtual_instances,
		 "instances without a PCI function (always the page-cache path), 0-"
		 __stringify(DGPU_MAX_VIRTUAL) " (default 0)");

static unsigned int vram_mb = 256;
module_param(vram_mb, uint, 0444);
MODULE_PARM_DESC(vram_mb, "VRAM budget of each instance in MiB (default 256)");

static_assert(P2PMAP_REASON_COUNT <= P2PMAP_DGPU_MAX_REASONS);

static int dgpu_ioctl_info(struct drm_device *drm, void *data,
			   struct drm_file *file)
{
	struct drm_p2pmap_dgpu_info *args = data;
	struct dgpu_device *dgpu = to_dgpu(drm);
	unsigned int i;

	if (args->flags || memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;

	args->kind = dgpu->kind;
	args->engines = 0;
	for (i = 0; i < ARRAY_SIZE(dgpu->engines); i++)
		if (dgpu->engines[i])
			args->engines |= BIT(i);
	args->abi = P2PMAP_DGPU_ABI_VERSION;
	args->nr_reasons = P2PMAP_REASON_COUNT;
	args->max_jobs = DGPU_MAX_JOBS;
	args->vram_size = dgpu->vram_size;
	args->vram_used = atomic64_read(&dgpu->vram_used);
	args->pci_domain = dgpu->pdev ? pci_domain_nr(dgpu->pdev->bus) : 0;
	args->pci_bdf = dgpu->pdev ?
		(dgpu->pdev->bus->number << 8) | dgpu->pdev->devfn : 0;
	args->max_job_bytes = DGPU_MAX_JOB_BYTES;
	return 0;
}

static const struct drm_ioctl_desc dgpu_ioctls[] = {
	DRM_IOCTL_DEF_DRV(P2PMAP_DGPU_INFO, dgpu_ioctl_info, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PMAP_DGPU_GEM_CREATE, dgpu_ioctl_gem_create,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PMAP_DGPU_GEM_MMAP_OFFSET, dgpu_ioctl_gem_mmap_offset,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PMAP_DGPU_USERPTR, dgpu_ioctl_userptr,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PMAP_DGPU_SUBMIT, dgpu_ioctl_submit, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PMAP_DGPU_WAIT, dgpu_ioctl_wait, DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PMAP_DGPU_USERPTR_FAULT, dgpu_ioctl_userptr_fault,
			  DRM_RENDER_ALLOW),
	DRM_IOCTL_DEF_DRV(P2PMAP_DGPU_USERPTR_SNAPSHOT,
			  dgpu_ioctl_userptr_snapshot, DRM_RENDER_ALLOW),
};

/*
 * DRM answers a driver ioctl number past the table with -EINVAL; the
 * project's rule is -ENOTTY for an ioctl the driver does not know.
 */
static bool dgpu_ioctl_unknown(unsigned int cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	return _IOC_TYPE(cmd) == DRM_IOCTL_BASE && nr >= DRM_COMMAND_BASE &&
	       nr < DRM_COMMAND_END &&
	       nr - DRM_COMMAND_BASE >= ARRAY_SIZE(dgpu_ioctls);
}

static long dgpu_drm_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	if (dgpu_ioctl_unknown(cmd))
		return -ENOTTY;
	return drm_ioctl(filp, cmd, arg);
}

#ifdef CONFIG_COMPAT
static long dgpu_drm_compat_ioctl(struct file *filp, unsigned int cmd,
				  unsigned long arg)
{
	if (dgpu_ioctl_unknown(cmd))
		return -ENOTTY;
	return drm_compat_ioctl(filp, cmd, arg);
}
#else
/* drm_compat_ioctl is NULL without CONFIG_COMPAT (the rig's debug kernel) */
#define dgpu_drm_compat_ioctl NULL
#endif

static const struct file_operations dgpu_fops = {
	.owner		= THIS_MODULE,
	.open		= drm_open,
	.release	= drm_release,
	.unlocked_ioctl	= dgpu_drm_ioctl,
	.compat_ioctl	= dgpu_drm_compat_ioctl,
	.poll		= drm_poll,
	.read		= drm_read,
	.llseek		= noop_llseek,
	.mmap		= drm_gem_mmap,
};

static int dgpu_open(struct drm_device *drm, struct drm_file *file)
{
	struct dgpu_device *dgpu = to_dgpu(drm);
	struct dgpu_file *dfile;

	dfile = kzalloc(sizeof(*dfile), GFP_KERNEL);
	if (!dfile)
		return -ENOMEM;
	dfile->dgpu = dgpu;
	xa_init_flags(&dfile->jobs, XA_FLAGS_ALLOC1);
	atomic_set(&dfile->nr_jobs, 0);

	mutex_lock(&dgpu->lock);
	list_add_tail(&dfile->node, &dgpu->files);
	mutex_unlock(&dgpu->lock);
	file->driver_priv = dfile;
	return 0;
}

static void dgpu_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct dgpu_device *dgpu = to_dgpu(drm);
	struct dgpu_file *dfile = file->driver_priv;

	dgpu_file_reap_jobs(dfile);	/* jobs in flight are cancelled */

	mutex_lock(&dgpu->lock);
	list_del(&dfile->node);
	mutex_unlock(&dgpu->lock);
	xa_destroy(&dfile->jobs);
	kfree(dfile);
}

static const struct drm_driver dgpu_drm_driver = {
	.driver_features	= DRIVER_GEM | DRIVER_RENDER,
	.open			= dgpu_open,
	.postclose		= dgpu_postclose,
	.ioctls			= dgpu_ioctls,
	.num_ioctls		= ARRAY_SIZE(dgpu_ioctls),
	.fops			= &dgpu_fops,
	.name			= P2PMAP_DGPU_DRIVER_NAME,
	.desc			= "p2pmap dummy GPU",
	.date			= "20261122",
	.major			= P2PMAP_DGPU_ABI_VERSION,
	.minor			= 0,
};

/*
 * Create an instance on @parent: a PCI function (@pdev) or a virtual
 * platform device. The DRM device is device-managed on @parent.
 */
static struct dgpu_device *dgpu_create(struct device *parent,
				       struct pci_dev *pdev)
{
	struct dgpu_device *dgpu;
	struct dgpu_engine *engine;
	int ret;

	dgpu = devm_drm_dev_alloc(parent, &dgpu_drm_driver, struct dgpu_device,
				  drm);
	if (IS_ERR(dgpu))
		return dgpu;
	dgpu->parent = parent;
	dgpu->pdev = pdev;
	dgpu->kind = pdev ? P2PMAP_DGPU_KIND_PCI : P2PMAP_DGPU_KIND_VIRTUAL;
	dgpu->vram_size = (u64)vram_mb << 20;
	atomic64_set(&dgpu->vram_used, 0);
	mutex_init(&dgpu->lock);
	INIT_LIST_HEAD(&dgpu->files);
	INIT_LIST_HEAD(&dgpu->userptrs);

	dgpu->wq = alloc_workqueue("p2pmap_dgpu/%s", WQ_UNBOUND, 0,
				   dev_name(parent));
	if (!dgpu->wq)
		return ERR_PTR(-ENOMEM);

	engine = dgpu_engine_cpu_create(dgpu);
	if (IS_ERR(engine)) {
		ret = PTR_ERR(engine);
		goto out_destroy_wq;
	}
	dgpu->engines[P2PMAP_DGPU_ENGINE_CPU] = engine;
	if (pdev) {
		engine = dgpu_engine_edu_create(dgpu);
		if (IS_ERR(engine)) {
			ret = PTR_ERR(engine);
			goto out_destroy_cpu;
		}
		dgpu->engines[P2PMAP_DGPU_ENGINE_EDU] = engine;
	}

	dgpu->importer = p2pmap_importer_register(parent, &dgpu_importer_ops,
						  THIS_MODULE);
	if (IS_ERR(dgpu->importer)) {
		ret = PTR_ERR(dgpu->importer);
		goto out_destroy_edu;
	}

	ret = drm_dev_register(&dgpu->drm, 0);
	if (ret)
		goto out_unregister_importer;

	dev_info(parent, "p2pmap dummy GPU (%s), render node %s\n",
		 pdev ? "edu" : "virtual", dgpu->drm.render->kdev ?
		 dev_name(dgpu->drm.render->kdev) : "?");
	return dgpu;

out_unregister_importer:
	p2pmap_importer_unregister(dgpu->importer);
out_destroy_edu:
	dgpu_engine_edu_destroy(dgpu->engines[P2PMAP_DGPU_ENGINE_EDU]);
out_destroy_cpu:
	dgpu_engine_cpu_destroy(dgpu->engines[P2PMAP_DGPU_ENGINE_CPU]);
out_destroy_wq:
	destroy_workqueue(dgpu->wq);
	return ERR_PTR(ret);
}

/*
 * Remove an instance. Open files may outlive it: their ioctls fail with
 * -ENODEV, their jobs are cancelled here, and their userptr objects stop
 * mirroring; the objects and the DRM device go with the last file.
 */
static void dgpu_destroy(struct dgpu_device *dgpu)
{
	struct dgpu_file *dfile;

	drm_dev_unplug(&dgpu->drm);

	mutex_lock(&dgpu->lock);
	dgpu->dying = true;
	list_for_each_entry(dfile, &dgpu->files, node)
		dgpu_file_cancel_jobs(dfile);
	mutex_unlock(&dgpu->lock);
	drain_workqueue(dgpu->wq);

	dgpu_userptr_kill_all(dgpu);
	p2pmap_importer_unregister(dgpu->importer);
	dgpu_engine_edu_destroy(dgpu->engines[P2PMAP_DGPU_ENGINE_EDU]);
	dgpu->engines[P2PMAP_DGPU_ENGINE_EDU] = NULL;
	dgpu_engine_cpu_destroy(dgpu->engines[P2PMAP_DGPU_ENGINE_CPU]);
	dgpu->engines[P2PMAP_DGPU_ENGINE_CPU] = NULL;
	destroy_workqueue(dgpu->wq);
}

/* ---- the edu PCI function ---- */

static int dgpu_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct dgpu_device *dgpu;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret) {
		dev_err(&pdev->dev, "no 64-bit DMA (start QEMU with edu,dma_mask=0xffffffffffffffff)\n");
		return ret;
	}

	dgpu = dgpu_create(&pdev->dev, pdev);
	if (IS_ERR(dgpu))
		return PTR_ERR(dgpu);
	pci_set_drvdata(pdev, dgpu);
	return 0;
}

static void dgpu_pci_remove(struct pci_dev *pdev)
{
	dgpu_destroy(pci_get_drvdata(pdev));
	pci_clear_master(pdev);
}

static const struct pci_device_id dgpu_pci_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },		/* QEMU edu */
	{ }
};
MODULE_DEVICE_TABLE(pci, dgpu_pci_ids);

static struct pci_driver dgpu_pci_driver = {
	.name		= "p2pmap_dgpu",
	.id_table	= dgpu_pci_ids,
	.probe		= dgpu_pci_probe,
	.remove		= dgpu_pci_remove,
};

/* ---- virtual instances ---- */

static int dgpu_virtual_probe(struct platform_device *pdev)
{
	struct dgpu_device *dgpu;

	dgpu = dgpu_create(&pdev->dev, NULL);
	if (IS_ERR(dgpu))
		return PTR_ERR(dgpu);
	platform_set_drvdata(pdev, dgpu);
	return 0;
}

static int dgpu_virtual_remove(struct platform_device *pdev)
{
	dgpu_destroy(platform_get_drvdata(pdev));
	return 0;
}

static struct platform_driver dgpu_virtual_driver = {
	.driver.name	= "p2pmap_dgpu_virtual",
	.probe		= dgpu_virtual_probe,
	.remove		= dgpu_virtual_remove,
};

static struct platform_device *dgpu_virtual_devs[DGPU_MAX_VIRTUAL];

static void dgpu_virtual_del_all(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dgpu_virtual_devs); i++) {
		platform_device_unregister(dgpu_virtual_devs[i]);
		dgpu_virtual_devs[i] = NULL;
	}
}

static int dgpu_virtual_add_all(void)
{
	struct platform_device *pdev;
	unsigned int i;
	int ret;

	for (i = 0; i < virtual_instances; i++) {
		pdev = platform_device_alloc("p2pmap_dgpu_virtual", i);
		if (!pdev) {
			ret = -ENOMEM;
			goto out_del_all;
		}
		/*
		 * No DMA at all: p2pmap then hands out pages by physical
		 * address, and only the CPU engine exists.
		 */
		pdev->dev.dma_mask = NULL;
		pdev->dev.coherent_dma_mask = 0;
		ret = platform_device_add(pdev);
		if (ret) {
			platform_device_put(pdev);
			goto out_del_all;
		}
		dgpu_virtual_devs[i] = pdev;
	}
	return 0;

out_del_all:
	dgpu_virtual_del_all();
	return ret;
}

static int __init dgpu_init(void)
{
	int ret;

	if (virtual_instances > DGPU_MAX_VIRTUAL) {
		pr_err("virtual_instances=%u: at most %u\n", virtual_instances,
		       DGPU_MAX_VIRTUAL);
		return -EINVAL;
	}
	if (!vram_mb || vram_mb > (1U << 20)) {
		pr_err("vram_mb=%u: must be 1 to %u\n", vram_mb, 1U << 20);
		return -EINVAL;
	}

	ret = platform_driver_register(&dgpu_virtual_driver);
	if (ret)
		return ret;
	ret = dgpu_virtual_add_all();
	if (ret)
		goto out_unregister_platform;
	ret = pci_register_driver(&dgpu_pci_driver);
	if (ret)
		goto out_del_virtual;
	return 0;

out_del_virtual:
	dgpu_virtual_del_all();
out_unregister_platform:
	platform_driver_unregister(&dgpu_virtual_driver);
	return ret;
}

static void __exit dgpu_exit(void)
{
	pci_unregister_driver(&dgpu_pci_driver);
	dgpu_virtual_del_all();
	platform_driver_unregister(&dgpu_virtual_driver);
}

module_init(dgpu_init);
module_exit(dgpu_exit);

MODULE_DESCRIPTION("p2pmap dummy GPU: a DRM render node that maps files through p2pmap");
MODULE_AUTHOR("p2pmap developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMAP_VERSION_STR);
