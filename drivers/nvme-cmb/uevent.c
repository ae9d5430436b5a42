// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap nvme-cmb: hear of controller resets from nvme itself.
 *
 * nvme-pci offers no reset notifier to other modules: the PCI reset hooks
 * (reset_prepare/reset_done) belong to the one driver bound to the
 * function, the controller's state lives in nvme's private structures, and
 * its tracepoints describe commands without saying which controller in a
 * public structure. What it does announce is the end of every controller
 * (re)start: nvme_start_ctrl() sends a KOBJ_CHANGE uevent with
 * "NVME_EVENT=connected" on the controller's class device, after a reset
 * through sysfs, error recovery or a PCI function reset.
 *
 * This file listens to uevents on a kernel netlink socket of its own
 * (NETLINK_KOBJECT_UEVENT, the broadcast group udev listens to) and, on such
 * an event, checks every CMB at once (the reset work compares CMBMSC with
 * the value the CMB was enabled with). The event comes after nvme-pci has
 * restarted its queues, so it narrows the window of the 100 ms poll of
 * CMBMSC, which stays as the fallback (a reset whose restart fails sends no
 * event; a controller gone from the bus sends none either).
 */
#define pr_fmt(fmt) "p2pmap-nvme-cmb: " fmt

#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "nvme-cmb.h"

#define NVME_CMB_UEVENT_BUF	4096

static struct socket *nvme_cmb_uevent_sock;
/* Set at exit: the work item no longer touches the socket. */
static bool nvme_cmb_uevent_dying;

static void nvme_cmb_uevent_fn(struct work_struct *work);
static DECLARE_WORK(nvme_cmb_uevent_work, nvme_cmb_uevent_fn);

/* Context: any (the socket's data-ready callback, softirq included). */
static void nvme_cmb_uevent_ready(struct sock *sk)
{
	queue_work(nvme_cmb_wq, &nvme_cmb_uevent_work);
}

/* Is @msg ("ACTION@DEVPATH\0KEY=VALUE\0...") nvme announcing a restart? */
static bool nvme_cmb_uevent_is_restart(const char *msg, size_t len)
{
	const char *p, *end = msg + len;

	if (len < 7 || strncmp(msg, "change@", 7))
		return false;
	for (p = msg; p < end; p += strnlen(p, end - p) + 1)
		if (!strcmp(p, "NVME_EVENT=connected"))
			return true;
	return false;
}

static void nvme_cmb_uevent_fn(struct work_struct *work)
{
	struct msghdr msg = {};
	bool restart = false;
	struct kvec iov;
	char *buf;
	int n;

	if (READ_ONCE(nvme_cmb_uevent_dying))
		return;
	buf = kmalloc(NVME_CMB_UEVENT_BUF, GFP_KERNEL);
	if (!buf) {
		/* the poll still sees the reset */
		pr_warn_ratelimited("no memory to read uevents\n");
		return;
	}
	for (;;) {
		iov.iov_base = buf;
		iov.iov_len = NVME_CMB_UEVENT_BUF - 1;
		n = kernel_recvmsg(nvme_cmb_uevent_sock, &msg, &iov, 1,
				   NVME_CMB_UEVENT_BUF - 1, MSG_DONTWAIT);
		if (n <= 0)
			break;
		buf[n] = '\0';
		restart |= nvme_cmb_uevent_is_restart(buf, n);
	}
	kfree(buf);
	if (restart)
		nvme_cmb_check_all(true);
}

/**
 * nvme_cmb_uevent_init() - start listening for nvme's restart uevents
 *
 * Context: module init, after nvme_cmb_wq exists.
 * Return: 0 or a negative errno.
 */
int nvme_cmb_uevent_init(void)
{
	struct sockaddr_nl addr = {
		.nl_family = AF_NETLINK,
		.nl_groups = 1,		/* the kernel's uevent broadcast */
	};
	struct socket *sock;
	int ret;

	ret = sock_create_kern(&init_net, AF_NETLINK, SOCK_DGRAM,
			       NETLINK_KOBJECT_UEVENT, &sock);
	if (ret)
		return ret;
	ret = kernel_bind(sock, (struct sockaddr *)&addr, sizeof(addr));
	if (ret) {
		sock_release(sock);
		return ret;
	}
	nvme_cmb_uevent_sock = sock;
	WRITE_ONCE(nvme_cmb_uevent_dying, false);
	write_lock_bh(&sock->sk->sk_callback_lock);
	sock->sk->sk_data_ready = nvme_cmb_uevent_ready;
	write_unlock_bh(&sock->sk->sk_callback_lock);
	return 0;
}

/**
 * nvme_cmb_uevent_exit() - stop listening
 *
 * Context: module exit, before nvme_cmb_wq is destroyed.
 */
void nvme_cmb_uevent_exit(void)
{
	WRITE_ONCE(nvme_cmb_uevent_dying, true);
	/* a work item reading the socket finishes; later ones return at once */
	cancel_work_sync(&nvme_cmb_uevent_work);
	/*
	 * netlink_release() waits for broadcasts in progress (the netlink
	 * table grab) before unbinding the socket: after it, nothing calls
	 * nvme_cmb_uevent_ready() any more.
	 */
	sock_release(nvme_cmb_uevent_sock);
	nvme_cmb_uevent_sock = NULL;
	/* one queued by a broadcast that raced with the release */
	cancel_work_sync(&nvme_cmb_uevent_work);
}
