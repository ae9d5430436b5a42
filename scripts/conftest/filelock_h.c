/* <linux/filelock.h> split from <linux/fs.h> (v6.3) */
#include <linux/filelock.h>
