// SPDX-License-Identifier: GPL-2.0
/*
 * stw: stop the world for a set of kernel threads.
 */
#include <linux/init.h>
#include <linux/module.h>

#include "world.h"

static int __init stw_init(void)
{
	int ret;

	stw_world_init();
	ret = stw_hold_init();
	if (ret)
		goto err_world;
	ret = stw_netlink_init();
	if (ret)
		goto err_hold;
	ret = stw_probe_init();
	if (ret)
		goto err_netlink;
	return 0;

err_netlink:
	stw_netlink_exit();
err_hold:
	stw_hold_exit();
err_world:
	stw_world_exit();
	return ret;
}

static void __exit stw_exit(void)
{
	unsigned int n;

	/* Waiting controllers give up now, so the family can go. */
	mutex_lock(&stw_world.lock);
	stw_world.shutting_down = true;
	mutex_unlock(&stw_world.lock);
	wake_up_all(&stw_world.wq);

	stw_probe_exit();
	stw_netlink_exit();
	stw_hold_exit();
	stw_demo_kill_all(NULL, 0, &n);
	stw_world_exit();
}

module_init(stw_init);
module_exit(stw_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Stop the world for a set of kernel threads");
MODULE_AUTHOR("The stw developers");
