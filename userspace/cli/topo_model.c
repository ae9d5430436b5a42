// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap topo: routes on the model, and the output (see topo.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "topo.h"

/* PCIe port types (PCI_EXP_TYPE_*), as the PCIe capability encodes them. */
#define TOPO_EXP_ROOT_PORT	0x4
#define TOPO_EXP_UPSTREAM	0x5
#define TOPO_EXP_DOWNSTREAM	0x6
#define TOPO_EXP_PCI_BRIDGE	0x7

/* CMBSZ fields (NVMe base specification, Controller Memory Buffer Size). */
#define TOPO_CMBSZ_SQS		(1U << 0)
#define TOPO_CMBSZ_CQS		(1U << 1)
#define TOPO_CMBSZ_LISTS	(1U << 2)
#define TOPO_CMBSZ_RDS		(1U << 3)
#define TOPO_CMBSZ_WDS		(1U << 4)

void topo_note(struct topo *t, const char *fmt, ...)
{
	va_list ap;

	if (t->nr_notes == TOPO_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(t->notes[t->nr_notes++], sizeof(t->notes[0]), fmt, ap);
	va_end(ap);
}

int topo_pci_find(const struct topo *t, const char *addr)
{
	unsigned int i;

	for (i = 0; i < t->nr_pci; i++)
		if (!strcmp(t->pci[i].addr, addr))
			return (int)i;
	return -1;
}

int topo_common_upstream(const struct topo *t, int a, int b)
{
	int up, bb, hops_a, hops_b;

	/* bounded walks: a model with a parent loop must not hang us */
	for (up = a, hops_a = 0; up >= 0 && hops_a < TOPO_MAX_PCI;
	     up = t->pci[up].parent, hops_a++)
		for (bb = b, hops_b = 0; bb >= 0 && hops_b < TOPO_MAX_PCI;
		     bb = t->pci[bb].parent, hops_b++)
			if (up == bb)
				return up;
	return -1;
}

/*
 * On the way from @from up to @common (both included): the first function
 * that redirects P2P upstream, or -1; *@unknown: the first whose ACS cannot
 * be read, or -1.
 */
static int topo_acs_on_path(const struct topo *t, int from, int common,
			    int *unknown)
{
	int p, hops;

	*unknown = -1;
	for (p = from, hops = 0; p >= 0 && hops < TOPO_MAX_PCI;
	     p = t->pci[p].parent, hops++) {
		if (t->pci[p].acs == TOPO_ACS_REDIRECT)
			return p;
		if (t->pci[p].acs == TOPO_ACS_UNKNOWN && *unknown < 0)
			*unknown = p;
		if (p == common)
			break;
	}
	return -1;
}

const char *topo_cmb_reason(const struct topo_nvme *n, char *buf, size_t len)
{
	const struct topo_cmb *c = &n->cmb;

	if (c->provider)
		return NULL;
	if (c->provider_known && c->provider_note[0]) {
		/* nvme-cmb's "no CMB (CMBSZ=0)" becomes "no CMB on nvme0 (CMBSZ=0)" */
		if (!strncmp(c->provider_note, "no CMB", 6))
			snprintf(buf, len, "no CMB on %s%s", n->name,
				 c->provider_note + 6);
		else
			snprintf(buf, len, "the CMB of %s cannot be used: %s",
				 n->name, c->provider_note);
		return buf;
	}
	if (c->regs_known && !c->cmbsz) {
		snprintf(buf, len, "no CMB on %s (CMBSZ=0)", n->name);
		return buf;
	}
	if (!c->nvme_cmb_loaded) {
		snprintf(buf, len, "no P2P provider for %s: module p2pmap_nvme_cmb not loaded",
			 n->name);
		return buf;
	}
	if (c->provider_known) {
		snprintf(buf, len, "no P2P provider for %s: p2pmap_nvme_cmb has not looked at it (yet)",
			 n->name);
		return buf;
	}
	return NULL;	/* cannot be told */
}

/* "edu 0000:04:00.0", or the address alone when the label is it. */
static void topo_pci_name(const struct topo *t, int i, char *buf, size_t len)
{
	const struct topo_pci *p = &t->pci[i];

	if (p->label[0] && strcmp(p->label, p->addr))
		snprintf(buf, len, "%s %s", p->label, p->addr);
	else
		snprintf(buf, len, "%s", p->addr);
}

void topo_route_compute(const struct topo *t, struct topo_route *r)
{
	const struct topo_nvme *n = &t->nvme[r->nvme];
	char who[96], cmb_why[256];
	int common, acs, unknown_a, unknown_b;

	r->verdict = TOPO_ROUTE_NONE;
	r->cause = TOPO_CAUSE_NONE;
	r->via = -1;
	r->reason[0] = '\0';

	if (r->importer < 0) {
		r->cause = TOPO_CAUSE_NOT_PCI;
		snprintf(r->reason, sizeof(r->reason), "%s is not a PCI device",
			 r->importer_name);
		return;
	}
	topo_pci_name(t, r->importer, who, sizeof(who));
	if (n->pci < 0) {
		r->cause = TOPO_CAUSE_NOT_PCI;
		snprintf(r->reason, sizeof(r->reason),
			 "%s is not a PCIe controller (transport %s): it has no CMB to reach",
			 n->name, n->transport);
		return;
	}
	if (topo_cmb_reason(n, cmb_why, sizeof(cmb_why))) {
		r->cause = TOPO_CAUSE_NO_CMB;
		snprintf(r->reason, sizeof(r->reason), "%s", cmb_why);
		return;
	}

	common = topo_common_upstream(t, n->pci, r->importer);
	if (common < 0) {
		r->cause = TOPO_CAUSE_NO_COMMON_BRIDGE;
		snprintf(r->reason, sizeof(r->reason),
			 "%s and %s (%s) share no upstream bridge", who, n->name,
			 n->address);
		return;
	}
	/* the controller's side first, as the kernel looks */
	acs = topo_acs_on_path(t, n->pci, common, &unknown_a);
	if (acs < 0)
		acs = topo_acs_on_path(t, r->importer, common, &unknown_b);
	else
		unknown_b = -1;
	if (acs >= 0) {
		r->cause = TOPO_CAUSE_ACS;
		snprintf(r->reason, sizeof(r->reason),
			 "ACS redirection on bridge %s between %s and %s (%s)",
			 t->pci[acs].addr, who, n->name, n->address);
		return;
	}
	if (unknown_a >= 0 || unknown_b >= 0) {
		r->verdict = TOPO_ROUTE_UNKNOWN;
		snprintf(r->reason, sizeof(r->reason),
			 "cannot read the ACS control of %s (its extended config space needs root)",
			 t->pci[unknown_a >= 0 ? unknown_a : unknown_b].addr);
		return;
	}
	if (!n->cmb.provider) {
		r->verdict = TOPO_ROUTE_UNKNOWN;
		snprintf(r->reason, sizeof(r->reason),
			 "the PCI path allows P2P (through %s), but whether p2pmap offers the CMB of %s is unknown: nvme-cmb's debugfs cannot be read",
			 t->pci[common].addr, n->name);
		r->via = common;
		return;
	}
	r->verdict = TOPO_ROUTE_P2P;
	r->via = common;
}

int topo_route_agreement(const struct topo_route *r)
{
	switch (r->kernel) {
	case TOPO_KERNEL_P2P:
		if (r->verdict == TOPO_ROUTE_P2P)
			return 1;
		return r->verdict == TOPO_ROUTE_NONE ? 0 : -1;
	case TOPO_KERNEL_NO_ROUTE:
		if (r->verdict == TOPO_ROUTE_NONE)
			return r->cause == TOPO_CAUSE_NO_COMMON_BRIDGE ||
			       r->cause == TOPO_CAUSE_ACS ||
			       r->cause == TOPO_CAUSE_NOT_PCI;
		return r->verdict == TOPO_ROUTE_P2P ? 0 : -1;
	case TOPO_KERNEL_NO_CMB:
		if (r->verdict == TOPO_ROUTE_NONE)
			return r->cause == TOPO_CAUSE_NO_CMB;
		return r->verdict == TOPO_ROUTE_P2P ? 0 : -1;
	default:
		return -1;
	}
}

static const char *topo_importer_label(const struct topo_pci *p)
{
	if (p->vendor == 0x1234 && p->device == 0x11e8)
		return "edu";
	if ((p->class >> 8) == 0x03)
		return "display controller";
	if ((p->class >> 8) == 0x12)
		return "accelerator";
	return NULL;
}

static const char *topo_bridge_label(const struct topo_pci *p)
{
	switch (p->port_type) {
	case TOPO_EXP_ROOT_PORT:
		return "PCIe root port";
	case TOPO_EXP_UPSTREAM:
		return "PCIe switch upstream port";
	case TOPO_EXP_DOWNSTREAM:
		return "PCIe switch downstream port";
	case TOPO_EXP_PCI_BRIDGE:
		return "PCIe-to-PCI bridge";
	}
	return "PCI bridge";
}

static void topo_show_with_ancestors(struct topo *t, int i)
{
	int hops;

	for (hops = 0; i >= 0 && hops < TOPO_MAX_PCI; i = t->pci[i].parent, hops++)
		t->pci[i].shown = true;
}

static int topo_pci_cmp(const void *a, const void *b)
{
	return strcmp(((const struct topo_pci *)a)->addr,
		      ((const struct topo_pci *)b)->addr);
}

void topo_finish(struct topo *t)
{
	unsigned int i, j, k;
	const char *label;

	qsort(t->pci, t->nr_pci, sizeof(t->pci[0]), topo_pci_cmp);
	for (i = 0; i < t->nr_pci; i++)
		t->pci[i].parent = t->pci[i].upstream[0] ?
				   topo_pci_find(t, t->pci[i].upstream) : -1;
	for (i = 0; i < t->nr_nvme; i++) {
		struct topo_nvme *n = &t->nvme[i];

		n->pci = strcmp(n->transport, "pcie") ? -1 : topo_pci_find(t, n->address);
		if (n->pci >= 0)
			cli_copy(t->pci[n->pci].label, sizeof(t->pci[0].label), n->name);
	}
	for (i = 0; i < t->nr_importers; i++)
		t->importers[i].pci = topo_pci_find(t, t->importers[i].device);

	for (i = 0; i < t->nr_pci; i++) {
		struct topo_pci *p = &t->pci[i];

		label = topo_importer_label(p);
		if (label)
			p->importer_capable = true;
		if (!p->label[0]) {
			if (label)
				snprintf(p->label, sizeof(p->label), "%s", label);
			else if (p->class == 0x0604)
				snprintf(p->label, sizeof(p->label), "%s",
					 topo_bridge_label(p));
			else if (p->class == 0x0108)
				snprintf(p->label, sizeof(p->label), "NVMe controller");
		}
	}
	for (i = 0; i < t->nr_importers; i++)
		if (t->importers[i].pci >= 0)
			t->pci[t->importers[i].pci].importer_capable = true;
	for (i = 0; i < t->nr_nvme; i++)
		if (t->nvme[i].pci >= 0)
			topo_show_with_ancestors(t, t->nvme[i].pci);
	for (i = 0; i < t->nr_pci; i++)
		if (t->pci[i].importer_capable)
			topo_show_with_ancestors(t, i);

	t->nr_routes = 0;
	for (j = 0; j < t->nr_nvme; j++) {
		for (i = 0; i < t->nr_pci && t->nr_routes < TOPO_MAX_ROUTES; i++) {
			struct topo_route *r;

			if (!t->pci[i].importer_capable || (int)i == t->nvme[j].pci)
				continue;
			r = &t->routes[t->nr_routes++];
			memset(r, 0, sizeof(*r));
			r->importer = (int)i;
			r->nvme = (int)j;
			r->agrees = -1;
			topo_route_compute(t, r);
		}
		for (k = 0; k < t->nr_importers && t->nr_routes < TOPO_MAX_ROUTES; k++) {
			struct topo_route *r;

			if (t->importers[k].pci >= 0)
				continue;
			r = &t->routes[t->nr_routes++];
			memset(r, 0, sizeof(*r));
			r->importer = -1;
			snprintf(r->importer_name, sizeof(r->importer_name), "%s",
				 t->importers[k].device);
			r->nvme = (int)j;
			r->agrees = -1;
			topo_route_compute(t, r);
		}
	}
}

/* ---- names ------------------------------------------------------------------ */

const char *topo_acs_name(enum topo_acs acs)
{
	switch (acs) {
	case TOPO_ACS_ABSENT:
		return "absent";
	case TOPO_ACS_NO_REDIRECT:
		return "no_redirect";
	case TOPO_ACS_REDIRECT:
		return "redirect";
	default:
		return "unknown";
	}
}

const char *topo_verdict_name(enum topo_verdict v)
{
	switch (v) {
	case TOPO_ROUTE_P2P:
		return "p2p";
	case TOPO_ROUTE_NONE:
		return "none";
	default:
		return "unknown";
	}
}

const char *topo_cause_name(enum topo_cause c)
{
	switch (c) {
	case TOPO_CAUSE_NO_CMB:
		return "no_cmb";
	case TOPO_CAUSE_NOT_PCI:
		return "not_pci";
	case TOPO_CAUSE_NO_COMMON_BRIDGE:
		return "no_common_bridge";
	case TOPO_CAUSE_ACS:
		return "acs";
	default:
		return "none";
	}
}

const char *topo_kernel_name(enum topo_kernel k)
{
	switch (k) {
	case TOPO_KERNEL_P2P:
		return "p2p";
	case TOPO_KERNEL_NO_ROUTE:
		return "no_route";
	case TOPO_KERNEL_NO_CMB:
		return "no_cmb";
	case TOPO_KERNEL_UNDECIDED:
		return "undecided";
	default:
		return "not_asked";
	}
}

static const char *topo_port_type_name(int type)
{
	switch (type) {
	case 0x0:
		return "endpoint";
	case 0x1:
		return "legacy_endpoint";
	case TOPO_EXP_ROOT_PORT:
		return "root_port";
	case TOPO_EXP_UPSTREAM:
		return "upstream_port";
	case TOPO_EXP_DOWNSTREAM:
		return "downstream_port";
	case TOPO_EXP_PCI_BRIDGE:
		return "pcie_to_pci_bridge";
	case 0x8:
		return "pci_to_pcie_bridge";
	case 0x9:
		return "root_complex_integrated_endpoint";
	case 0xa:
		return "root_complex_event_collector";
	default:
		return NULL;
	}
}

/* ---- CMB registers -------------------------------------------------------------- */

static uint64_t topo_cmbsz_unit(uint32_t cmbsz)
{
	unsigned int szu = (cmbsz >> 8) & 0xf;

	return szu <= 6 ? 1ULL << (12 + 4 * szu) : 0;
}

static uint64_t topo_cmbsz_bytes(uint32_t cmbsz)
{
	return topo_cmbsz_unit(cmbsz) * (cmbsz >> 12);
}

static const struct {
	uint32_t bit;
	const char *name;
} topo_cmbsz_caps[] = {
	{ TOPO_CMBSZ_SQS, "sqs" },
	{ TOPO_CMBSZ_CQS, "cqs" },
	{ TOPO_CMBSZ_LISTS, "lists" },
	{ TOPO_CMBSZ_RDS, "rds" },
	{ TOPO_CMBSZ_WDS, "wds" },
};

#define TOPO_NR_CAPS	(sizeof(topo_cmbsz_caps) / sizeof(topo_cmbsz_caps[0]))

/* ---- text ---------------------------------------------------------------------- */

static void topo_text_pci(FILE *out, const struct topo *t, int parent,
			  unsigned int depth)
{
	unsigned int i, k;

	for (i = 0; i < t->nr_pci; i++) {
		const struct topo_pci *p = &t->pci[i];

		if (p->parent != parent || !p->shown)
			continue;
		fprintf(out, "%*s%s  %s  [%04x:%04x]", (int)(2 + 2 * depth), "",
			p->addr, p->label[0] ? p->label : "function", p->vendor,
			p->device);
		if (p->driver[0])
			fprintf(out, "  driver %s", p->driver);
		switch (p->acs) {
		case TOPO_ACS_REDIRECT:
			fprintf(out, "  ACS redirects P2P upstream (control 0x%04x)",
				p->acs_ctrl);
			break;
		case TOPO_ACS_NO_REDIRECT:
			fprintf(out, "  ACS without redirection (control 0x%04x)",
				p->acs_ctrl);
			break;
		case TOPO_ACS_UNKNOWN:
			fputs("  ACS unknown (needs root)", out);
			break;
		case TOPO_ACS_ABSENT:
			if (p->class == 0x0604)
				fputs("  no ACS", out);
			break;
		}
		for (k = 0; k < t->nr_importers; k++)
			if (t->importers[k].pci == (int)i)
				fprintf(out, "  importer %s", t->importers[k].name);
		fputc('\n', out);
		topo_text_pci(out, t, (int)i, depth + 1);
	}
}

static void topo_text_cmb(FILE *out, const struct topo_nvme *n)
{
	const struct topo_cmb *c = &n->cmb;
	char a[32], b[32], why[256];
	unsigned int i;

	if (c->provider) {
		fprintf(out, "    CMB: %s in BAR %d at bus address 0x%" PRIx64
			", offered by nvme-cmb (%s backend, %s, %s in use)\n",
			cli_format_bytes(c->size, a, sizeof(a)), c->bar, c->bus_addr,
			c->backend[0] ? c->backend : "?", c->state[0] ? c->state : "?",
			cli_format_bytes(c->in_use, b, sizeof(b)));
	} else if (topo_cmb_reason(n, why, sizeof(why))) {
		fprintf(out, "    CMB: none for P2P: %s\n", why);
	} else {
		fputs("    CMB: unknown (nvme-cmb's debugfs cannot be read; run as root)\n", out);
	}
	if (c->regs_known) {
		fprintf(out, "    CMBSZ 0x%08x: %s, capabilities", c->cmbsz,
			cli_format_bytes(topo_cmbsz_bytes(c->cmbsz), a, sizeof(a)));
		for (i = 0; i < TOPO_NR_CAPS; i++)
			if (c->cmbsz & topo_cmbsz_caps[i].bit)
				fprintf(out, " %s", topo_cmbsz_caps[i].name);
		fprintf(out, "; CMBLOC 0x%08x: BAR %u, offset %s\n", c->cmbloc,
			c->cmbloc & 7,
			cli_format_bytes(topo_cmbsz_unit(c->cmbsz) * (c->cmbloc >> 12),
					 b, sizeof(b)));
	} else if (n->pci >= 0) {
		fputs("    CMBSZ/CMBLOC: not shown by nvme (its cmbsz and cmbloc attributes exist only when nvme-pci registers the CMB itself, with PCI P2PDMA)\n",
		      out);
	}
}

static void topo_text(FILE *out, const struct topo *t)
{
	const struct topo_nvme *n;
	unsigned int i, k;
	char who[96];

	fputs("PCI functions that matter for P2P\n", out);
	topo_text_pci(out, t, -1, 0);
	for (i = 0, k = 0; i < t->nr_pci; i++)
		k += t->pci[i].shown;
	if (!k)
		fputs("  none: no NVMe controller and no importer-capable device\n", out);

	fputs("\nNVMe controllers\n", out);
	if (!t->nr_nvme)
		fputs("  none\n", out);
	for (i = 0; i < t->nr_nvme; i++) {
		n = &t->nvme[i];
		fprintf(out, "  %s  %s (%s)  %s  serial %s  firmware %s  %s\n", n->name,
			n->address, n->transport, n->model, n->serial, n->firmware,
			n->state);
		if (n->nr_ns) {
			fputs("    namespaces:", out);
			for (k = 0; k < n->nr_ns; k++)
				fprintf(out, "%s %s", k ? "," : "", n->ns[k]);
			if (n->mount_dir[0])
				fprintf(out, "; mounted on %s (%s)", n->mount_dir,
					n->mount_fstype);
			fputc('\n', out);
		}
		topo_text_cmb(out, n);
	}

	fputs("\nP2P routes\n", out);
	if (!t->nr_routes)
		fputs(t->nr_nvme ? "  none: no importer-capable device\n" :
		      "  none: no NVMe controller\n", out);
	for (i = 0; i < t->nr_routes; i++) {
		const struct topo_route *r = &t->routes[i];

		n = &t->nvme[r->nvme];
		if (r->importer >= 0)
			topo_pci_name(t, r->importer, who, sizeof(who));
		else
			snprintf(who, sizeof(who), "%s", r->importer_name);
		fprintf(out, "  %s -> %s (%s): ", who, n->name, n->address);
		switch (r->verdict) {
		case TOPO_ROUTE_P2P:
			if (r->via == r->importer || r->via == n->pci)
				fprintf(out, "P2P, directly\n");
			else
				fprintf(out, "P2P, through %s (%s)\n",
					t->pci[r->via].addr, t->pci[r->via].label);
			break;
		case TOPO_ROUTE_NONE:
			fprintf(out, "no P2P: %s\n", r->reason);
			break;
		default:
			fprintf(out, "unknown: %s\n", r->reason);
		}
		fputs("    kernel: ", out);
		switch (r->kernel) {
		case TOPO_KERNEL_NOT_ASKED:
			fprintf(out, "not asked: %s\n", r->kernel_why);
			continue;
		case TOPO_KERNEL_P2P:
			fprintf(out, "P2P for %s", n->probe_file);
			break;
		case TOPO_KERNEL_NO_ROUTE:
			fprintf(out, "no route for %s: %s", n->probe_file, r->kernel_why);
			break;
		case TOPO_KERNEL_NO_CMB:
			fprintf(out, "no provider for the block device of %s", n->probe_file);
			break;
		case TOPO_KERNEL_UNDECIDED:
			fprintf(out, "undecided with %s: %s", n->probe_file, r->kernel_why);
			break;
		}
		fprintf(out, "%s\n", r->agrees == 1 ? " (agrees)" :
			r->agrees == 0 ? " (DISAGREES with the computed route)" : "");
	}
	for (i = 0; i < t->nr_notes; i++)
		fprintf(out, "note: %s\n", t->notes[i]);
}

/* ---- JSON ---------------------------------------------------------------------- */

static void topo_json_hex(struct json_writer *w, const char *key, unsigned int v,
			  int digits)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%0*x", digits, v);
	json_string(w, key, buf);
}

static void topo_json_cmb(struct json_writer *w, const struct topo_nvme *n)
{
	const struct topo_cmb *c = &n->cmb;
	char why[256];
	unsigned int i;

	json_object_begin(w, "cmb");
	if (c->provider)
		json_bool(w, "provider", true);
	else if (topo_cmb_reason(n, why, sizeof(why)))
		json_bool(w, "provider", false);
	else
		json_null(w, "provider");
	if (c->provider) {
		json_u64(w, "size", c->size);
		json_i64(w, "bar", c->bar);
		json_u64(w, "bus_address", c->bus_addr);
		json_string(w, "backend", c->backend[0] ? c->backend : NULL);
		json_string(w, "state", c->state[0] ? c->state : NULL);
		json_u64(w, "in_use", c->in_use);
		json_null(w, "reason");
	} else {
		json_null(w, "size");
		json_string(w, "reason", topo_cmb_reason(n, why, sizeof(why)));
	}
	if (c->regs_known) {
		json_u64(w, "cmbsz", c->cmbsz);
		json_u64(w, "cmbloc", c->cmbloc);
		json_u64(w, "cmbsz_size", topo_cmbsz_bytes(c->cmbsz));
		json_array_begin(w, "capabilities");
		for (i = 0; i < TOPO_NR_CAPS; i++)
			if (c->cmbsz & topo_cmbsz_caps[i].bit)
				json_string(w, NULL, topo_cmbsz_caps[i].name);
		json_array_end(w);
	} else {
		json_null(w, "cmbsz");
		json_null(w, "cmbloc");
		json_null(w, "cmbsz_size");
		json_null(w, "capabilities");
	}
	json_object_end(w);
}

static int topo_json(FILE *out, const struct topo *t)
{
	struct json_writer w;
	unsigned int i, k;

	json_init(&w, out);
	json_object_begin(&w, NULL);

	json_array_begin(&w, "pci");
	for (i = 0; i < t->nr_pci; i++) {
		const struct topo_pci *p = &t->pci[i];

		if (!p->shown)
			continue;
		json_object_begin(&w, NULL);
		json_string(&w, "address", p->addr);
		topo_json_hex(&w, "vendor", p->vendor, 4);
		topo_json_hex(&w, "device", p->device, 4);
		topo_json_hex(&w, "class", p->class, 4);
		json_string(&w, "label", p->label);
		json_string(&w, "driver", p->driver[0] ? p->driver : NULL);
		json_string(&w, "upstream", p->parent >= 0 ? t->pci[p->parent].addr : NULL);
		json_string(&w, "port_type", topo_port_type_name(p->port_type));
		json_string(&w, "acs", topo_acs_name(p->acs));
		if (p->acs == TOPO_ACS_REDIRECT || p->acs == TOPO_ACS_NO_REDIRECT)
			json_u64(&w, "acs_ctrl", p->acs_ctrl);
		else
			json_null(&w, "acs_ctrl");
		json_bool(&w, "importer_capable", p->importer_capable);
		json_object_end(&w);
	}
	json_array_end(&w);

	json_array_begin(&w, "nvme");
	for (i = 0; i < t->nr_nvme; i++) {
		const struct topo_nvme *n = &t->nvme[i];

		json_object_begin(&w, NULL);
		json_string(&w, "name", n->name);
		json_string(&w, "transport", n->transport);
		json_string(&w, "address", n->address);
		json_string(&w, "pci", n->pci >= 0 ? t->pci[n->pci].addr : NULL);
		json_string(&w, "model", n->model);
		json_string(&w, "serial", n->serial);
		json_string(&w, "firmware", n->firmware);
		json_string(&w, "state", n->state);
		json_array_begin(&w, "namespaces");
		for (k = 0; k < n->nr_ns; k++)
			json_string(&w, NULL, n->ns[k]);
		json_array_end(&w);
		if (n->mount_dir[0]) {
			json_object_begin(&w, "mount");
			json_string(&w, "dir", n->mount_dir);
			json_string(&w, "fstype", n->mount_fstype);
			json_object_end(&w);
		} else {
			json_null(&w, "mount");
		}
		topo_json_cmb(&w, n);
		json_object_end(&w);
	}
	json_array_end(&w);

	if (t->importers_known) {
		json_array_begin(&w, "importers");
		for (i = 0; i < t->nr_importers; i++) {
			json_object_begin(&w, NULL);
			json_string(&w, "name", t->importers[i].name);
			json_string(&w, "device", t->importers[i].device);
			json_string(&w, "pci", t->importers[i].pci >= 0 ?
				    t->pci[t->importers[i].pci].addr : NULL);
			json_object_end(&w);
		}
		json_array_end(&w);
	} else {
		json_null(&w, "importers");
	}

	json_array_begin(&w, "routes");
	for (i = 0; i < t->nr_routes; i++) {
		const struct topo_route *r = &t->routes[i];
		const struct topo_nvme *n = &t->nvme[r->nvme];

		json_object_begin(&w, NULL);
		if (r->importer >= 0) {
			json_string(&w, "importer", t->pci[r->importer].addr);
			json_string(&w, "importer_label", t->pci[r->importer].label);
		} else {
			json_string(&w, "importer", r->importer_name);
			json_null(&w, "importer_label");
		}
		json_string(&w, "nvme", n->name);
		json_string(&w, "nvme_address", n->address);
		json_string(&w, "verdict", topo_verdict_name(r->verdict));
		json_bool(&w, "p2p", r->verdict == TOPO_ROUTE_P2P);
		json_string(&w, "cause", topo_cause_name(r->cause));
		json_string(&w, "via", r->via >= 0 ? t->pci[r->via].addr : NULL);
		json_string(&w, "reason", r->reason[0] ? r->reason : NULL);
		json_object_begin(&w, "kernel");
		json_string(&w, "answer", topo_kernel_name(r->kernel));
		json_string(&w, "file", r->kernel != TOPO_KERNEL_NOT_ASKED &&
			    n->probe_file[0] ? n->probe_file : NULL);
		json_string(&w, "why", r->kernel_why[0] ? r->kernel_why : NULL);
		if (r->agrees < 0)
			json_null(&w, "agrees");
		else
			json_bool(&w, "agrees", r->agrees == 1);
		json_object_end(&w);
		json_object_end(&w);
	}
	json_array_end(&w);

	json_array_begin(&w, "notes");
	for (i = 0; i < t->nr_notes; i++)
		json_string(&w, NULL, t->notes[i]);
	json_array_end(&w);

	json_object_end(&w);
	return json_finish(&w);
}

int topo_print(FILE *out, enum cli_output output, const struct topo *t)
{
	if (output == CLI_OUTPUT_JSON)
		return topo_json(out, t);
	topo_text(out, t);
	return 0;
}
