/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmap core: what the files of p2pmap.ko share, and nothing else.
 */
#ifndef _P2PMAP_INTERNAL_H
#define _P2PMAP_INTERNAL_H

#include <linux/p2pmap.h>
#include <p2pmap/compat.h>

void p2pmap_registry_exit(void);

#endif /* _P2PMAP_INTERNAL_H */
