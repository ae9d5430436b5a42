/* class_create() lost its owner argument (v6.4) */
#include <linux/device/class.h>
struct class *p2pmap_conftest_class_create_one_arg(void);
struct class *p2pmap_conftest_class_create_one_arg(void)
{
	return class_create("p2pmap-conftest");
}
