/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, as capability macros.
 *
 * P2PMAP_HAVE_<FEATURE>() is 1 or 0. Features that a Kconfig option decides
 * are defined here; the others come from compile probes (scripts/conftest/,
 * run by the top-level Makefile into build/<kernelrelease>/p2pmap_conftest.h).
 * Code tests these macros only, never LINUX_VERSION_CODE.
 */
#ifndef _P2PMAP_COMPAT_H
#define _P2PMAP_COMPAT_H

#include <linux/kconfig.h>
#include <linux/mm.h>
#include <p2pmap_conftest.h>

#define P2PMAP_HAVE_PCI_P2PDMA()	IS_ENABLED(CONFIG_PCI_P2PDMA)
#define P2PMAP_HAVE_HMM_MIRROR()	IS_ENABLED(CONFIG_HMM_MIRROR)
#define P2PMAP_HAVE_BLOCK_LAYOUTS()	IS_ENABLED(CONFIG_EXPORTFS_BLOCK_OPS)
#define P2PMAP_HAVE_ZONE_DEVICE()	IS_ENABLED(CONFIG_ZONE_DEVICE)

/*
 * Set @flags in @vma->vm_flags. The caller holds the mmap lock for writing
 * (an ->mmap handler, or mmap_write_lock()). From v6.3 vm_flags is const
 * and vm_flags_set() asserts that lock; before, the field is written.
 */
static inline void p2pmap_vm_flags_set(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
#if P2PMAP_HAVE_VM_FLAGS_SET()
	vm_flags_set(vma, flags);
#else
	/* not mmap_assert_write_locked(): its dump_mm() is not exported */
	lockdep_assert_held_write(&vma->vm_mm->mmap_lock);
	vma->vm_flags |= flags;
#endif
}

#endif /* _P2PMAP_COMPAT_H */
