// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap core: the registries through which importers, file systems and
 * providers meet.
 */
#define pr_fmt(fmt) "p2pmap: " fmt

#include <linux/completion.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "internal.h"

/*
 * p2pmap_registry_lock protects p2pmap_importers, p2pmap_providers,
 * p2pmap_vm_ops_list and the importer count and ids: membership only. It
 * is never held across a callback into a provider other than @owns_bdev,
 * which must not sleep on I/O.
 */
static DEFINE_MUTEX(p2pmap_registry_lock);
static LIST_HEAD(p2pmap_importers);
static LIST_HEAD(p2pmap_providers);
static LIST_HEAD(p2pmap_vm_ops_list);
static unsigned int p2pmap_nr_importers_locked;
static unsigned int p2pmap_importer_next_id;

struct p2pmap_vm_ops_entry {
	struct list_head node;		/* in p2pmap_vm_ops_list */
	struct file_system_type *fstype;
	const struct p2pmap_vm_ops *ops;
};

/**
 * p2pmap_importer_register() - register a device driver that mirrors ranges
 * @dev: the device that will access the mapped memory. For P2P it must be a
 *	PCI function; other devices are always served from the page cache
 *	(P2PMAP_REASON_NO_ROUTE).
 * @ops: the importer's callbacks; both are required.
 * @owner: the module implementing @ops (THIS_MODULE).
 *
 * Takes a reference on @dev, dropped by p2pmap_importer_unregister().
 *
 * Context: process context; may sleep.
 * Return: the importer, or ERR_PTR(-EINVAL) for missing arguments and
 * ERR_PTR(-ENOMEM).
 */
struct p2pmap_importer *p2pmap_importer_register(struct device *dev,
						 const struct p2pmap_importer_ops *ops,
						 struct module *owner)
{
	struct p2pmap_importer *importer;

	might_sleep();
	if (!dev || !ops || !ops->invalidate || !ops->populate)
		return ERR_PTR(-EINVAL);

	importer = kzalloc(sizeof(*importer), GFP_KERNEL);
	if (!importer)
		return ERR_PTR(-ENOMEM);
	importer->dev = get_device(dev);	/* pairs with put_device() in unregister */
	importer->ops = ops;
	importer->owner = owner;
	mutex_init(&importer->mirrors_lock);
	INIT_LIST_HEAD(&importer->mirrors);

	mutex_lock(&p2pmap_registry_lock);
	importer->id = p2pmap_importer_next_id++;
	list_add_tail(&importer->node, &p2pmap_importers);
	p2pmap_nr_importers_locked++;
	mutex_unlock(&p2pmap_registry_lock);
	p2pmap_stats_importer_add(importer);

	dev_dbg(dev, "p2pmap importer registered\n");
	return importer;
}
EXPORT_SYMBOL_GPL(p2pmap_importer_register);

/**
 * p2pmap_importer_unregister() - remove an importer
 * @importer: an importer from p2pmap_importer_register(); NULL is ignored.
 *
 * The importer must have destroyed its mirrors first; a mirror left
 * behind is a bug of the importer, reported with a warning.
 *
 * Context: process context; may sleep.
 */
void p2pmap_importer_unregister(struct p2pmap_importer *importer)
{
	might_sleep();
	if (!importer)
		return;

	mutex_lock(&importer->mirrors_lock);
	WARN(!list_empty(&importer->mirrors), "%s: importer unregistered with live mirrors\n",
	     dev_name(importer->dev));
	mutex_unlock(&importer->mirrors_lock);

	p2pmap_stats_importer_del(importer);
	mutex_lock(&p2pmap_registry_lock);
	list_del(&importer->node);
	p2pmap_nr_importers_locked--;
	mutex_unlock(&p2pmap_registry_lock);

	put_device(importer->dev);
	kfree(importer);
}
EXPORT_SYMBOL_GPL(p2pmap_importer_unregister);

/**
 * p2pmap_importer_device() - the device an importer registered with
 * @importer: a registered importer.
 *
 * Context: any context.
 * Return: the device; its reference is the importer's.
 */
struct device *p2pmap_importer_device(const struct p2pmap_importer *importer)
{
	return importer->dev;
}
EXPORT_SYMBOL_GPL(p2pmap_importer_device);

void p2pmap_importer_add_mirror(struct p2pmap_importer *importer,
				struct list_head *node)
{
	mutex_lock(&importer->mirrors_lock);
	list_add_tail(node, &importer->mirrors);
	mutex_unlock(&importer->mirrors_lock);
	atomic64_inc(&p2pmap_nr_mirrors);
}

void p2pmap_importer_del_mirror(struct p2pmap_importer *importer,
				struct list_head *node)
{
	mutex_lock(&importer->mirrors_lock);
	list_del(node);
	mutex_unlock(&importer->mirrors_lock);
	atomic64_dec(&p2pmap_nr_mirrors);
}

u64 p2pmap_nr_importers(void)
{
	u64 n;

	mutex_lock(&p2pmap_registry_lock);
	n = p2pmap_nr_importers_locked;
	mutex_unlock(&p2pmap_registry_lock);
	return n;
}

static struct p2pmap_vm_ops_entry *
p2pmap_vm_ops_lookup_locked(struct file_system_type *fstype)
{
	struct p2pmap_vm_ops_entry *entry;

	lockdep_assert_held(&p2pmap_registry_lock);
	list_for_each_entry(entry, &p2pmap_vm_ops_list, node)
		if (entry->fstype == fstype)
			return entry;
	return NULL;
}

/**
 * p2pmap_vm_ops_register() - attach device-map callbacks to a file system
 * @fstype: the file-system type whose file mappings @ops serve.
 * @ops: the callbacks; @ops->owner and @ops->device_map are required.
 *
 * Context: process context; may sleep.
 * Return: 0, -EINVAL for missing callbacks, -EBUSY if @fstype already has
 * callbacks, -ENOMEM.
 */
int p2pmap_vm_ops_register(struct file_system_type *fstype,
			   const struct p2pmap_vm_ops *ops)
{
	struct p2pmap_vm_ops_entry *entry;
	int ret = 0;

	might_sleep();
	if (!fstype || !ops || !ops->owner || !ops->device_map)
		return -EINVAL;

	entry = kzalloc(sizeof(*entry), GFP_KERNEL);
	if (!entry)
		return -ENOMEM;
	entry->fstype = fstype;
	entry->ops = ops;

	mutex_lock(&p2pmap_registry_lock);
	if (p2pmap_vm_ops_lookup_locked(fstype)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	list_add_tail(&entry->node, &p2pmap_vm_ops_list);
	entry = NULL;
out_unlock:
	mutex_unlock(&p2pmap_registry_lock);
	kfree(entry);
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmap_vm_ops_register);

/**
 * p2pmap_vm_ops_unregister() - detach a file system's device-map callbacks
 * @fstype: the file-system type given to p2pmap_vm_ops_register().
 *
 * Called from the owning module's exit, when no p2pmap_vm_ops_get()
 * reference can remain (each holds a module reference).
 *
 * Context: process context; may sleep.
 */
void p2pmap_vm_ops_unregister(struct file_system_type *fstype)
{
	struct p2pmap_vm_ops_entry *entry;

	might_sleep();
	mutex_lock(&p2pmap_registry_lock);
	entry = p2pmap_vm_ops_lookup_locked(fstype);
	if (entry)
		list_del(&entry->node);
	mutex_unlock(&p2pmap_registry_lock);
	WARN_ON_ONCE(!entry);
	kfree(entry);
}
EXPORT_SYMBOL_GPL(p2pmap_vm_ops_unregister);

/**
 * p2pmap_vm_ops_get() - the device-map callbacks of a file system
 * @fstype: a file-system type (file_inode(file)->i_sb->s_type).
 *
 * Context: process context; may sleep.
 * Return: the callbacks with a reference on their module, released with
 * p2pmap_vm_ops_put(); NULL if @fstype has none or its module is going.
 */
const struct p2pmap_vm_ops *p2pmap_vm_ops_get(struct file_system_type *fstype)
{
	struct p2pmap_vm_ops_entry *entry;
	const struct p2pmap_vm_ops *ops = NULL;

	mutex_lock(&p2pmap_registry_lock);
	entry = p2pmap_vm_ops_lookup_locked(fstype);
	if (entry && try_module_get(entry->ops->owner))	/* pairs with p2pmap_vm_ops_put() */
		ops = entry->ops;
	mutex_unlock(&p2pmap_registry_lock);
	return ops;
}
EXPORT_SYMBOL_GPL(p2pmap_vm_ops_get);

/**
 * p2pmap_vm_ops_put() - release callbacks from p2pmap_vm_ops_get()
 * @ops: the callbacks; NULL is ignored.
 *
 * Context: any context.
 */
void p2pmap_vm_ops_put(const struct p2pmap_vm_ops *ops)
{
	if (ops)
		module_put(ops->owner);
}
EXPORT_SYMBOL_GPL(p2pmap_vm_ops_put);

static void p2pmap_provider_release(struct kref *ref)
{
	struct p2pmap_provider *provider =
		container_of(ref, struct p2pmap_provider, ref);

	complete(provider->gone);
}

/**
 * p2pmap_provider_register() - offer P2P memory to p2pmap
 * @provider: filled in by the caller (@name, @dev, @ops, @owner); the
 *	private members are initialised here. It must stay valid until
 *	p2pmap_provider_unregister() returns.
 *
 * Context: process context; may sleep.
 * Return: 0, or -EINVAL for a provider with missing members.
 */
int p2pmap_provider_register(struct p2pmap_provider *provider)
{
	const struct p2pmap_provider_ops *ops = provider ? provider->ops : NULL;

	might_sleep();
	if (!ops || !provider->name || !provider->dev || !ops->owns_bdev ||
	    !ops->reach || !ops->stage || !ops->put)
		return -EINVAL;

	kref_init(&provider->ref);	/* the registration's reference */
	provider->gone = NULL;

	mutex_lock(&p2pmap_registry_lock);
	list_add_tail(&provider->node, &p2pmap_providers);
	mutex_unlock(&p2pmap_registry_lock);

	pr_info("provider %s registered\n", provider->name);
	return 0;
}
EXPORT_SYMBOL_GPL(p2pmap_provider_register);

/**
 * p2pmap_provider_unregister() - withdraw P2P memory
 * @provider: a registered provider.
 *
 * The provider must have revoked every chunk it handed out (each owner's
 * revoke callback) before calling this. Waits until no
 * p2pmap_provider_find() reference remains.
 *
 * Context: process context; sleeps.
 */
void p2pmap_provider_unregister(struct p2pmap_provider *provider)
{
	DECLARE_COMPLETION_ONSTACK(gone);

	might_sleep();
	mutex_lock(&p2pmap_registry_lock);
	list_del(&provider->node);
	provider->gone = &gone;
	mutex_unlock(&p2pmap_registry_lock);

	kref_put(&provider->ref, p2pmap_provider_release);	/* registration's */
	wait_for_completion(&gone);
	pr_info("provider %s unregistered\n", provider->name);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_unregister);

/**
 * p2pmap_provider_find() - the provider serving a block device
 * @bdev: a block device (a whole disk or a partition).
 *
 * Context: process context; may sleep.
 * Return: the provider with a reference taken, or NULL when no registered
 * provider serves @bdev. It is the caller's responsibility to drop the
 * reference with p2pmap_provider_put().
 */
struct p2pmap_provider *p2pmap_provider_find(struct block_device *bdev)
{
	struct p2pmap_provider *provider, *found = NULL;

	mutex_lock(&p2pmap_registry_lock);
	list_for_each_entry(provider, &p2pmap_providers, node) {
		if (provider->ops->owns_bdev(provider, bdev)) {
			kref_get(&provider->ref);	/* pairs with p2pmap_provider_put() */
			found = provider;
			break;
		}
	}
	mutex_unlock(&p2pmap_registry_lock);
	return found;
}
EXPORT_SYMBOL_GPL(p2pmap_provider_find);

/*
 * Another reference on a provider the caller holds one on (mirror.c's
 * staging ahead keeps the fault's). Pairs with p2pmap_provider_put().
 */
struct p2pmap_provider *p2pmap_provider_get(struct p2pmap_provider *provider)
{
	kref_get(&provider->ref);
	return provider;
}

/**
 * p2pmap_provider_put() - drop a reference from p2pmap_provider_find()
 * @provider: the provider; NULL is ignored.
 *
 * Context: any context.
 */
void p2pmap_provider_put(struct p2pmap_provider *provider)
{
	if (provider)
		kref_put(&provider->ref, p2pmap_provider_release);
}
EXPORT_SYMBOL_GPL(p2pmap_provider_put);

void p2pmap_registry_exit(void)
{
	mutex_lock(&p2pmap_registry_lock);
	WARN(!list_empty(&p2pmap_importers), "importers still registered\n");
	WARN(!list_empty(&p2pmap_providers), "providers still registered\n");
	WARN(!list_empty(&p2pmap_vm_ops_list), "vm_ops still registered\n");
	mutex_unlock(&p2pmap_registry_lock);
}
