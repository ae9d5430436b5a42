// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap topo [--file FILE]: fill the model of topo.h from the system.
 *
 *  - PCI functions with libpci: IDs, class, driver, upstream bridge, PCIe
 *    port type and the ACS control register (extended config space: root
 *    only; without it ACS is "unknown", never assumed);
 *  - NVMe controllers with libnvme, their namespaces and where those are
 *    mounted;
 *  - CMBs from nvme-cmb's debugfs (controllers, PCI/info) and nvme's sysfs
 *    cmbsz/cmbloc when nvme-pci shows them;
 *  - importers from p2pmap's debugfs;
 *  - then, per route, the kernel's own answer: P2PMAP_IOC_CHECK with
 *    P2PMAP_CHECK_DEVICE on a file of the controller's file system.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include <nvme/tree.h>
#include <pci/pci.h>

#include "check.h"
#include "cleanup.h"
#include "stats.h"
#include "topo.h"

const struct cli_option cli_topo_options[] = {
	{ "file", CLI_ARG_REQUIRED, "FILE",
	  "ask the kernel about routes with this file (on an NVMe namespace)" },
	{ NULL },
};

#define TOPO_SYSFS_PCI		"/sys/bus/pci/devices"
#define TOPO_SYSFS_NVME		"/sys/class/nvme"
/* Bytes of a probe file the kernel is asked about. */
#define TOPO_PROBE_LENGTH	(1ULL << 20)
/* Directory entries looked at when searching a file system for a probe file. */
#define TOPO_PROBE_SEARCH	2000

/* ---- small helpers ------------------------------------------------------------ */

/* Read the first line of a small file into @buf (without its newline). */
static int topo_read_line(const char *path, char *buf, size_t len)
{
	_cleanup_fd_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *nl;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

static char *topo_read_all(const char *path)
{
	_cleanup_fd_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf = NULL, *grown;
	ssize_t n;

	if (fd < 0)
		return NULL;
	for (;;) {
		if (!buf || len + 1 >= cap) {
			grown = realloc(buf, buf ? cap *= 2 : cap);
			if (!grown) {
				free(buf);
				return NULL;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static void topo_copy(char *dst, size_t len, const char *src)
{
	cli_copy(dst, len, src);
}

/* ---- PCI: libpci -------------------------------------------------------------- */

static jmp_buf topo_pci_jmp;
static char topo_pci_msg[256];

/* libpci's fatal errors must not exit(): they become our failure. */
__attribute__((noreturn, format(printf, 1, 2)))
static void topo_pci_error(char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vsnprintf(topo_pci_msg, sizeof(topo_pci_msg), msg, ap);
	va_end(ap);
	longjmp(topo_pci_jmp, 1);
}

__attribute__((format(printf, 1, 2)))
static void topo_pci_quiet(char *msg, ...)
{
	(void)msg;
}

/* The size of a function's config space as sysfs offers it (256 or 4096). */
static off_t topo_config_size(const char *addr)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), TOPO_SYSFS_PCI "/%s/config", addr);
	return stat(path, &st) ? 0 : st.st_size;
}

/* Port type and ACS of @d; only what its config space lets us read. */
static void topo_pci_caps(struct pci_dev *d, struct topo_pci *p)
{
	struct pci_cap *cap;
	uint8_t probe[4];
	bool full, ext;

	p->port_type = -1;
	p->acs = TOPO_ACS_UNKNOWN;
	/* beyond the first 64 bytes, sysfs gives nothing to non-root */
	full = pci_read_block(d, 0x40, probe, sizeof(probe));
	if (!full)
		return;
	cap = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
	if (cap)
		p->port_type = (pci_read_word(d, cap->addr + PCI_EXP_FLAGS) &
				PCI_EXP_FLAGS_TYPE) >> 4;
	ext = topo_config_size(p->addr) > 256 &&
	      pci_read_block(d, 0x100, probe, sizeof(probe));
	if (!ext) {
		/* no extended config space at all (256 bytes): no ACS */
		if (topo_config_size(p->addr) == 256)
			p->acs = TOPO_ACS_ABSENT;
		return;
	}
	cap = pci_find_cap(d, PCI_EXT_CAP_ID_ACS, PCI_CAP_EXTENDED);
	if (!cap) {
		p->acs = TOPO_ACS_ABSENT;
		return;
	}
	p->acs_ctrl = pci_read_word(d, cap->addr + PCI_ACS_CTRL);
	p->acs = p->acs_ctrl & TOPO_ACS_REDIRECT_BITS ? TOPO_ACS_REDIRECT :
		 TOPO_ACS_NO_REDIRECT;
}

/* The upstream bridge of @addr from its sysfs path, or "" (root bus). */
static void topo_sysfs_parent(const char *addr, char *parent, size_t len)
{
	char path[256], real[4096], *slash, *name;
	unsigned int dom, bus, dev, fn;

	parent[0] = '\0';
	snprintf(path, sizeof(path), TOPO_SYSFS_PCI "/%s", addr);
	if (!realpath(path, real))
		return;
	slash = strrchr(real, '/');
	if (!slash)
		return;
	*slash = '\0';
	name = strrchr(real, '/');
	name = name ? name + 1 : real;
	if (sscanf(name, "%4x:%2x:%2x.%1x", &dom, &bus, &dev, &fn) == 4 &&
	    strlen(name) == 12)
		snprintf(parent, len, "%s", name);
}

static int topo_scan_pci(struct topo *t, char *why, size_t why_len)
{
	struct pci_access *volatile pacc = NULL;
	struct pci_dev *d;
	const char *drv;

	if (setjmp(topo_pci_jmp)) {
		snprintf(why, why_len, "libpci: %s", topo_pci_msg);
		if (pacc)
			pci_cleanup(pacc);
		return -1;
	}
	pacc = pci_alloc();
	pacc->error = topo_pci_error;
	pacc->warning = topo_pci_quiet;
	pacc->debug = topo_pci_quiet;
	pci_init(pacc);
	pci_scan_bus(pacc);

	for (d = pacc->devices; d && t->nr_pci < TOPO_MAX_PCI; d = d->next) {
		struct topo_pci *p = &t->pci[t->nr_pci];

		memset(p, 0, sizeof(*p));
		pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CAPS |
			      PCI_FILL_EXT_CAPS | PCI_FILL_DRIVER);
		snprintf(p->addr, sizeof(p->addr), "%04x:%02x:%02x.%x", d->domain,
			 d->bus, d->dev, d->func);
		p->vendor = d->vendor_id;
		p->device = d->device_id;
		p->class = d->device_class;
		p->parent = -1;
		drv = pci_get_string_property(d, PCI_FILL_DRIVER);
		if (drv) {
			const char *base = strrchr(drv, '/');

			topo_copy(p->driver, sizeof(p->driver), base ? base + 1 : drv);
		}
		topo_pci_caps(d, p);
		/*
		 * The upstream bridge is the directory sysfs puts the function
		 * in: the kernel's pci_upstream_bridge(), whatever libpci's
		 * version knows about parents.
		 */
		topo_sysfs_parent(p->addr, p->upstream, sizeof(p->upstream));
		t->nr_pci++;
	}
	pci_cleanup(pacc);
	return 0;
}

/* ---- NVMe: libnvme, sysfs, nvme-cmb's debugfs ------------------------------------------- */

/*
 * Does block device @devt belong to namespace @ns: is it the namespace, or
 * one of its partitions (whose sysfs directory is in the disk's)?
 */
static bool topo_devt_in_ns(dev_t devt, const char *ns)
{
	char path[64], real[4096], *base;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(devt),
		 minor(devt));
	if (!realpath(path, real))
		return false;
	base = strrchr(real, '/');
	if (!base)
		return false;
	if (!strcmp(base + 1, ns))
		return true;
	*base = '\0';
	base = strrchr(real, '/');
	return base && !strcmp(base + 1, ns);
}

static void topo_add_ns(struct topo_nvme *n, const char *name)
{
	unsigned int i;

	if (!name)
		return;
	for (i = 0; i < n->nr_ns; i++)
		if (!strcmp(n->ns[i], name))
			return;
	if (n->nr_ns < TOPO_MAX_NS)
		topo_copy(n->ns[n->nr_ns++], sizeof(n->ns[0]), name);
}

/* The first mount of one of @n's namespaces (or their partitions). */
static void topo_find_mount(struct topo_nvme *n, const char *mountinfo)
{
	const char *line, *nl;
	char buf[4096], dir[1024], fstype[32];
	unsigned int maj, min, i;
	char *sep;

	for (line = mountinfo; line && *line && !n->mount_dir[0];
	     line = nl ? nl + 1 : NULL) {
		size_t len;

		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (len >= sizeof(buf))
			continue;
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (sscanf(buf, "%*u %*u %u:%u %*s %1023s", &maj, &min, dir) != 3)
			continue;
		sep = strstr(buf, " - ");
		if (!sep || sscanf(sep + 3, "%31s", fstype) != 1)
			continue;
		for (i = 0; i < n->nr_ns; i++) {
			if (topo_devt_in_ns(makedev(maj, min), n->ns[i])) {
				topo_copy(n->mount_dir, sizeof(n->mount_dir), dir);
				topo_copy(n->mount_fstype, sizeof(n->mount_fstype), fstype);
				break;
			}
		}
	}
}

/* nvme's own view of the CMB registers, when nvme-pci shows them. */
static void topo_nvme_regs(struct topo_nvme *n)
{
	char path[256], line[32];

	snprintf(path, sizeof(path), TOPO_SYSFS_NVME "/%s/cmbsz", n->name);
	if (topo_read_line(path, line, sizeof(line)))
		return;
	n->cmb.cmbsz = strtoul(line, NULL, 0);
	snprintf(path, sizeof(path), TOPO_SYSFS_NVME "/%s/cmbloc", n->name);
	if (topo_read_line(path, line, sizeof(line)))
		return;
	n->cmb.cmbloc = strtoul(line, NULL, 0);
	n->cmb.regs_known = true;
}

/*
 * nvme-cmb's view: DEBUGFS/p2pmap-nvme-cmb/controllers holds one line per
 * function it looked at ("PCI NAME cmb SIZE bytes at ..." or "PCI NAME
 * none: WHY"), PCI/info the provider's details.
 */
static void topo_nvme_cmb(struct topo *t, const char *debugfs, bool loaded)
{
	char path[4096], *text, *line, *save = NULL, pci[32], name[32];
	struct cli_counter_set info;
	const struct cli_counter *c;
	const char *v;
	unsigned int i;
	int off;

	for (i = 0; i < t->nr_nvme; i++)
		t->nvme[i].cmb.nvme_cmb_loaded = loaded;
	if (!loaded)
		return;
	snprintf(path, sizeof(path), "%s/p2pmap-nvme-cmb/controllers", debugfs);
	text = topo_read_all(path);
	if (!text) {
		int e = errno;

		topo_note(t, "CMBs unknown: cannot read %s: %s%s", path, strerror(e),
			  e == EACCES || e == ENOENT ?
			  " (run as root, with debugfs mounted)" : "");
		return;
	}
	for (i = 0; i < t->nr_nvme; i++)
		t->nvme[i].cmb.provider_known = true;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct topo_nvme *n = NULL;

		if (sscanf(line, "%31s %31s %n", pci, name, &off) != 2)
			continue;
		for (i = 0; i < t->nr_nvme; i++)
			if (!strcmp(t->nvme[i].address, pci))
				n = &t->nvme[i];
		if (!n)
			continue;
		if (!strncmp(line + off, "none: ", 6)) {
			topo_copy(n->cmb.provider_note, sizeof(n->cmb.provider_note),
				  line + off + 6);
			continue;
		}
		if (strncmp(line + off, "cmb ", 4))
			continue;	/* "detached (...)": not offered now */
		snprintf(path, sizeof(path), "%s/p2pmap-nvme-cmb/%s/info", debugfs, pci);
		{
			_cleanup_free_ char *itext = topo_read_all(path);

			if (!itext)
				continue;
			memset(&info, 0, sizeof(info));
			cli_stats_parse(itext, NULL, NULL, &info);
		}
		n->cmb.provider = true;
		n->cmb.provider_note[0] = '\0';
		c = cli_stats_counter(&info, "size");
		n->cmb.size = c ? c->value : 0;
		c = cli_stats_counter(&info, "bar");
		n->cmb.bar = c ? (int)c->value : -1;
		c = cli_stats_counter(&info, "in_use");
		n->cmb.in_use = c ? c->value : 0;
		v = cli_stats_attr(&info, "bus_addr");
		n->cmb.bus_addr = v ? strtoull(v, NULL, 0) : 0;
		topo_copy(n->cmb.backend, sizeof(n->cmb.backend), cli_stats_attr(&info, "backend"));
		topo_copy(n->cmb.state, sizeof(n->cmb.state), cli_stats_attr(&info, "state"));
	}
	free(text);
}

static int topo_scan_nvme(struct topo *t, char *why, size_t why_len)
{
	_cleanup_free_ char *mountinfo = topo_read_all("/proc/self/mountinfo");
	nvme_subsystem_t s;
	nvme_root_t root;
	nvme_host_t h;
	nvme_ctrl_t c;
	nvme_ns_t ns;
	struct stat st;

	if (stat(TOPO_SYSFS_NVME, &st)) {
		topo_note(t, "no NVMe controllers: %s is missing (module nvme not loaded?)",
			  TOPO_SYSFS_NVME);
		return 0;
	}
	root = nvme_create_root(NULL, LOG_CRIT);
	if (!root) {
		snprintf(why, why_len, "libnvme: cannot create its topology: %s",
			 strerror(errno));
		return -1;
	}
	if (nvme_scan_topology(root, NULL, NULL) < 0) {
		snprintf(why, why_len, "libnvme: scanning the NVMe topology failed: %s",
			 strerror(errno));
		nvme_free_tree(root);
		return -1;
	}
	nvme_for_each_host(root, h) {
		nvme_for_each_subsystem(h, s) {
			nvme_subsystem_for_each_ctrl(s, c) {
				struct topo_nvme *n;

				if (t->nr_nvme == TOPO_MAX_NVME)
					break;
				n = &t->nvme[t->nr_nvme++];
				memset(n, 0, sizeof(*n));
				topo_copy(n->name, sizeof(n->name), nvme_ctrl_get_name(c));
				topo_copy(n->transport, sizeof(n->transport),
					  nvme_ctrl_get_transport(c));
				topo_copy(n->address, sizeof(n->address),
					  nvme_ctrl_get_address(c));
				topo_copy(n->model, sizeof(n->model), nvme_ctrl_get_model(c));
				topo_copy(n->serial, sizeof(n->serial), nvme_ctrl_get_serial(c));
				topo_copy(n->firmware, sizeof(n->firmware),
					  nvme_ctrl_get_firmware(c));
				topo_copy(n->state, sizeof(n->state), nvme_ctrl_get_state(c));
				n->pci = -1;	/* topo_finish() */
				n->cmb.bar = -1;
				nvme_ctrl_for_each_ns(c, ns)
					topo_add_ns(n, nvme_ns_get_name(ns));
				/* multipath: the namespaces are the subsystem's */
				nvme_subsystem_for_each_ns(s, ns)
					topo_add_ns(n, nvme_ns_get_name(ns));
				if (mountinfo)
					topo_find_mount(n, mountinfo);
				topo_nvme_regs(n);
			}
		}
	}
	nvme_free_tree(root);
	return 0;
}

/* ---- importers: p2pmap's debugfs ------------------------------------------------ */

static int topo_importer_cmp(const void *a, const void *b)
{
	return strcmp(((const struct topo_importer *)a)->name,
		      ((const struct topo_importer *)b)->name);
}

static void topo_scan_importers(struct topo *t, const char *debugfs)
{
	char dir[4096], path[4096 + 256 + 16];
	struct cli_counter_set set;
	struct dirent *d;
	const char *dev;
	char *text;
	DIR *dh;

	snprintf(dir, sizeof(dir), "%s/p2pmap/importers", debugfs);
	dh = opendir(dir);
	if (!dh) {
		if (errno == ENOENT && access("/sys/module/p2pmap", F_OK))
			topo_note(t, "importers unknown: module p2pmap not loaded");
		else
			topo_note(t, "importers unknown: cannot read %s: %s%s", dir,
				  strerror(errno),
				  errno == EACCES || errno == ENOENT ?
				  " (run as root, with debugfs mounted)" : "");
		return;
	}
	t->importers_known = true;
	while ((d = readdir(dh)) && t->nr_importers < TOPO_MAX_IMPORTERS) {
		struct topo_importer *imp;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/stats", dir, d->d_name);
		text = topo_read_all(path);
		if (!text)
			continue;
		memset(&set, 0, sizeof(set));
		cli_stats_parse(text, NULL, NULL, &set);
		free(text);
		dev = cli_stats_attr(&set, "device");
		imp = &t->importers[t->nr_importers++];
		topo_copy(imp->name, sizeof(imp->name), d->d_name);
		topo_copy(imp->device, sizeof(imp->device), dev ? dev : d->d_name);
		imp->pci = -1;	/* topo_finish() */
	}
	closedir(dh);
	qsort(t->importers, t->nr_importers, sizeof(t->importers[0]), topo_importer_cmp);
}

/* ---- the kernel's answer ---------------------------------------------------------- */

/* A readable, non-empty regular file under @dir on the same file system. */
static bool topo_find_probe(const char *dir, dev_t dev, unsigned int *budget,
			    char *out, size_t len, unsigned int depth)
{
	char path[1024];
	struct dirent *d;
	struct stat st;
	bool found = false;
	DIR *dh;
	int fd;

	dh = opendir(dir);
	if (!dh)
		return false;
	/* files first, then subdirectories */
	while (!found && (d = readdir(dh)) && *budget) {
		--*budget;
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", d->d_name);
		if (lstat(path, &st) || !S_ISREG(st.st_mode) || st.st_dev != dev ||
		    !st.st_size)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0)
			continue;
		close(fd);
		snprintf(out, len, "%s", path);
		found = true;
	}
	if (!found && depth < 8) {
		rewinddir(dh);
		while (!found && (d = readdir(dh)) && *budget) {
			--*budget;
			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "",
				 d->d_name);
			if (lstat(path, &st) || !S_ISDIR(st.st_mode) || st.st_dev != dev)
				continue;
			found = topo_find_probe(path, dev, budget, out, len, depth + 1);
		}
	}
	closedir(dh);
	return found;
}

/* Which controller holds @file (via its block device), or -1. */
static int topo_nvme_of_file(const struct topo *t, const char *file)
{
	struct stat st;
	unsigned int i, k;

	if (stat(file, &st))
		return -1;
	for (i = 0; i < t->nr_nvme; i++)
		for (k = 0; k < t->nvme[i].nr_ns; k++)
			if (topo_devt_in_ns(st.st_dev, t->nvme[i].ns[k]))
				return (int)i;
	return -1;
}

static void topo_pick_probes(struct topo *t, const char *file)
{
	char note[sizeof(t->nvme[0].probe_note) + sizeof(t->nvme[0].mount_dir)];
	unsigned int i, budget;
	struct stat st;
	int owner = -1;

	if (file)
		owner = topo_nvme_of_file(t, file);
	for (i = 0; i < t->nr_nvme; i++) {
		struct topo_nvme *n = &t->nvme[i];

		if ((int)i == owner) {
			topo_copy(n->probe_file, sizeof(n->probe_file), file);
			continue;
		}
		if (!n->mount_dir[0]) {
			snprintf(note, sizeof(note), "no namespace of %s is mounted",
				 n->name);
			topo_copy(n->probe_note, sizeof(n->probe_note), note);
			continue;
		}
		budget = TOPO_PROBE_SEARCH;
		if (stat(n->mount_dir, &st) ||
		    !topo_find_probe(n->mount_dir, st.st_dev, &budget, n->probe_file,
				     sizeof(n->probe_file), 0)) {
			snprintf(note, sizeof(note),
				 "no readable, non-empty file found on %s (give one with --file)",
				 n->mount_dir);
			topo_copy(n->probe_note, sizeof(n->probe_note), note);
		}
	}
}

/* Ask the kernel about route @r with its controller's probe file. */
static void topo_ask_kernel(struct topo *t, struct p2pmap *handle,
			    struct topo_route *r)
{
	struct p2pmap_check_args args = { .args_size = sizeof(args) };
	struct topo_nvme *n = &t->nvme[r->nvme];
	struct p2pmap_check_result *res = NULL;
	struct p2pmap_error err;
	const char *reason;
	bool p2p = false, no_route = false, no_cmb = false;
	struct stat st;
	size_t i;
	int fd;

	if (r->importer < 0) {
		snprintf(r->kernel_why, sizeof(r->kernel_why),
			 "the kernel is asked about PCI functions only");
		return;
	}
	if (!n->probe_file[0]) {
		snprintf(r->kernel_why, sizeof(r->kernel_why), "%s", n->probe_note);
		return;
	}
	fd = open(n->probe_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(r->kernel_why, sizeof(r->kernel_why), "cannot open %s: %s",
			 n->probe_file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	args.fd = fd;
	args.flags = P2PMAP_CHECK_DEVICE;
	p2pmap_pci_parse(t->pci[r->importer].addr, &args.device, NULL);
	args.length = st.st_size < (off_t)TOPO_PROBE_LENGTH ? (uint64_t)st.st_size :
		      TOPO_PROBE_LENGTH;
	if (!args.length)
		args.length = 1;
	if (p2pmap_check_file(handle, &args, &res, &err)) {
		snprintf(r->kernel_why, sizeof(r->kernel_why), "%s", err.msg);
		close(fd);
		return;
	}
	close(fd);
	for (i = 0; i < res->nr_extents; i++) {
		p2p |= res->extents[i].path == P2PMAP_PATH_P2P;
		no_route |= res->extents[i].reason == P2PMAP_REASON_NO_ROUTE;
		no_cmb |= res->extents[i].reason == P2PMAP_REASON_NO_CMB;
	}
	if (p2p) {
		r->kernel = TOPO_KERNEL_P2P;
	} else if (no_route) {
		r->kernel = TOPO_KERNEL_NO_ROUTE;
		snprintf(r->kernel_why, sizeof(r->kernel_why), "%s", res->why);
	} else if (no_cmb) {
		r->kernel = TOPO_KERNEL_NO_CMB;
	} else {
		r->kernel = TOPO_KERNEL_UNDECIDED;
		if (res->why[0]) {
			snprintf(r->kernel_why, sizeof(r->kernel_why), "%s", res->why);
		} else if (res->nr_extents) {
			reason = p2pmap_reason_name(res->extents[0].reason);
			snprintf(r->kernel_why, sizeof(r->kernel_why),
				 "no range got as far as the provider (%s: %s)",
				 reason ? reason : "?",
				 p2pmap_reason_description(res->extents[0].reason) ?: "?");
		} else {
			snprintf(r->kernel_why, sizeof(r->kernel_why), "the file is empty");
		}
	}
	p2pmap_check_result_free(res);
	r->agrees = topo_route_agreement(r);
}

/* ---- the command ---------------------------------------------------------------- */

int cli_topo_command(const struct cli_invocation *inv)
{
	_cleanup_p2pmap_ struct p2pmap *handle = NULL;
	_cleanup_free_ struct topo *t = NULL;
	const char *debugfs = getenv("P2PMAP_DEBUGFS");
	const char *file = cli_option_value(inv, "file");
	struct p2pmap_error err;
	unsigned int i, disagree = 0;
	bool kernel;
	char why[512];

	if (!debugfs || !debugfs[0])
		debugfs = CLI_DEBUGFS_DEFAULT;
	t = calloc(1, sizeof(*t));
	if (!t) {
		fputs("p2pmap: out of memory\n", inv->err);
		return CLI_EXIT_FAILED;
	}
	if (file && access(file, R_OK)) {
		fprintf(inv->err, "p2pmap: cannot read %s: %s\n", file, strerror(errno));
		return CLI_EXIT_FAILED;
	}

	if (topo_scan_pci(t, why, sizeof(why)) || topo_scan_nvme(t, why, sizeof(why))) {
		fprintf(inv->err, "p2pmap: %s\n", why);
		return CLI_EXIT_FAILED;
	}
	if (file && topo_nvme_of_file(t, file) < 0) {
		fprintf(inv->err, "p2pmap: %s is not on a namespace of an NVMe controller: it cannot tell about their routes\n",
			file);
		return CLI_EXIT_FAILED;
	}
	topo_nvme_cmb(t, debugfs, access("/sys/module/p2pmap_nvme_cmb", F_OK) == 0);
	topo_scan_importers(t, debugfs);
	topo_finish(t);

	kernel = p2pmap_open(&handle, &err) == 0;
	if (kernel)
		topo_pick_probes(t, file);
	for (i = 0; i < t->nr_routes; i++) {
		struct topo_route *r = &t->routes[i];

		if (!kernel)
			snprintf(r->kernel_why, sizeof(r->kernel_why), "%s", err.msg);
		else
			topo_ask_kernel(t, handle, r);
		disagree += r->agrees == 0;
	}

	if (topo_print(inv->out, inv->output, t)) {
		fputs("p2pmap: internal error: invalid JSON output\n", inv->err);
		return CLI_EXIT_FAILED;
	}
	if (disagree) {
		fprintf(inv->err, "p2pmap: the kernel disagrees with the route computed here for %u route%s: please report it\n",
			disagree, disagree > 1 ? "s" : "");
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}
