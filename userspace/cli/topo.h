/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap topo: a model of what matters for P2P on this system, the routes
 * computed on it, and its output. topo.c fills the model (libpci, libnvme,
 * sysfs, debugfs, the kernel's own answer); topo_model.c computes routes
 * and prints, on the model alone, so that tests/host can build topologies
 * of their own (flat, switch, ACS) and check the answers.
 *
 * Routes follow the rule the kernel applies (drivers/nvme-cmb/topology.c,
 * after upstream pci_p2pdma_distance()): the importer and the NVMe
 * function must share an upstream bridge (or be the same function), and no
 * function on the way from either up to that bridge, both included, may
 * redirect P2P requests upstream (ACS RR, CR or EC enabled).
 */
#ifndef _P2PMAP_CLI_TOPO_H
#define _P2PMAP_CLI_TOPO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

#define TOPO_MAX_PCI		256
#define TOPO_MAX_NVME		32
#define TOPO_MAX_NS		16
#define TOPO_MAX_IMPORTERS	32
#define TOPO_MAX_ROUTES		(TOPO_MAX_IMPORTERS * TOPO_MAX_NVME)
#define TOPO_MAX_NOTES		8

/* The ACS control bits that redirect P2P upstream (pci_bridge_has_acs_redir). */
#define TOPO_ACS_REDIRECT_BITS	(0x0004 | 0x0008 | 0x0020)	/* RR | CR | EC */

/**
 * enum topo_acs - what a function's ACS capability does to P2P
 * @TOPO_ACS_UNKNOWN: its extended config space cannot be read (not root).
 * @TOPO_ACS_ABSENT: it has no ACS capability.
 * @TOPO_ACS_NO_REDIRECT: ACS, with no redirection enabled.
 * @TOPO_ACS_REDIRECT: ACS redirects P2P requests upstream (RR, CR or EC).
 */
enum topo_acs {
	TOPO_ACS_UNKNOWN,
	TOPO_ACS_ABSENT,
	TOPO_ACS_NO_REDIRECT,
	TOPO_ACS_REDIRECT,
};

/**
 * struct topo_pci - one PCI function
 * @addr: "0000:03:00.0".
 * @vendor: vendor ID.
 * @device: device ID.
 * @class: base class << 8 | subclass (0x0108 NVMe, 0x0604 PCI bridge).
 * @upstream: the address of its upstream bridge, or "" on a root bus.
 * @parent: index of @upstream in struct topo's @pci, or -1 (topo_finish()
 *	sets it).
 * @port_type: its PCIe port type (PCI_EXP_TYPE_*), or -1 when unknown or
 *	not PCIe.
 * @acs: its ACS capability.
 * @acs_ctrl: the ACS control register, when @acs is NO_REDIRECT or REDIRECT.
 * @driver: the driver bound to it, or "".
 * @label: a short name for people: "edu", "nvme0", "PCIe switch upstream
 *	port".
 * @importer_capable: it could import (edu, a display controller, a
 *	processing accelerator, or a p2pmap importer is registered on it).
 * @shown: it matters for P2P: an NVMe controller, an importer-capable
 *	function, or a bridge above one.
 */
struct topo_pci {
	char addr[16];
	uint16_t vendor;
	uint16_t device;
	uint16_t class;
	char upstream[16];
	int parent;
	int port_type;
	enum topo_acs acs;
	uint16_t acs_ctrl;
	char driver[32];
	char label[48];
	bool importer_capable;
	bool shown;
};

/**
 * struct topo_importer - a p2pmap importer (from debugfs)
 * @name: its debugfs name, "0000:04:00.0-0".
 * @device: its device's name, "0000:04:00.0" (not always a PCI function).
 * @pci: index of that PCI function, or -1.
 */
struct topo_importer {
	char name[64];
	char device[64];
	int pci;
};

/**
 * struct topo_cmb - an NVMe controller's CMB, as far as it can be known
 * @provider_known: nvme-cmb's debugfs could be read: @provider and
 *	@provider_note are facts.
 * @nvme_cmb_loaded: module p2pmap_nvme_cmb is loaded.
 * @provider: nvme-cmb offers this CMB to p2pmap; the members below are set.
 * @provider_note: when it does not, nvme-cmb's reason ("no CMB (CMBSZ=0)"),
 *	or "" when it said nothing about the controller.
 * @size: bytes of the CMB.
 * @bar: the BAR that holds it.
 * @bus_addr: its bus address.
 * @backend: nvme-cmb's backend ("compat", "p2pdma").
 * @state: "live", "resetting", "going".
 * @in_use: bytes holding staged data.
 * @regs_known: @cmbsz and @cmbloc are nvme's (sysfs attributes cmbsz,
 *	cmbloc: present when nvme-pci registered the CMB itself).
 * @cmbsz: the CMBSZ register.
 * @cmbloc: the CMBLOC register.
 */
struct topo_cmb {
	bool provider_known;
	bool nvme_cmb_loaded;
	bool provider;
	char provider_note[192];
	uint64_t size;
	int bar;
	uint64_t bus_addr;
	char backend[32];
	char state[32];
	uint64_t in_use;
	bool regs_known;
	uint32_t cmbsz;
	uint32_t cmbloc;
};

/**
 * struct topo_nvme - an NVMe controller (from libnvme)
 * @name: "nvme0".
 * @transport: "pcie", "tcp", ...
 * @address: the transport address ("0000:03:00.0" for PCIe).
 * @model: model number.
 * @serial: serial number.
 * @firmware: firmware revision.
 * @state: "live", ...
 * @pci: index of its PCI function, or -1.
 * @nr_ns: entries in @ns.
 * @ns: its namespaces' block devices ("nvme0n1").
 * @mount_dir: where one of them is mounted, or "".
 * @mount_fstype: the file system mounted there.
 * @probe_file: the file the kernel was asked about, or "".
 * @probe_note: why no file was asked about, when @probe_file is "".
 * @cmb: its CMB.
 */
struct topo_nvme {
	char name[32];
	char transport[16];
	char address[64];
	char model[64];
	char serial[64];
	char firmware[32];
	char state[32];
	int pci;
	unsigned int nr_ns;
	char ns[TOPO_MAX_NS][32];
	char mount_dir[1024];
	char mount_fstype[32];
	char probe_file[1024];
	char probe_note[256];
	struct topo_cmb cmb;
};

/**
 * enum topo_verdict - whether an importer reaches a CMB peer to peer
 * @TOPO_ROUTE_P2P: it does.
 * @TOPO_ROUTE_NONE: it does not; the route's @cause and @reason say why.
 * @TOPO_ROUTE_UNKNOWN: it cannot be told (config space or debugfs cannot
 *	be read); @reason says what is missing.
 */
enum topo_verdict {
	TOPO_ROUTE_P2P,
	TOPO_ROUTE_NONE,
	TOPO_ROUTE_UNKNOWN,
};

/**
 * enum topo_cause - why there is no route
 * @TOPO_CAUSE_NONE: there is one (or it is unknown).
 * @TOPO_CAUSE_NO_CMB: the controller has no CMB that p2pmap can use.
 * @TOPO_CAUSE_NOT_PCI: the importer or the controller is not a PCI function.
 * @TOPO_CAUSE_NO_COMMON_BRIDGE: they share no upstream bridge.
 * @TOPO_CAUSE_ACS: a function on the way redirects P2P upstream.
 */
enum topo_cause {
	TOPO_CAUSE_NONE,
	TOPO_CAUSE_NO_CMB,
	TOPO_CAUSE_NOT_PCI,
	TOPO_CAUSE_NO_COMMON_BRIDGE,
	TOPO_CAUSE_ACS,
};

/**
 * enum topo_kernel - what the kernel answered for a route (P2PMAP_IOC_CHECK
 * with P2PMAP_CHECK_DEVICE on a file of the controller)
 * @TOPO_KERNEL_NOT_ASKED: it was not asked; the route's @kernel_why says why.
 * @TOPO_KERNEL_P2P: a range of the file would be read P2P.
 * @TOPO_KERNEL_NO_ROUTE: the provider refused the device (its reason is
 *	in @kernel_why).
 * @TOPO_KERNEL_NO_CMB: the file's block device has no provider.
 * @TOPO_KERNEL_UNDECIDED: no range of the file got as far as the provider
 *	(holes, a file system without hooks ...); @kernel_why says why.
 */
enum topo_kernel {
	TOPO_KERNEL_NOT_ASKED,
	TOPO_KERNEL_P2P,
	TOPO_KERNEL_NO_ROUTE,
	TOPO_KERNEL_NO_CMB,
	TOPO_KERNEL_UNDECIDED,
};

/**
 * struct topo_route - from one importer-capable device to one controller
 * @importer: index in @pci of the importing function, or -1 for an
 *	importer that is not a PCI function.
 * @importer_name: for @importer -1: the importer's device name.
 * @nvme: index in @nvme.
 * @verdict: P2P, none or unknown.
 * @cause: why none.
 * @via: index in @pci of the common upstream bridge (or of the function
 *	itself when importer and controller are one), or -1.
 * @reason: for people: "edu 0000:00:02.0 and nvme0 (0000:03:00.0) share no
 *	upstream bridge"; "" for P2P.
 * @kernel: the kernel's answer.
 * @kernel_why: the kernel's explanation, or why it was not asked.
 * @agrees: 1 the kernel agrees, 0 it disagrees, -1 not compared.
 */
struct topo_route {
	int importer;
	char importer_name[64];
	int nvme;
	enum topo_verdict verdict;
	enum topo_cause cause;
	int via;
	char reason[256];
	enum topo_kernel kernel;
	char kernel_why[256];
	int agrees;
};

/**
 * struct topo - everything 'p2pmap topo' shows
 * @nr_pci: entries in @pci.
 * @pci: every PCI function (only those @shown are printed).
 * @nr_nvme: entries in @nvme.
 * @nvme: NVMe controllers.
 * @importers_known: @importers could be read (debugfs).
 * @nr_importers: entries in @importers.
 * @importers: p2pmap importers.
 * @nr_routes: entries in @routes.
 * @routes: per importer-capable device and controller.
 * @nr_notes: entries in @notes.
 * @notes: what could not be found out, and why.
 */
struct topo {
	unsigned int nr_pci;
	struct topo_pci pci[TOPO_MAX_PCI];
	unsigned int nr_nvme;
	struct topo_nvme nvme[TOPO_MAX_NVME];
	bool importers_known;
	unsigned int nr_importers;
	struct topo_importer importers[TOPO_MAX_IMPORTERS];
	unsigned int nr_routes;
	struct topo_route routes[TOPO_MAX_ROUTES];
	unsigned int nr_notes;
	char notes[TOPO_MAX_NOTES][256];
};

/* Add a note to @t. */
__attribute__((format(printf, 2, 3)))
void topo_note(struct topo *t, const char *fmt, ...);

/* Index of the PCI function @addr in @t, or -1. */
int topo_pci_find(const struct topo *t, const char *addr);

/*
 * topo_common_upstream() - the common upstream bridge of functions @a and
 * @b (either of them when one is above the other, @a when they are one),
 * or -1: the kernel's nvme_cmb_common_upstream().
 */
int topo_common_upstream(const struct topo *t, int a, int b);

/*
 * topo_finish() - after the model is filled: sort the PCI functions by
 * address, link each to its upstream bridge, resolve the controllers' and
 * importers' functions by address, mark the functions that matter
 * (@shown), label them, and compute every route (importer-capable function
 * or non-PCI importer, times controller).
 */
void topo_finish(struct topo *t);

/* topo_route_compute() - fill @r's verdict, cause, via and reason. */
void topo_route_compute(const struct topo *t, struct topo_route *r);

/*
 * topo_route_agreement() - compare @r's verdict with the kernel's answer.
 * Return: 1 they agree, 0 they do not, -1 nothing to compare.
 */
int topo_route_agreement(const struct topo_route *r);

/* The reason an NVMe controller's CMB cannot serve P2P, or NULL. */
const char *topo_cmb_reason(const struct topo_nvme *n, char *buf, size_t len);

/* Return: 0, or -EINVAL for a JSON writer bug. */
int topo_print(FILE *out, enum cli_output output, const struct topo *t);

/* Names used in the JSON output. */
const char *topo_acs_name(enum topo_acs acs);
const char *topo_verdict_name(enum topo_verdict v);
const char *topo_cause_name(enum topo_cause c);
const char *topo_kernel_name(enum topo_kernel k);

#endif /* _P2PMAP_CLI_TOPO_H */
