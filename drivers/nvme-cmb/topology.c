// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap nvme-cmb: can a client device reach the CMB peer to peer?
 *
 * The rules of upstream pci_p2pdma_distance() (drivers/pci/p2pdma.c), for
 * kernels without CONFIG_PCI_P2PDMA: the two functions must share an
 * upstream bridge, and no bridge on the path between them may redirect
 * peer-to-peer requests upstream (ACS RR, CR or EC). A route only through
 * the host bridge is refused: chunks carry bus addresses that the client
 * uses as they are, which a host bridge path would need mapped. With
 * CONFIG_PCI_P2PDMA, pci_p2pdma_distance_many() must agree as well.
 */
#define pr_fmt(fmt) "p2pmap-nvme-cmb: " fmt

#include <linux/pci.h>
#include <linux/pci-p2pdma.h>

#include "nvme-cmb.h"

/* Does @pdev redirect P2P requests upstream (pci_bridge_has_acs_redir)? */
static bool nvme_cmb_acs_redirects(struct pci_dev *pdev)
{
	u16 ctrl;
	int pos;

	pos = pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_ACS);
	if (!pos)
		return false;
	pci_read_config_word(pdev, pos + PCI_ACS_CTRL, &ctrl);
	return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

/* The common upstream bridge of @a and @b (or @a itself), or NULL. */
static struct pci_dev *nvme_cmb_common_upstream(struct pci_dev *a,
						struct pci_dev *b)
{
	struct pci_dev *up, *bb;

	for (up = a; up; up = pci_upstream_bridge(up))
		for (bb = b; bb; bb = pci_upstream_bridge(bb))
			if (up == bb)
				return up;
	return NULL;
}

/* The first bridge from @from up to @common (included) that redirects. */
static struct pci_dev *nvme_cmb_acs_on_path(struct pci_dev *from,
					    struct pci_dev *common)
{
	struct pci_dev *p;

	for (p = from; p; p = pci_upstream_bridge(p)) {
		if (nvme_cmb_acs_redirects(p))
			return p;
		if (p == common)
			break;
	}
	return NULL;
}

/**
 * nvme_cmb_reach() - p2pmap_provider_ops.reach
 * @provider: the CMB's provider.
 * @client: the device that would DMA to the CMB.
 * @why: the reason, when it cannot.
 * @len: size of @why.
 *
 * Context: process context.
 * Return: 0 when @client reaches the CMB by bus address through a common
 * upstream bridge, -EXDEV with @why filled otherwise.
 */
int nvme_cmb_reach(struct p2pmap_provider *provider, struct device *client,
		   char *why, size_t len)
{
	struct nvme_cmb *cmb = to_nvme_cmb(provider);
	struct pci_dev *pdev, *common, *acs;

	if (!client || !dev_is_pci(client)) {
		snprintf(why, len, "%s is not a PCI device",
			 client ? dev_name(client) : "(none)");
		return -EXDEV;
	}
	pdev = to_pci_dev(client);
	if (pdev == cmb->pdev)
		return 0;

	common = nvme_cmb_common_upstream(cmb->pdev, pdev);
	if (!common) {
		snprintf(why, len, "%s and %s (%s) share no upstream bridge",
			 pci_name(pdev), cmb->name, pci_name(cmb->pdev));
		return -EXDEV;
	}
	acs = nvme_cmb_acs_on_path(cmb->pdev, common);
	if (!acs)
		acs = nvme_cmb_acs_on_path(pdev, common);
	if (acs) {
		snprintf(why, len, "ACS redirection on bridge %s between %s and %s (%s)",
			 pci_name(acs), pci_name(pdev), cmb->name,
			 pci_name(cmb->pdev));
		return -EXDEV;
	}
#if P2PMAP_HAVE_PCI_P2PDMA()
	{
		struct device *clients[] = { client };

		if (pci_p2pdma_distance_many(cmb->pdev, clients, 1, false) < 0) {
			snprintf(why, len, "pci_p2pdma_distance: no P2P route from %s to %s (%s)",
				 pci_name(pdev), cmb->name, pci_name(cmb->pdev));
			return -EXDEV;
		}
	}
#endif
	return 0;
}
