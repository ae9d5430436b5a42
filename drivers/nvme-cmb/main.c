// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap nvme-cmb: NVMe Controller Memory Buffers as p2pmap providers.
 *
 * Every PCI function bound to nvme-pci is looked at, nvme-pci staying bound:
 * a CMB that supports data reads and writes (CMBSZ.RDS and WDS), that DMA
 * reaches without bouncing or remapping, becomes a p2pmap provider named
 * after its controller ("nvme0"); the others are reported, with the reason,
 * in debugfs (controllers) and the kernel log.
 *
 * A PCI bus notifier follows nvme-pci: a function it binds is looked at a
 * moment later (nvme-pci resets the controller asynchronously after
 * probing, and rewrites CMBMSC doing so); BUS_NOTIFY_UNBIND_DRIVER, which
 * the driver core sends before calling nvme_remove() (sysfs unbind or
 * remove, hot unplug), takes the CMB back while the controller still
 * works: owners are revoked and dirty data written back.
 */
#define pr_fmt(fmt) "p2pmap-nvme-cmb: " fmt

#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rculist.h>
#include <linux/slab.h>

#include "nvme-cmb.h"

struct workqueue_struct *nvme_cmb_wq;

/*
 * nvme_cmb_list_lock protects changes to nvme_cmb_list (the attached CMBs)
 * and serialises attaching. Taken inside a PCI device's device_lock. The
 * snoop probe reads the list under RCU.
 */
static DEFINE_MUTEX(nvme_cmb_list_lock);
LIST_HEAD(nvme_cmb_list);

static void nvme_cmb_scan(struct work_struct *work);
static DECLARE_DELAYED_WORK(nvme_cmb_scan_work, nvme_cmb_scan);

static const struct p2pmap_provider_ops nvme_cmb_provider_ops = {
	.owns_bdev	= nvme_cmb_owns_bdev,
	.reach		= nvme_cmb_reach,
	.stage		= nvme_cmb_stage,
	.stage_batch	= nvme_cmb_stage_batch,
	.put		= nvme_cmb_put,
	.forget		= nvme_cmb_forget,
	.sync		= nvme_cmb_sync,
};

static bool nvme_cmb_is_nvme(struct pci_dev *pdev)
{
	return pdev->class == PCI_CLASS_STORAGE_EXPRESS && pdev->dev.driver &&
	       !strcmp(pdev->dev.driver->name, "nvme");
}

/**
 * nvme_cmb_owns_disk() - is @disk a namespace of this CMB's controller?
 * @cmb: the CMB.
 * @disk: a disk.
 *
 * A namespace disk of nvme-pci is a child of the controller's class device,
 * itself a child of the PCI function. A native-multipath head disk is a
 * child of the subsystem instead and is not served: its I/O may take
 * another controller's path.
 *
 * Context: any context.
 * Return: true when @disk descends from the controller's PCI function.
 */
bool nvme_cmb_owns_disk(struct nvme_cmb *cmb, struct gendisk *disk)
{
	struct device *dev;

	for (dev = disk_to_dev(disk)->parent; dev; dev = dev->parent)
		if (dev == &cmb->pdev->dev)
			return true;
	return false;
}

static int nvme_cmb_ctrl_name(struct device *dev, void *data)
{
	if (dev->class && !strcmp(dev->class->name, "nvme")) {
		strscpy(data, dev_name(dev), 32);
		return 1;
	}
	return 0;
}

static struct nvme_cmb *nvme_cmb_find_locked(struct pci_dev *pdev)
{
	struct nvme_cmb *cmb;

	lockdep_assert_held(&nvme_cmb_list_lock);
	list_for_each_entry(cmb, &nvme_cmb_list, node)
		if (cmb->pdev == pdev)
			return cmb;
	return NULL;
}

/*
 * Scans left while a controller's CMB is not set up yet (nvme-pci sets it
 * up in its asynchronous first reset); reset by every bind
 * (nvme_cmb_list_lock).
 */
static unsigned int nvme_cmb_scan_retries;
#define NVME_CMB_SCAN_RETRIES	15
#define NVME_CMB_SCAN_DELAY	(2 * HZ)

/*
 * Look at one nvme-bound function; its device_lock is held. Return -EAGAIN
 * when it should be looked at again later.
 */
static int nvme_cmb_attach_locked(struct pci_dev *pdev)
{
	struct nvme_cmb *cmb;
	char why[128] = "";
	char note[160];
	int ret;

	lockdep_assert_held(&nvme_cmb_list_lock);
	if (nvme_cmb_find_locked(pdev))
		return 0;

	cmb = kzalloc(sizeof(*cmb), GFP_KERNEL);
	if (!cmb)
		return -ENOMEM;
	cmb->pdev = pci_dev_get(pdev);	/* pairs with pci_dev_put() in detach */
	strscpy(cmb->name, pci_name(pdev), sizeof(cmb->name));
	device_for_each_child(&pdev->dev, cmb->name, nvme_cmb_ctrl_name);
	mutex_init(&cmb->lock);
	init_waitqueue_head(&cmb->wq);
	INIT_DELAYED_WORK(&cmb->poll_work, nvme_cmb_poll_work);
	INIT_WORK(&cmb->reset_work, nvme_cmb_reset_work);
	INIT_WORK(&cmb->evict_work, nvme_cmb_evict_ahead_work);
	atomic_set(&cmb->inflight, 0);
	spin_lock_init(&cmb->inval_lock);
	INIT_LIST_HEAD(&cmb->invals);
	INIT_WORK(&cmb->inval_work, nvme_cmb_inval_work);
	atomic_set(&cmb->nr_extents, 0);

	ret = nvme_cmb_backend_probe(cmb, why, sizeof(why));
	if (ret) {
		if (ret != -EAGAIN || !nvme_cmb_scan_retries)
			pci_info(pdev, "p2pmap: %s not used: %s\n", cmb->name, why);
		snprintf(note, sizeof(note), "%s none: %s", cmb->name, why);
		nvme_cmb_debugfs_note(pdev, note);
		goto out_free;
	}
	ret = nvme_cmb_cache_init(cmb);
	if (ret)
		goto out_backend_remove;

	cmb->provider.name = cmb->name;
	cmb->provider.dev = &pdev->dev;
	cmb->provider.ops = &nvme_cmb_provider_ops;
	cmb->provider.owner = THIS_MODULE;
	cmb->state = NVME_CMB_LIVE;
	ret = p2pmap_provider_register(&cmb->provider);
	if (ret)
		goto out_cache_destroy;
	nvme_cmb_debugfs_add(cmb);
	list_add_tail_rcu(&cmb->node, &nvme_cmb_list);
	queue_delayed_work(nvme_cmb_wq, &cmb->poll_work, HZ / 10);

	pci_info(pdev, "p2pmap: %s CMB of %llu MiB at bus address 0x%llx (%s backend)\n",
		 cmb->name, cmb->size >> 20, cmb->bus, NVME_CMB_BACKEND_NAME);
	snprintf(note, sizeof(note), "%s cmb %llu bytes at 0x%llx, %s backend",
		 cmb->name, cmb->size, cmb->bus, NVME_CMB_BACKEND_NAME);
	nvme_cmb_debugfs_note(pdev, note);
	return 0;

out_cache_destroy:
	nvme_cmb_cache_destroy(cmb);
out_backend_remove:
	nvme_cmb_backend_remove(cmb);
out_free:
	pci_dev_put(cmb->pdev);
	kfree(cmb);
	return ret;
}

/* Take a CMB back and free it; it is off nvme_cmb_list already. */
static void nvme_cmb_detach(struct nvme_cmb *cmb,
			    enum p2pmap_revoke_cause cause)
{
	char note[160];

	synchronize_rcu();	/* no snoop probe sees @cmb any more */
	nvme_cmb_drain(cmb, cause);
	nvme_cmb_snoop_discard(cmb);
	p2pmap_provider_unregister(&cmb->provider);
	nvme_cmb_debugfs_remove(cmb);
	nvme_cmb_backend_remove(cmb);
	nvme_cmb_cache_destroy(cmb);
	snprintf(note, sizeof(note),
		 "%s detached (staged %lld, written back %lld, lost %lld bytes)",
		 cmb->name, atomic64_read(&cmb->stats.staged),
		 atomic64_read(&cmb->stats.written_back),
		 atomic64_read(&cmb->stats.lost));
	nvme_cmb_debugfs_note(cmb->pdev, note);
	pci_info(cmb->pdev, "p2pmap: %s\n", note);
	mutex_destroy(&cmb->lock);
	pci_dev_put(cmb->pdev);
	kfree(cmb);
}

/**
 * nvme_cmb_check_all() - look for a reset of every CMB's controller now
 * @notified: nvme announced a controller restart (counted per CMB).
 *
 * The reset work compares CMBMSC with the CMB's value and does nothing
 * when they agree.
 *
 * Context: process context.
 */
void nvme_cmb_check_all(bool notified)
{
	struct nvme_cmb *cmb;

	mutex_lock(&nvme_cmb_list_lock);
	list_for_each_entry(cmb, &nvme_cmb_list, node) {
		if (notified)
			atomic64_inc(&cmb->stats.notified);
		queue_work(nvme_cmb_wq, &cmb->reset_work);
	}
	mutex_unlock(&nvme_cmb_list_lock);
}

static void nvme_cmb_scan(struct work_struct *work)
{
	struct pci_dev *pdev = NULL;
	bool again = false;

	for_each_pci_dev(pdev) {
		if (pdev->class != PCI_CLASS_STORAGE_EXPRESS)
			continue;
		device_lock(&pdev->dev);
		if (nvme_cmb_is_nvme(pdev)) {
			mutex_lock(&nvme_cmb_list_lock);
			again |= nvme_cmb_attach_locked(pdev) == -EAGAIN;
			mutex_unlock(&nvme_cmb_list_lock);
		}
		device_unlock(&pdev->dev);
	}
	mutex_lock(&nvme_cmb_list_lock);
	if (again && nvme_cmb_scan_retries) {
		nvme_cmb_scan_retries--;
		mod_delayed_work(system_wq, &nvme_cmb_scan_work,
				 NVME_CMB_SCAN_DELAY);
	}
	mutex_unlock(&nvme_cmb_list_lock);
}

static int nvme_cmb_bus_notify(struct notifier_block *nb,
			       unsigned long action, void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);
	struct nvme_cmb *cmb;

	switch (action) {
	case BUS_NOTIFY_BOUND_DRIVER:
		if (nvme_cmb_is_nvme(pdev)) {
			mutex_lock(&nvme_cmb_list_lock);
			nvme_cmb_scan_retries = NVME_CMB_SCAN_RETRIES;
			mutex_unlock(&nvme_cmb_list_lock);
			mod_delayed_work(system_wq, &nvme_cmb_scan_work, HZ);
		}
		break;
	case BUS_NOTIFY_UNBIND_DRIVER:	/* before nvme_remove() */
	case BUS_NOTIFY_DEL_DEVICE:	/* in case no driver was unbound */
		mutex_lock(&nvme_cmb_list_lock);
		cmb = nvme_cmb_find_locked(pdev);
		if (cmb)
			list_del_rcu(&cmb->node);
		mutex_unlock(&nvme_cmb_list_lock);
		if (cmb) {
			pci_info(pdev, "p2pmap: %s is going: taking its CMB back\n",
				 cmb->name);
			nvme_cmb_detach(cmb, P2PMAP_REVOKE_PROVIDER_GONE);
		}
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block nvme_cmb_bus_nb = {
	.notifier_call = nvme_cmb_bus_notify,
};

static int __init nvme_cmb_init(void)
{
	int ret;

	nvme_cmb_wq = alloc_workqueue("p2pmap_nvme_cmb", WQ_MEM_RECLAIM, 0);
	if (!nvme_cmb_wq)
		return -ENOMEM;
	nvme_cmb_debugfs_init();
	ret = nvme_cmb_snoop_init();
	if (ret)
		goto out_debugfs_exit;
	ret = nvme_cmb_uevent_init();
	if (ret)
		goto out_snoop_exit;
	ret = bus_register_notifier(&pci_bus_type, &nvme_cmb_bus_nb);
	if (ret)
		goto out_uevent_exit;
	mutex_lock(&nvme_cmb_list_lock);
	nvme_cmb_scan_retries = NVME_CMB_SCAN_RETRIES;
	mutex_unlock(&nvme_cmb_list_lock);
	nvme_cmb_scan(NULL);
	pr_info("loaded (%s backend)\n", NVME_CMB_BACKEND_NAME);
	return 0;

out_uevent_exit:
	nvme_cmb_uevent_exit();
out_snoop_exit:
	nvme_cmb_snoop_exit();
out_debugfs_exit:
	nvme_cmb_debugfs_exit();
	destroy_workqueue(nvme_cmb_wq);
	return ret;
}

static void __exit nvme_cmb_exit(void)
{
	struct nvme_cmb *cmb;

	bus_unregister_notifier(&pci_bus_type, &nvme_cmb_bus_nb);
	nvme_cmb_uevent_exit();
	cancel_delayed_work_sync(&nvme_cmb_scan_work);
	for (;;) {
		mutex_lock(&nvme_cmb_list_lock);
		cmb = list_first_entry_or_null(&nvme_cmb_list, struct nvme_cmb,
					       node);
		if (cmb)
			list_del_rcu(&cmb->node);
		mutex_unlock(&nvme_cmb_list_lock);
		if (!cmb)
			break;
		nvme_cmb_detach(cmb, P2PMAP_REVOKE_UNLOAD);
	}
	nvme_cmb_snoop_exit();
	destroy_workqueue(nvme_cmb_wq);
	nvme_cmb_debugfs_exit();
}

module_init(nvme_cmb_init);
module_exit(nvme_cmb_exit);

MODULE_DESCRIPTION("p2pmap: NVMe Controller Memory Buffers as P2P memory providers");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMAP_VERSION_STR);
MODULE_SOFTDEP("pre: nvme");
