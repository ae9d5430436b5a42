/* struct file_lease split from struct file_lock (v6.9) */
#include <linux/filelock.h>
int p2pmap_conftest_file_lease(struct file_lease *fl);
int p2pmap_conftest_file_lease(struct file_lease *fl)
{
	return fl->c.flc_type;
}
