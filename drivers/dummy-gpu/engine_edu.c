// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_dgpu: the edu engine. QEMU's edu device (1234:11e8) is a real PCI
 * bus master with one DMA channel and a 4 KiB buffer at device address
 * 0x40000: a copy is a DMA from the source bus address into the buffer and
 * a DMA from the buffer to the destination bus address. Each DMA takes
 * about 100 ms (a QEMU timer), and a page takes four (see EDU_DMA_MAX),
 * so this engine is for proving bus addresses on a few pages: a P2P source
 * is read by edu straight from the NVMe CMB.
 */
#define pr_fmt(fmt) "p2pmap_dgpu: " fmt

#include <linux/crc32.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "dgpu.h"

#define EDU_REG_IDENT		0x00	/* 0x010000ed: version 1.0, 0xed */
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_IDENT_MAGIC		0xed
#define EDU_DMA_START		BIT(0)	/* set to start; reads 1 while busy */
#define EDU_DMA_TO_PCI		BIT(1)	/* edu buffer -> bus address */
#define EDU_DMA_IRQ		BIT(2)	/* raise EDU_IRQ_DMA when done */
#define EDU_IRQ_DMA		0x100

#define EDU_BUF_ADDR		0x40000
#define EDU_BUF_SIZE		4096
/*
 * QEMU 7.2's range check (edu_check_range) wants the end of a DMA strictly
 * inside the buffer, so its last byte is unusable (later QEMU fixed the
 * off-by-one): a page takes two DMAs each way, 4095 bytes and 1.
 */
#define EDU_DMA_MAX		(EDU_BUF_SIZE - 1)

/* ten times what a DMA takes: past that the device is not working */
#define EDU_DMA_TIMEOUT_MS	1000

/**
 * struct dgpu_edu - the edu engine
 * @engine: the engine interface.
 * @pdev: the edu PCI function.
 * @regs: BAR0.
 * @irq: the interrupt vector's Linux IRQ.
 * @lock: see below.
 * @done: completed by the interrupt handler when a DMA ends.
 * @scratch: where a checksum's bytes land for the CPU to add them up.
 * @broken: a DMA never finished; the engine refuses work from then on,
 *	because the device may still write to a buffer that was reused.
 */
struct dgpu_edu {
	struct dgpu_engine engine;
	struct pci_dev *pdev;
	void __iomem *regs;
	int irq;

	/*
	 * lock serialises the DMA channel, the edu buffer, @scratch, @broken,
	 * and the engine's own DMA mappings of VRAM pages.
	 */
	struct mutex lock;
	struct completion done;
	struct page *scratch;
	bool broken;
};

static struct dgpu_edu *to_edu(struct dgpu_engine *engine)
{
	return container_of(engine, struct dgpu_edu, engine);
}

static irqreturn_t dgpu_edu_irq(int irq, void *data)
{
	struct dgpu_edu *edu = data;
	u32 status = readl(edu->regs + EDU_REG_IRQ_STATUS);

	if (!status)
		return IRQ_NONE;	/* a shared line: not ours */
	writel(status, edu->regs + EDU_REG_IRQ_ACK);
	if (status & EDU_IRQ_DMA)
		complete(&edu->done);
	return IRQ_HANDLED;
}

/*
 * One DMA between a bus address and the edu buffer; sleeps until it ends.
 * A cancelled job starts no new DMA.
 */
static int dgpu_edu_dma_locked(struct dgpu_edu *edu, dma_addr_t bus,
			       unsigned int len, bool to_pci,
			       const atomic_t *cancel)
{
	lockdep_assert_held(&edu->lock);
	if (edu->broken)
		return -EIO;
	if (atomic_read(cancel))
		return -ECANCELED;
	if (WARN_ON_ONCE(!len || len > EDU_DMA_MAX))
		return -EINVAL;

	reinit_completion(&edu->done);
	writeq(to_pci ? EDU_BUF_ADDR : bus, edu->regs + EDU_REG_DMA_SRC);
	writeq(to_pci ? bus : EDU_BUF_ADDR, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_COUNT);
	writeq(EDU_DMA_START | EDU_DMA_IRQ | (to_pci ? EDU_DMA_TO_PCI : 0),
	       edu->regs + EDU_REG_DMA_CMD);

	if (!wait_for_completion_timeout(&edu->done,
					 msecs_to_jiffies(EDU_DMA_TIMEOUT_MS)) &&
	    (readq(edu->regs + EDU_REG_DMA_CMD) & EDU_DMA_START)) {
		/* an interrupt may get lost; a DMA still running is broken */
		edu->broken = true;
		dev_err(&edu->pdev->dev, "edu DMA did not finish in %u ms; engine disabled\n",
			EDU_DMA_TIMEOUT_MS);
		return -EIO;
	}
	return 0;
}

/* The bus address of a span, mapping a VRAM page for the DMA if needed. */
static int dgpu_edu_map(struct dgpu_edu *edu, const struct dgpu_span *span,
			unsigned int len, enum dma_data_direction dir,
			dma_addr_t *bus)
{
	struct device *dev = &edu->pdev->dev;

	if (span->mapped) {
		*bus = span->addr + span->offset;
		return 0;
	}
	*bus = dma_map_page(dev, span->page, span->offset, len, dir);
	return dma_mapping_error(dev, *bus) ? -ENOMEM : 0;
}

static void dgpu_edu_unmap(struct dgpu_edu *edu, const struct dgpu_span *span,
			   unsigned int len, enum dma_data_direction dir,
			   dma_addr_t bus)
{
	if (!span->mapped)
		dma_unmap_page(&edu->pdev->dev, bus, len, dir);
}

static int dgpu_edu_copy(struct dgpu_engine *engine, const struct dgpu_span *dst,
			 const struct dgpu_span *src, unsigned int len,
			 const atomic_t *cancel)
{
	struct dgpu_edu *edu = to_edu(engine);
	unsigned int done, n;
	dma_addr_t from, to;
	int ret;

	/*
	 * Under the lock: two jobs writing one VRAM page must not hold two
	 * device-writable mappings of it at once (DMA-API debugging says
	 * overlapping mappings are not supported).
	 */
	mutex_lock(&edu->lock);
	ret = dgpu_edu_map(edu, src, len, DMA_TO_DEVICE, &from);
	if (ret)
		goto out_unlock;
	ret = dgpu_edu_map(edu, dst, len, DMA_FROM_DEVICE, &to);
	if (ret)
		goto out_unmap_src;

	for (done = 0; !ret && done < len; done += n) {
		n = min_t(unsigned int, len - done, EDU_DMA_MAX);
		ret = dgpu_edu_dma_locked(edu, from + done, n, false, cancel);
		if (!ret)
			ret = dgpu_edu_dma_locked(edu, to + done, n, true, cancel);
	}

	dgpu_edu_unmap(edu, dst, len, DMA_FROM_DEVICE, to);
out_unmap_src:
	dgpu_edu_unmap(edu, src, len, DMA_TO_DEVICE, from);
out_unlock:
	mutex_unlock(&edu->lock);
	return ret;
}

static int dgpu_edu_checksum(struct dgpu_engine *engine,
			     const struct dgpu_span *src, unsigned int len,
			     u32 *crc, const atomic_t *cancel)
{
	struct dgpu_edu *edu = to_edu(engine);
	struct device *dev = &edu->pdev->dev;
	unsigned int done, n;
	dma_addr_t from, to;
	int ret;

	mutex_lock(&edu->lock);
	ret = dgpu_edu_map(edu, src, len, DMA_TO_DEVICE, &from);
	if (ret)
		goto out_unlock;
	to = dma_map_page(dev, edu->scratch, 0, len, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, to)) {
		ret = -ENOMEM;
		goto out_unmap_src;
	}
	for (done = 0; !ret && done < len; done += n) {
		n = min_t(unsigned int, len - done, EDU_DMA_MAX);
		ret = dgpu_edu_dma_locked(edu, from + done, n, false, cancel);
		if (!ret)
			ret = dgpu_edu_dma_locked(edu, to + done, n, true, cancel);
	}
	dma_unmap_page(dev, to, len, DMA_FROM_DEVICE);
	if (!ret)
		*crc = crc32_le(*crc, page_address(edu->scratch), len);
out_unmap_src:
	dgpu_edu_unmap(edu, src, len, DMA_TO_DEVICE, from);
out_unlock:
	mutex_unlock(&edu->lock);
	return ret;
}

static const struct dgpu_engine_ops dgpu_edu_ops = {
	.copy = dgpu_edu_copy,
	.checksum = dgpu_edu_checksum,
};

/**
 * dgpu_engine_edu_create() - the edu engine of a PCI instance
 * @dgpu: the device; @dgpu->pdev is enabled, a bus master, with its DMA
 *	mask set.
 *
 * Maps BAR0 (device-managed), checks the identification register and
 * requests the interrupt.
 *
 * Context: process context; sleeps.
 * Return: the engine, ERR_PTR(-ENODEV) if the function is not an edu
 * device, or another ERR_PTR().
 */
struct dgpu_engine *dgpu_engine_edu_create(struct dgpu_device *dgpu)
{
	struct pci_dev *pdev = dgpu->pdev;
	struct dgpu_edu *edu;
	u32 ident;
	int ret;

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return ERR_PTR(-ENOMEM);
	edu->engine.ops = &dgpu_edu_ops;
	edu->engine.id = P2PMAP_DGPU_ENGINE_EDU;
	edu->engine.exclusive = true;
	mutex_init(&edu->engine.lock);
	edu->pdev = pdev;
	mutex_init(&edu->lock);
	init_completion(&edu->done);

	edu->scratch = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!edu->scratch) {
		ret = -ENOMEM;
		goto out_free_edu;
	}

	ret = pcim_iomap_regions(pdev, BIT(0), "p2pmap_dgpu");
	if (ret)
		goto out_free_scratch;
	edu->regs = pcim_iomap_table(pdev)[0];
	ident = readl(edu->regs + EDU_REG_IDENT);
	if ((ident & 0xff) != EDU_IDENT_MAGIC) {
		dev_err(&pdev->dev, "not an edu device (ident %#x)\n", ident);
		ret = -ENODEV;
		goto out_unmap;
	}
	/* acknowledge whatever a previous user left raised */
	writel(readl(edu->regs + EDU_REG_IRQ_STATUS), edu->regs + EDU_REG_IRQ_ACK);

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI | PCI_IRQ_LEGACY);
	if (ret < 0)
		goto out_unmap;
	edu->irq = pci_irq_vector(pdev, 0);
	ret = request_irq(edu->irq, dgpu_edu_irq, IRQF_SHARED, "p2pmap_dgpu", edu);
	if (ret)
		goto out_free_vectors;

	dev_info(&pdev->dev, "edu engine: ident %#x, irq %d\n", ident, edu->irq);
	return &edu->engine;

out_free_vectors:
	pci_free_irq_vectors(pdev);
out_unmap:
	pcim_iounmap_regions(pdev, BIT(0));
out_free_scratch:
	__free_page(edu->scratch);
out_free_edu:
	kfree(edu);
	return ERR_PTR(ret);
}

/**
 * dgpu_engine_edu_destroy() - stop and free the edu engine
 * @engine: from dgpu_engine_edu_create(); NULL is ignored. No job may run:
 *	every DMA has finished (each one waits for its end).
 *
 * Context: process context; sleeps.
 */
void dgpu_engine_edu_destroy(struct dgpu_engine *engine)
{
	struct dgpu_edu *edu;

	if (!engine)
		return;
	edu = to_edu(engine);
	free_irq(edu->irq, edu);
	pci_free_irq_vectors(edu->pdev);
	pcim_iounmap_regions(edu->pdev, BIT(0));
	__free_page(edu->scratch);
	mutex_destroy(&edu->lock);
	mutex_destroy(&edu->engine.lock);
	kfree(edu);
}
