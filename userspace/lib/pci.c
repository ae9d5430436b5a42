// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libp2pmap: PCI function addresses, "DDDD:BB:DD.F", as the uapi encodes
 * them (domain << 16 | bus << 8 | devfn).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

/* Parse @min to @max hex digits at *@s, not followed by another one. */
static int pci_hex(const char **s, unsigned int min, unsigned int max,
		   unsigned long *out)
{
	unsigned int n = 0;
	unsigned long v = 0;
	const char *p = *s;

	while (isxdigit((unsigned char)*p) && n < max) {
		v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
			      tolower((unsigned char)*p) - 'a' + 10);
		p++;
		n++;
	}
	if (n < min || isxdigit((unsigned char)*p))
		return -1;
	*s = p;
	*out = v;
	return 0;
}

P2PMAP_EXPORT int p2pmap_pci_parse(const char *text, uint32_t *device,
				   struct p2pmap_error *err)
{
	unsigned long domain = 0, bus, dev, fn;
	unsigned int colons = 0;
	const char *p;

	if (!text || !device)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "p2pmap_pci_parse: %s is NULL",
				   !text ? "text" : "device");
	for (p = text; *p; p++)
		colons += *p == ':';

	p = text;
	if (colons == 2 && (pci_hex(&p, 4, 4, &domain) || *p++ != ':'))
		goto bad;
	if (colons < 1 || colons > 2 || pci_hex(&p, 2, 2, &bus) || *p++ != ':' ||
	    pci_hex(&p, 2, 2, &dev) || *p++ != '.' || pci_hex(&p, 1, 1, &fn) ||
	    *p)
		goto bad;
	if (dev > 0x1f || fn > 7)
		return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
				   "invalid PCI address '%s': the device is 00 to 1f and the function 0 to 7",
				   text);
	*device = (uint32_t)(domain << 16 | bus << 8 | dev << 3 | fn);
	p2pmap_clear_error(err);
	return 0;
bad:
	return p2pmap_fail(err, P2PMAP_ERR_INVALID_ARGUMENT, EINVAL,
			   "invalid PCI address '%s': expected DDDD:BB:DD.F or BB:DD.F in hexadecimal, e.g. 0000:04:00.0",
			   text);
}

P2PMAP_EXPORT int p2pmap_pci_format(uint32_t device, char *buf, size_t len)
{
	if (!buf || len < P2PMAP_PCI_ADDR_SIZE)
		return -EINVAL;
	snprintf(buf, len, "%04x:%02x:%02x.%x", device >> 16,
		 (device >> 8) & 0xff, (device >> 3) & 0x1f, device & 7);
	return 0;
}
