// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel tests of p2pmap's registries (importers, device-map callbacks,
 * providers). The checks run when the module loads; their TAP report is
 * read from /sys/kernel/debug/p2pmap_test_registry/results by
 * tests/guest/registry.sh.
 */
#define pr_fmt(fmt) "p2pmap_test_registry: " fmt

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/p2pmap.h>
#include <linux/platform_device.h>
#include <linux/seq_buf.h>
#include <linux/slab.h>

#define REPORT_SIZE	4096

static char *report_buf;
static struct seq_buf report;
static unsigned int ntests;
static struct dentry *dir;
static struct debugfs_blob_wrapper blob;

static void check(bool ok, const char *name)
{
	ntests++;
	seq_buf_printf(&report, "%sok %u - %s\n", ok ? "" : "not ", ntests,
		       name);
	if (!ok)
		pr_err("FAILED: %s\n", name);
}

/* ---- importers ---- */

static void test_invalidate(struct p2pmap_mirror *mirror, unsigned long start,
			    unsigned long end, enum p2pmap_revoke_cause cause)
{
}

static int test_populate(struct p2pmap_mirror *mirror, unsigned long start,
			 unsigned long npages, const struct p2pmap_page *pages)
{
	return 0;
}

static const struct p2pmap_importer_ops importer_ops = {
	.invalidate	= test_invalidate,
	.populate	= test_populate,
};

static const struct p2pmap_importer_ops importer_ops_incomplete = {
	.invalidate	= test_invalidate,
};

static void test_register_importers(struct device *dev)
{
	struct p2pmap_importer *imp;
	unsigned int refs = kref_read(&dev->kobj.kref);

	imp = p2pmap_importer_register(NULL, &importer_ops, THIS_MODULE);
	check(imp == ERR_PTR(-EINVAL), "importer without a device is refused with -EINVAL");

	imp = p2pmap_importer_register(dev, &importer_ops_incomplete, THIS_MODULE);
	check(imp == ERR_PTR(-EINVAL), "importer without populate() is refused with -EINVAL");

	imp = p2pmap_importer_register(dev, &importer_ops, THIS_MODULE);
	check(!IS_ERR_OR_NULL(imp), "importer with a device and both callbacks registers");
	if (IS_ERR_OR_NULL(imp))
		return;
	check(p2pmap_importer_device(imp) == dev, "importer reports the device it registered with");
	check(kref_read(&dev->kobj.kref) == refs + 1,
	      "importer holds a reference on its device");
	p2pmap_importer_unregister(imp);
	p2pmap_importer_unregister(NULL);
	check(kref_read(&dev->kobj.kref) == refs,
	      "unregister drops the importer's device reference");
}

/* ---- device-map callbacks ---- */

static struct file_system_type fake_fstype = { .name = "p2pmap-test-fs" };
static struct file_system_type other_fstype = { .name = "p2pmap-test-other" };

static int test_device_map(struct file *file, pgoff_t pgoff,
			   unsigned long npages, unsigned int flags,
			   struct p2pmap_extent *ext)
{
	return -EOPNOTSUPP;
}

static const struct p2pmap_vm_ops vm_ops = {
	.owner		= THIS_MODULE,
	.device_map	= test_device_map,
};

static const struct p2pmap_vm_ops vm_ops_no_owner = {
	.device_map	= test_device_map,
};

static void test_vm_ops(void)
{
	const struct p2pmap_vm_ops *got;
	int refs;

	check(p2pmap_vm_ops_register(&fake_fstype, &vm_ops_no_owner) == -EINVAL,
	      "vm ops without an owner module are refused with -EINVAL");
	check(p2pmap_vm_ops_register(&fake_fstype, &vm_ops) == 0,
	      "vm ops register for a file-system type");
	check(p2pmap_vm_ops_register(&fake_fstype, &vm_ops) == -EBUSY,
	      "a second registration for the same type is refused with -EBUSY");
	check(!p2pmap_vm_ops_get(&other_fstype),
	      "a type without vm ops gets NULL");

	refs = module_refcount(THIS_MODULE);
	got = p2pmap_vm_ops_get(&fake_fstype);
	check(got == &vm_ops, "get returns the registered vm ops");
	check(module_refcount(THIS_MODULE) == refs + 1,
	      "get takes a reference on the owner module");
	p2pmap_vm_ops_put(got);
	check(module_refcount(THIS_MODULE) == refs,
	      "put drops the owner module reference");

	p2pmap_vm_ops_unregister(&fake_fstype);
	check(!p2pmap_vm_ops_get(&fake_fstype),
	      "after unregister the type has no vm ops");
}

/* ---- providers ---- */

/* Stand-ins for two block devices: the registry only compares them. */
static int bdev_a, bdev_b;
#define FAKE_BDEV(x)	((struct block_device *)&(x))

static bool test_owns_bdev(struct p2pmap_provider *provider,
			   struct block_device *bdev)
{
	return bdev == FAKE_BDEV(bdev_a);
}

static int test_reach(struct p2pmap_provider *provider, struct device *client,
		      char *why, size_t len)
{
	return 0;
}

static struct p2pmap_chunk *test_stage(struct p2pmap_provider *provider,
				       struct block_device *bdev,
				       sector_t sector, unsigned int nr_pages,
				       unsigned int flags,
				       const struct p2pmap_owner *owner)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static void test_put(struct p2pmap_chunk *chunk)
{
}

static const struct p2pmap_provider_ops provider_ops = {
	.owns_bdev	= test_owns_bdev,
	.reach		= test_reach,
	.stage		= test_stage,
	.put		= test_put,
};

static struct p2pmap_provider provider;
static struct completion unregistered;

static int unregister_thread(void *data)
{
	p2pmap_provider_unregister(&provider);
	complete(&unregistered);
	return 0;
}

static void test_providers(struct device *dev)
{
	struct p2pmap_provider bad = { .name = "bad", .dev = dev };
	struct p2pmap_provider *found;
	struct task_struct *t;

	check(p2pmap_provider_register(&bad) == -EINVAL,
	      "provider without ops is refused with -EINVAL");

	provider.name = "test-provider";
	provider.dev = dev;
	provider.ops = &provider_ops;
	provider.owner = THIS_MODULE;
	check(p2pmap_provider_register(&provider) == 0, "provider registers");

	found = p2pmap_provider_find(FAKE_BDEV(bdev_b));
	check(!found, "find for a block device nobody serves returns NULL");

	found = p2pmap_provider_find(FAKE_BDEV(bdev_a));
	check(found == &provider, "find returns the provider that owns the block device");
	if (found != &provider) {
		p2pmap_provider_put(found);
		p2pmap_provider_unregister(&provider);
		return;
	}

	/* unregister must wait for the reference find() returned */
	init_completion(&unregistered);
	t = kthread_run(unregister_thread, NULL, "p2pmap-test-unreg");
	if (IS_ERR(t)) {
		check(false, "start the unregister thread");
		p2pmap_provider_put(found);
		p2pmap_provider_unregister(&provider);
		return;
	}
	msleep(200);
	check(!completion_done(&unregistered),
	      "unregister waits while a find() reference is held");
	check(!p2pmap_provider_find(FAKE_BDEV(bdev_a)),
	      "an unregistering provider is no longer found");
	p2pmap_provider_put(found);
	check(wait_for_completion_timeout(&unregistered, 10 * HZ),
	      "unregister completes once the reference is dropped");
}

static int __init p2pmap_test_registry_init(void)
{
	struct platform_device *pdev;

	report_buf = kzalloc(REPORT_SIZE, GFP_KERNEL);
	if (!report_buf)
		return -ENOMEM;
	seq_buf_init(&report, report_buf, REPORT_SIZE);

	pdev = platform_device_register_simple("p2pmap-test-registry", -1,
					       NULL, 0);
	if (IS_ERR(pdev)) {
		kfree(report_buf);
		return PTR_ERR(pdev);
	}

	test_register_importers(&pdev->dev);
	test_vm_ops();
	test_providers(&pdev->dev);
	platform_device_unregister(pdev);

	seq_buf_printf(&report, "1..%u\n", ntests);
	blob.data = report_buf;
	blob.size = seq_buf_used(&report);
	dir = debugfs_create_dir("p2pmap_test_registry", NULL);
	debugfs_create_blob("results", 0444, dir, &blob);
	return 0;
}

static void __exit p2pmap_test_registry_exit(void)
{
	debugfs_remove(dir);
	kfree(report_buf);
}

module_init(p2pmap_test_registry_init);
module_exit(p2pmap_test_registry_exit);

MODULE_DESCRIPTION("p2pmap registry tests");
MODULE_LICENSE("GPL");
