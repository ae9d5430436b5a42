/* vma->vm_flags became const; vm_flags_set() changes them (v6.3) */
#include <linux/mm.h>
void p2pmap_conftest_vm_flags_set(struct vm_area_struct *vma);
void p2pmap_conftest_vm_flags_set(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_DONTCOPY);
}
