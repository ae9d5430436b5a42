// SPDX-License-Identifier: GPL-2.0
/*
 * A module that WARNs when loaded: the rig's self-test uses it to show that
 * a kernel warning fails a run.
 */
#define pr_fmt(fmt) "p2pmap_test_warn: " fmt

#include <linux/bug.h>
#include <linux/module.h>

static int __init p2pmap_test_warn_init(void)
{
	WARN(1, "deliberate warning from the rig self-test\n");
	return 0;
}

static void __exit p2pmap_test_warn_exit(void)
{
}

module_init(p2pmap_test_warn_init);
module_exit(p2pmap_test_warn_exit);

MODULE_DESCRIPTION("p2pmap rig self-test: WARN on load");
MODULE_LICENSE("GPL");
