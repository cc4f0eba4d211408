// SPDX-License-Identifier: GPL-2.0
/*
 * stw: stop the world for a set of kernel threads.
 *
 * The layers, each announcing to the one above through the event chain
 * and never calling up:
 *
 *	main -> netlink -> control -> world <- vm <- demo
 *	              \--> demo            \--> event (delivered in order)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "world.h"
#include "control.h"
#include "demo.h"
#include "event.h"
#include "netlink.h"
#include "probe.h"

#define STW_VERSION "0.2.0"

static int __init stw_init(void)
{
	int ret;

	stw_world_init(&stw_default_world);
	ret = stw_event_init();
	if (ret)
		goto err_world;
	ret = stw_control_init();
	if (ret)
		goto err_event;
	/* Before any VM can exist: it may turn the probe key on. */
	ret = stw_probe_init();
	if (ret)
		goto err_control;
	ret = stw_netlink_init();
	if (ret)
		goto err_probe;
	pr_info("version " STW_VERSION ", generic netlink family \"%s\" v%d\n",
		STW_GENL_NAME, STW_GENL_VERSION);
	return 0;

err_probe:
	stw_probe_exit();
err_control:
	stw_control_shutdown();
	stw_control_exit();
err_event:
	stw_event_exit();
err_world:
	stw_world_exit(&stw_default_world);
	return ret;
}

static void __exit stw_exit(void)
{
	/* Requests fail from now on; tickets get their ESHUTDOWN. */
	stw_control_shutdown();
	stw_probe_exit();
	/* Their VM_GONE events go out while the family still exists. */
	stw_demo_exit();
	stw_event_flush();
	stw_netlink_exit();
	stw_control_exit();
	stw_event_exit();
	stw_world_exit(&stw_default_world);
	/* VMs are freed after a grace period, by this module's code. */
	rcu_barrier();
}

module_init(stw_init);
module_exit(stw_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Stop the world for a set of kernel threads");
MODULE_AUTHOR("The stw developers");
MODULE_VERSION(STW_VERSION);
MODULE_ALIAS_GENL_FAMILY(STW_GENL_NAME);
