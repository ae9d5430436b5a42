// SPDX-License-Identifier: GPL-2.0
/*
 * Deliberate bugs of the kinds the debug kernel reports, one per load:
 *
 *   modprobe p2pmap_test_kasan bug=oob|uaf|lockorder|sleep|list|leak
 *
 * tests/qemu/scanner-test loads it to prove that each kind of report fails
 * a rig run; nothing else loads it. A kind that the running kernel cannot
 * report (its debug option is off) is refused with -EOPNOTSUPP and a reason,
 * so that no run passes for the wrong reason. Loading succeeds otherwise,
 * and the module unloads cleanly after every kind. The module's own messages
 * avoid the words the rig's scanner looks for, so that a refusal is not
 * mistaken for a report.
 */
#define pr_fmt(fmt) "p2pmap_test_kasan: " fmt

#include <linux/compiler.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

static char *bug;
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "the bug to commit at load: oob, uaf, lockorder, sleep, list or leak");

/* Where the bad reads go, so that the compiler keeps them. */
static char p2pmap_test_sink;

/*
 * Protect nothing: the lockorder case takes them in both orders (A then B,
 * later B then A) to provoke a circular-dependency report without a real
 * deadlock.
 */
static DEFINE_MUTEX(p2pmap_test_lock_a);
static DEFINE_MUTEX(p2pmap_test_lock_b);

/* Protects nothing: held around might_sleep() for the sleep case. */
static DEFINE_SPINLOCK(p2pmap_test_spinlock);

static noinline int p2pmap_test_oob(void)
{
	size_t size = 16;
	char *buf;

	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	OPTIMIZER_HIDE_VAR(size);
	pr_info("reading one byte past a %zu-byte allocation\n", size);
	WRITE_ONCE(p2pmap_test_sink, READ_ONCE(buf[size]));
	kfree(buf);
	return 0;
}

static noinline int p2pmap_test_uaf(void)
{
	char *buf;

	buf = kmalloc(32, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	kfree(buf);
	OPTIMIZER_HIDE_VAR(buf);
	pr_info("reading a freed allocation\n");
	WRITE_ONCE(p2pmap_test_sink, READ_ONCE(buf[0]));
	return 0;
}

static noinline int p2pmap_test_lockorder(void)
{
	pr_info("taking two mutexes in both orders\n");
	mutex_lock(&p2pmap_test_lock_a);
	mutex_lock(&p2pmap_test_lock_b);
	lockdep_assert_held(&p2pmap_test_lock_a);
	mutex_unlock(&p2pmap_test_lock_b);
	mutex_unlock(&p2pmap_test_lock_a);

	mutex_lock(&p2pmap_test_lock_b);
	mutex_lock(&p2pmap_test_lock_a);
	lockdep_assert_held(&p2pmap_test_lock_b);
	mutex_unlock(&p2pmap_test_lock_a);
	mutex_unlock(&p2pmap_test_lock_b);
	return 0;
}

static noinline int p2pmap_test_sleep(void)
{
	pr_info("calling might_sleep() under a spinlock\n");
	spin_lock(&p2pmap_test_spinlock);
	lockdep_assert_held(&p2pmap_test_spinlock);
	might_sleep();
	spin_unlock(&p2pmap_test_spinlock);
	return 0;
}

static noinline int p2pmap_test_list(void)
{
	LIST_HEAD(head);
	struct list_head entry;

	pr_info("deleting a list entry twice\n");
	list_add(&entry, &head);
	list_del(&entry);
	/* CONFIG_DEBUG_LIST sees LIST_POISON1 and refuses the second delete */
	list_del(&entry);
	return 0;
}

/* 16 bytes, repeated: kmemleak's hex dump of the leak shows this text */
#define P2PMAP_TEST_LEAK_TEXT "p2pmap leak!!!!!"

static noinline int p2pmap_test_leak(void)
{
	const size_t len = sizeof(P2PMAP_TEST_LEAK_TEXT) - 1;
	size_t i;
	char *buf;

	buf = kmalloc(8 * len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < 8; i++)
		memcpy(buf + i * len, P2PMAP_TEST_LEAK_TEXT, len);
	OPTIMIZER_HIDE_VAR(buf);
	pr_info("leaking %zu bytes that read \"%s\"\n", 8 * len, P2PMAP_TEST_LEAK_TEXT);
	return 0;
}

struct p2pmap_test_bug {
	const char *name;
	bool detectable;	/* the running kernel reports this kind */
	const char *option;	/* what reports it (no scanner keyword) */
	int (*commit)(void);
};

static const struct p2pmap_test_bug p2pmap_test_bugs[] = {
	{ "oob", IS_ENABLED(CONFIG_KASAN), "the kernel address sanitizer", p2pmap_test_oob },
	{ "uaf", IS_ENABLED(CONFIG_KASAN), "the kernel address sanitizer", p2pmap_test_uaf },
	{ "lockorder", IS_ENABLED(CONFIG_PROVE_LOCKING), "CONFIG_PROVE_LOCKING",
	  p2pmap_test_lockorder },
	{ "sleep", IS_ENABLED(CONFIG_DEBUG_ATOMIC_SLEEP), "CONFIG_DEBUG_ATOMIC_SLEEP",
	  p2pmap_test_sleep },
	{ "list", IS_ENABLED(CONFIG_DEBUG_LIST), "CONFIG_DEBUG_LIST", p2pmap_test_list },
	{ "leak", IS_ENABLED(CONFIG_DEBUG_KMEMLEAK), "CONFIG_DEBUG_KMEMLEAK",
	  p2pmap_test_leak },
};

static int __init p2pmap_test_kasan_init(void)
{
	const struct p2pmap_test_bug *b;
	size_t i;

	if (!bug) {
		pr_err("no bug= given (oob, uaf, lockorder, sleep, list or leak)\n");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(p2pmap_test_bugs); i++) {
		b = &p2pmap_test_bugs[i];
		if (!sysfs_streq(bug, b->name))
			continue;
		if (!b->detectable) {
			pr_err("bug=%s: this kernel cannot report it (%s is off)\n",
			       b->name, b->option);
			return -EOPNOTSUPP;
		}
		return b->commit();
	}
	pr_err("bug=%s: unknown (oob, uaf, lockorder, sleep, list or leak)\n", bug);
	return -EINVAL;
}

static void __exit p2pmap_test_kasan_exit(void)
{
}

module_init(p2pmap_test_kasan_init);
module_exit(p2pmap_test_kasan_exit);

MODULE_DESCRIPTION("p2pmap rig self-test: commit one bug the debug kernel reports");
MODULE_LICENSE("GPL");
