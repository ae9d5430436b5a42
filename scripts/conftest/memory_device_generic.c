/* MEMORY_DEVICE_GENERIC pages for the compat CMB backend */
#include <linux/memremap.h>
int p2pmap_conftest_memory_device_generic(void);
int p2pmap_conftest_memory_device_generic(void)
{
	return MEMORY_DEVICE_GENERIC;
}
