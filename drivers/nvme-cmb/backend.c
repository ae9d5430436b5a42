// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap nvme-cmb: the memory behind a CMB, two backends.
 *
 * compat (kernels without CONFIG_PCI_P2PDMA, such as Debian's 6.1): nvme-pci
 * tried to register the CMB with P2PDMA, failed, and wrote 0 to CMBMSC; it
 * does so again on every controller reset. This backend enables the CMB
 * again (CMBMSC.CRE|CMSE with the CMB's bus address, as nvme_map_cmb()
 * does), creates ZONE_DEVICE pages over it with memremap_pages() under its
 * own lifetime (MEMORY_DEVICE_GENERIC), and makes sure their linear mapping
 * is uncached: the BAR is ioremap()ed (UC-) before memremap_pages(), so that
 * PAT's memtype for the range is UC- and track_pfn_remap() hands the same
 * type to the linear mapping; the mapping is then checked page table entry
 * by entry and the CMB refused if it is cacheable.
 *
 * p2pdma (CONFIG_PCI_P2PDMA): nvme-pci registered and published the CMB
 * itself; this backend takes one contiguous piece of it with
 * pci_alloc_p2pmem().
 *
 * Both refuse a controller whose DMA would not reach the CMB pages as they
 * are (dma_ops, an IOMMU domain that translates, swiotlb bouncing, memory
 * encryption, a DMA mask or bus offset that does not fit): data silently
 * passing through RAM is the failure this module must never have.
 */
#define pr_fmt(fmt) "p2pmap-nvme-cmb: " fmt

#include <linux/cc_platform.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-hi-lo.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iommu.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/nvme.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/swiotlb.h>
#ifdef CONFIG_X86
#include <asm/pgtable_types.h>
#endif

#include "nvme-cmb.h"

/* The controller registers we touch: CAP, CMBLOC, CMBSZ, CMBMSC. */
#define NVME_CMB_REGS_LEN	0x1000

/**
 * nvme_cmb_dma_direct_check() - will @pdev's DMA reach [@phys, @phys+@size)
 *	unchanged?
 * @pdev: the device that will DMA (the NVMe controller).
 * @phys: CPU physical address of the target pages.
 * @size: their length.
 * @why: a reason, when refused.
 * @len: size of @why.
 *
 * The block layer maps the CMB pages of a bio with dma_map_sg(); only
 * dma-direct without bouncing hands the controller the pages' own
 * address. Checked: no dma_ops (IOMMU or other DMA API implementation), no
 * translating IOMMU domain, swiotlb not forced for the device, no memory
 * encryption (which bounces through swiotlb), the DMA mask and bus limit
 * covering the range, and dma-direct's address equal to the CPU address.
 *
 * Context: process context.
 * Return: 0, or -EOPNOTSUPP with @why filled.
 */
int nvme_cmb_dma_direct_check(struct pci_dev *pdev, u64 phys, u64 size,
			      char *why, size_t len)
{
	struct device *dev = &pdev->dev;
	struct iommu_domain *domain;

	if (get_dma_ops(dev)) {
		snprintf(why, len, "DMA goes through dma_ops %ps (IOMMU or bounce buffers)",
			 get_dma_ops(dev));
		return -EOPNOTSUPP;
	}
	domain = iommu_get_domain_for_dev(dev);
	if (domain && domain->type != IOMMU_DOMAIN_IDENTITY) {
		snprintf(why, len, "an IOMMU domain (type %u) translates its DMA",
			 domain->type);
		return -EOPNOTSUPP;
	}
	if (is_swiotlb_force_bounce(dev)) {
		snprintf(why, len, "swiotlb bouncing is forced for it");
		return -EOPNOTSUPP;
	}
	if (cc_platform_has(CC_ATTR_MEM_ENCRYPT)) {
		snprintf(why, len, "memory encryption bounces DMA through swiotlb");
		return -EOPNOTSUPP;
	}
	if (phys_to_dma(dev, phys) != phys) {
		snprintf(why, len, "DMA addresses are offset from CPU addresses");
		return -EOPNOTSUPP;
	}
	if (!dma_capable(dev, phys_to_dma(dev, phys), size, true)) {
		snprintf(why, len, "its DMA mask 0x%llx does not reach the CMB",
			 dma_get_mask(dev));
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * Read the CMB's geometry the way nvme_map_cmb() does. With CAP.CMBS the
 * registers read 0 until CMBMSC.CRE is set. Return the size in bytes, or 0
 * with @why filled.
 */
static u64 nvme_cmb_geometry(struct nvme_cmb *cmb, u32 *cmbsz_out,
			     u64 *offset_out, char *why, size_t len)
{
	struct pci_dev *pdev = cmb->pdev;
	u64 cap, size, offset, szu;
	u32 cmbsz, cmbloc;
	resource_size_t bar_size;

	cap = lo_hi_readq(cmb->regs + NVME_REG_CAP);
	if (!NVME_CAP_CMBS(cap)) {
		/*
		 * Without CMBMSC a controller reset cannot be seen, and the CMB
		 * could change under a device's feet. Refuse.
		 */
		snprintf(why, len, "no CMB with CMBMSC (CAP.CMBS=0)");
		return 0;
	}
	if (!(readq(cmb->regs + NVME_REG_CMBMSC) & NVME_CMBMSC_CRE))
		writel(NVME_CMBMSC_CRE, cmb->regs + NVME_REG_CMBMSC);
	cmbsz = readl(cmb->regs + NVME_REG_CMBSZ);
	if (!cmbsz) {
		snprintf(why, len, "no CMB (CMBSZ=0)");
		return 0;
	}
	*cmbsz_out = cmbsz;
	if ((cmbsz & (NVME_CMBSZ_RDS | NVME_CMBSZ_WDS)) !=
	    (NVME_CMBSZ_RDS | NVME_CMBSZ_WDS)) {
		snprintf(why, len, "CMB without read and write data support (CMBSZ=0x%x)",
			 cmbsz);
		return 0;
	}
	cmbloc = readl(cmb->regs + NVME_REG_CMBLOC);
	szu = 1ULL << (12 + 4 * ((cmbsz >> NVME_CMBSZ_SZU_SHIFT) &
				 NVME_CMBSZ_SZU_MASK));
	size = szu * ((cmbsz >> NVME_CMBSZ_SZ_SHIFT) & NVME_CMBSZ_SZ_MASK);
	offset = szu * NVME_CMB_OFST(cmbloc);
	cmb->bar = NVME_CMB_BIR(cmbloc);
	if (cmb->bar >= PCI_STD_NUM_BARS ||
	    !(pci_resource_flags(pdev, cmb->bar) & IORESOURCE_MEM)) {
		snprintf(why, len, "CMB in BAR %d, which is not a memory BAR",
			 cmb->bar);
		return 0;
	}
	bar_size = pci_resource_len(pdev, cmb->bar);
	if (offset >= bar_size) {
		snprintf(why, len, "CMB offset 0x%llx beyond BAR %d", offset,
			 cmb->bar);
		return 0;
	}
	size = min_t(u64, size, bar_size - offset);
	*offset_out = offset;
	return size;
}

/**
 * nvme_cmb_backend_alive() - is the CMB still enabled as we enabled it?
 * @cmb: the CMB.
 *
 * nvme-pci writes CMBMSC on every controller reset; a value other than ours
 * means the controller was reset (or is gone: all ones).
 *
 * Context: any context (one MMIO read).
 * Return: true when CMBMSC holds the value we wrote.
 */
bool nvme_cmb_backend_alive(struct nvme_cmb *cmb)
{
	return nvme_cmb_backend_cmbmsc(cmb) == cmb->cmbmsc;
}

/**
 * nvme_cmb_backend_cmbmsc() - the controller's CMBMSC as it reads now
 * @cmb: the CMB.
 *
 * Context: any context (one MMIO read).
 * Return: the register; all ones when the controller is gone.
 */
u64 nvme_cmb_backend_cmbmsc(struct nvme_cmb *cmb)
{
	return readq(cmb->regs + NVME_REG_CMBMSC);
}

/**
 * nvme_cmb_backend_enable() - (re-)enable CMB decoding at its bus address
 * @cmb: the CMB.
 *
 * Context: process context.
 * Return: 0, or -EIO when the controller does not keep the value.
 */
int nvme_cmb_backend_enable(struct nvme_cmb *cmb)
{
	writel(NVME_CMBMSC_CRE, cmb->regs + NVME_REG_CMBMSC);
	hi_lo_writeq(cmb->cmbmsc, cmb->regs + NVME_REG_CMBMSC);
	if (!nvme_cmb_backend_alive(cmb))
		return -EIO;
	return 0;
}

#if P2PMAP_HAVE_PCI_P2PDMA()

static int nvme_cmb_backend_map(struct nvme_cmb *cmb, u64 offset, u64 size,
				char *why, size_t len)
{
	struct pci_dev *pdev = cmb->pdev;
	void *mem = NULL;

	if (!pci_has_p2pmem(pdev)) {
		/* nvme-pci registers it in its first (asynchronous) reset */
		snprintf(why, len, "nvme did not register its CMB with P2PDMA (yet)");
		return -EAGAIN;
	}
	/* nvme may keep its queues in the CMB: take the largest piece left. */
	for (size = round_down(size, SZ_1M); size >= SZ_1M; size -= SZ_1M) {
		mem = pci_alloc_p2pmem(pdev, size);
		if (mem)
			break;
	}
	if (!mem) {
		snprintf(why, len, "no P2P memory left in the CMB");
		return -ENOMEM;
	}
	cmb->p2pmem = mem;
	cmb->kaddr = mem;
	cmb->size = size;
	cmb->bus = pci_p2pmem_virt_to_bus(pdev, mem);
	cmb->phys = page_to_phys(virt_to_page(mem));
	cmb->first_page = virt_to_page(mem);
	cmb->linear_map = "uncached (P2PDMA pgmap)";
	/* nvme-pci owns CMBMSC; watch for resets against its value. */
	cmb->cmbmsc = readq(cmb->regs + NVME_REG_CMBMSC);
	return 0;
}

static void nvme_cmb_backend_unmap(struct nvme_cmb *cmb)
{
	pci_free_p2pmem(cmb->pdev, cmb->p2pmem, cmb->size);
	cmb->p2pmem = NULL;
}

#else /* !P2PMAP_HAVE_PCI_P2PDMA(): the compat backend */

/* CMBMSC value that enables the CMB at its bus address. */
static u64 nvme_cmb_msc(struct nvme_cmb *cmb)
{
	return NVME_CMBMSC_CRE | NVME_CMBMSC_CMSE | cmb->bus;
}

#ifdef CONFIG_X86
/* Is every page of the CMB's linear mapping uncached? */
static bool nvme_cmb_linear_map_uncached(struct nvme_cmb *cmb, char *why,
					 size_t len)
{
	const pteval_t uc_minus = cachemode2protval(_PAGE_CACHE_MODE_UC_MINUS);
	const pteval_t uc = cachemode2protval(_PAGE_CACHE_MODE_UC);
	unsigned long addr = (unsigned long)__va(cmb->phys);
	unsigned long end = addr + cmb->size;
	unsigned int level;
	pteval_t cache;
	pte_t *pte;

	while (addr < end) {
		pte = lookup_address(addr, &level);
		if (!pte || !pte_present(*pte)) {
			snprintf(why, len, "no linear mapping for a CMB page");
			return false;
		}
		cache = pte_flags(*pte) & _PAGE_CACHE_MASK;
		if (level != PG_LEVEL_4K)	/* PAT bit moves in large pages */
			cache = pte_flags(*pte) & (_PAGE_PWT | _PAGE_PCD);
		cmb->linear_map = cache == uc ? "uncached (UC)" : "uncached (UC-)";
		if (cache != uc_minus && cache != uc) {
			snprintf(why, len,
				 "linear mapping of the CMB is cacheable (pte flags 0x%llx)",
				 (u64)pte_flags(*pte));
			return false;
		}
		addr = (addr & page_level_mask(level)) + page_level_size(level);
	}
	return true;
}
#else
static bool nvme_cmb_linear_map_uncached(struct nvme_cmb *cmb, char *why,
					 size_t len)
{
	snprintf(why, len, "the compat backend checks uncached mappings on x86 only");
	return false;
}
#endif

static int nvme_cmb_backend_map(struct nvme_cmb *cmb, u64 offset, u64 size,
				char *why, size_t len)
{
	struct pci_dev *pdev = cmb->pdev;
	void *va;
	int ret;

	if (!P2PMAP_HAVE_ZONE_DEVICE() || !P2PMAP_HAVE_MEMORY_DEVICE_GENERIC()) {
		snprintf(why, len, "the kernel has no MEMORY_DEVICE_GENERIC pages");
		return -EOPNOTSUPP;
	}
	cmb->phys = pci_resource_start(pdev, cmb->bar) + offset;
	cmb->bus = pci_bus_address(pdev, cmb->bar) + offset;
	size = round_down(size, memremap_compat_align());
	if (!size || !IS_ALIGNED(cmb->phys, memremap_compat_align())) {
		snprintf(why, len, "CMB at %pa is not aligned to %lu bytes",
			 &cmb->phys, memremap_compat_align());
		return -EOPNOTSUPP;
	}
	cmb->size = size;
	if (cmb->phys != cmb->bus) {
		/* dma-direct hands out CPU addresses; they must be bus addresses. */
		snprintf(why, len, "bus address 0x%llx differs from CPU address %pa",
			 cmb->bus, &cmb->phys);
		return -EOPNOTSUPP;
	}

	/* UC- first, so that the linear mapping inherits it (see the top). */
	cmb->kaddr = (void __force *)ioremap(cmb->phys, size);
	if (!cmb->kaddr) {
		snprintf(why, len, "ioremap of the CMB failed");
		return -ENOMEM;
	}

	cmb->pgmap.type = MEMORY_DEVICE_GENERIC;
	cmb->pgmap.range.start = cmb->phys;
	cmb->pgmap.range.end = cmb->phys + size - 1;
	cmb->pgmap.nr_range = 1;
	va = memremap_pages(&cmb->pgmap, dev_to_node(&pdev->dev));
	if (IS_ERR(va)) {
		ret = PTR_ERR(va);
		snprintf(why, len, "memremap_pages failed (%d)", ret);
		goto out_iounmap;
	}
	if (!nvme_cmb_linear_map_uncached(cmb, why, len)) {
		ret = -EOPNOTSUPP;
		goto out_memunmap;
	}
	cmb->first_page = pfn_to_page(PHYS_PFN(cmb->phys));
	cmb->cmbmsc = nvme_cmb_msc(cmb);
	ret = nvme_cmb_backend_enable(cmb);
	if (ret) {
		snprintf(why, len, "the controller does not keep CMBMSC=0x%llx",
			 cmb->cmbmsc);
		goto out_memunmap;
	}
	return 0;

out_memunmap:
	memunmap_pages(&cmb->pgmap);
out_iounmap:
	iounmap((void __iomem __force *)cmb->kaddr);
	cmb->kaddr = NULL;
	return ret;
}

static void nvme_cmb_backend_unmap(struct nvme_cmb *cmb)
{
	memunmap_pages(&cmb->pgmap);
	iounmap((void __iomem __force *)cmb->kaddr);
	cmb->kaddr = NULL;
	/* Leave CMBMSC as nvme-pci left it. */
	if (pci_device_is_present(cmb->pdev))
		hi_lo_writeq(0, cmb->regs + NVME_REG_CMBMSC);
}

#endif /* P2PMAP_HAVE_PCI_P2PDMA() */

/**
 * nvme_cmb_backend_probe() - find the CMB of @cmb->pdev and make it usable
 * @cmb: a CMB with @pdev set.
 * @why: a reason, when refused.
 * @len: size of @why.
 *
 * Context: process context, with @cmb->pdev's driver (nvme) bound.
 * Return: 0, -ENODEV when the controller has no usable CMB, -EAGAIN when
 * nvme-pci has not set it up yet (p2pdma), -EOPNOTSUPP when DMA to it would
 * not be peer to peer, or another negative errno; @why says which.
 */
int nvme_cmb_backend_probe(struct nvme_cmb *cmb, char *why, size_t len)
{
	struct pci_dev *pdev = cmb->pdev;
	u64 size, offset = 0;
	u32 cmbsz = 0;
	int ret;

	cmb->regs = ioremap(pci_resource_start(pdev, 0), NVME_CMB_REGS_LEN);
	if (!cmb->regs) {
		snprintf(why, len, "cannot map the controller registers");
		return -ENOMEM;
	}
	if (readl(cmb->regs + NVME_REG_CSTS) == ~0U) {
		snprintf(why, len, "controller registers read all ones");
		ret = -ENODEV;
		goto out_unmap_regs;
	}
	if (P2PMAP_HAVE_PCI_P2PDMA() && pci_has_p2pmem(pdev)) {
		/* nvme-pci set up the CMB; do not touch its registers. */
		cmb->bar = NVME_CMB_BIR(readl(cmb->regs + NVME_REG_CMBLOC));
		size = pci_resource_len(pdev, cmb->bar);
	} else {
		size = nvme_cmb_geometry(cmb, &cmbsz, &offset, why, len);
		if (!size) {
			if (!P2PMAP_HAVE_PCI_P2PDMA())
				hi_lo_writeq(0, cmb->regs + NVME_REG_CMBMSC);
			ret = -ENODEV;
			goto out_unmap_regs;
		}
	}
	ret = nvme_cmb_backend_map(cmb, offset, size, why, len);
	if (ret)
		goto out_unmap_regs;
	cmb->npages = cmb->size >> PAGE_SHIFT;
	ret = nvme_cmb_dma_direct_check(pdev, cmb->phys, cmb->size, why, len);
	if (ret)
		goto out_backend_unmap;
	return 0;

out_backend_unmap:
	nvme_cmb_backend_unmap(cmb);
out_unmap_regs:
	iounmap(cmb->regs);
	cmb->regs = NULL;
	return ret;
}

/**
 * nvme_cmb_backend_remove() - give the CMB back
 * @cmb: a CMB set up by nvme_cmb_backend_probe(); no page may be in use.
 *
 * Context: process context; before nvme-pci's remove() runs.
 */
void nvme_cmb_backend_remove(struct nvme_cmb *cmb)
{
	nvme_cmb_backend_unmap(cmb);
	iounmap(cmb->regs);
	cmb->regs = NULL;
}
