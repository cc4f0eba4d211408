// SPDX-License-Identifier: GPL-2.0
/*
 * stw_testmod: a client of stw's in-kernel API for the selftests, doing
 * what another module's author would: VMs of its own, in stw's default
 * world or, with world=NAME, in a world of its own; a stop hold taken
 * with stw_stop_world(), steps with stw_step_vm(), stop notifiers. And a
 * generic netlink family of its own, whose registration must never wait
 * for stw. Driven through its parameters:
 *
 *	insmod stw_testmod.ko vms=2 genl=1 notifier_sleep_ms=1500
 *	echo stop > /sys/module/stw_testmod/parameters/action
 *	(or step, resume; cycle: stop and resume cycles= times; destroy:
 *	stw_world_destroy() of its world while its VMs are in it)
 *	cat /sys/module/stw_testmod/parameters/hold_id	# > 0: held
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include "module/stw.h"

#define TESTMOD_MAX_VMS	8

static char *world_name;
module_param_named(world, world_name, charp, 0444);
MODULE_PARM_DESC(world, "make a world of this name (default: stw's default world)");

static int vms;
module_param(vms, int, 0444);
MODULE_PARM_DESC(vms, "active VMs of this module's own, created at load");

static int sleepers;
module_param(sleepers, int, 0444);
MODULE_PARM_DESC(sleepers,
		 "VMs that enter and sleep without polling: laggards that cost no CPU");

static bool genl;
module_param(genl, bool, 0444);
MODULE_PARM_DESC(genl, "register a generic netlink family at load");

static uint notifier_sleep_ms;
module_param(notifier_sleep_ms, uint, 0444);
MODULE_PARM_DESC(notifier_sleep_ms, "a stop notifier that sleeps this long");

static bool notifier_destroy;
module_param(notifier_destroy, bool, 0444);
MODULE_PARM_DESC(notifier_destroy,
		 "a stop notifier that destroys this module's first VM");

static uint stop_timeout_ms = 30000;
module_param(stop_timeout_ms, uint, 0444);

static uint cycles;
module_param(cycles, uint, 0444);
MODULE_PARM_DESC(cycles, "stop and resume cycles of the action \"cycle\"");

/* Results, read by the tests. */
static int hold_id;
module_param(hold_id, int, 0444);
MODULE_PARM_DESC(hold_id, "the hold taken (> 0), or stw_stop_world()'s error");
static int resume_ret = 1;
module_param(resume_ret, int, 0444);
static int step_ret = 1;
module_param(step_ret, int, 0444);
static uint cycles_done;
module_param(cycles_done, uint, 0444);
static int cycle_err;
module_param(cycle_err, int, 0444);
MODULE_PARM_DESC(cycle_err, "the first stw_stop_world() error of a cycle");
static int destroy_ret = 1;
module_param(destroy_ret, int, 0444);
MODULE_PARM_DESC(destroy_ret, "stw_world_destroy() of its world with VMs");
static uint notified;
module_param(notified, uint, 0444);
MODULE_PARM_DESC(notified, "stop notifier calls");
static uint destroyed;
module_param(destroyed, uint, 0444);

struct testmod_vm {
	struct stw_vm *vm;	/* set until destroyed, by one destroyer */
	struct kthread_work work;
	bool quit;
	u64 polls;
};

static struct testmod_vm tvms[TESTMOD_MAX_VMS];
static int nr_tvms;
static struct testmod_vm *sleeper_vms;
static int nr_sleepers;
static DECLARE_WAIT_QUEUE_HEAD(sleepers_wq);
static struct work_struct stop_work;
static struct work_struct step_work;

static void testmod_job(struct kthread_work *work)
{
	struct testmod_vm *t = container_of(work, struct testmod_vm, work);
	bool dying = false;
	int i;

	stw_vm_enter(t->vm);
	for (i = 0; i < 1000 && !dying; i++) {
		ndelay(500);
		WRITE_ONCE(t->polls, t->polls + 1);
		dying = stw_vm_poll(t->vm);
	}
	stw_vm_exit(t->vm);
	if (!dying && !READ_ONCE(t->quit))
		stw_vm_queue_job(t->vm, &t->work);
}

/* Entered, asleep outside any stop point until the module goes. */
static void testmod_sleep_job(struct kthread_work *work)
{
	struct testmod_vm *t = container_of(work, struct testmod_vm, work);

	stw_vm_enter(t->vm);
	wait_event_idle(sleepers_wq, READ_ONCE(t->quit));
	stw_vm_exit(t->vm);
}

/* polls: the sum of this module's VMs' polls, a progress counter. */
static int testmod_polls_get(char *buf, const struct kernel_param *kp)
{
	u64 sum = 0;
	int i;

	for (i = 0; i < nr_tvms; i++)
		sum += READ_ONCE(tvms[i].polls);
	return sysfs_emit(buf, "%llu\n", sum);
}

static const struct kernel_param_ops testmod_polls_ops = {
	.get = testmod_polls_get,
};
module_param_cb(polls, &testmod_polls_ops, NULL, 0444);

static void testmod_vm_destroy(struct testmod_vm *t)
{
	if (!t->vm)
		return;
	WRITE_ONCE(t->quit, true);
	wake_up_all(&sleepers_wq);
	stw_vm_shutdown(t->vm);
	kthread_cancel_work_sync(&t->work);
	stw_vm_destroy(t->vm);
	WRITE_ONCE(t->vm, NULL);
}

/* This module's world: its VMs, its holds. */
static struct stw_world *tworld;

static void testmod_stop(struct work_struct *work)
{
	struct stw_stop_info info;

	WRITE_ONCE(hold_id, stw_stop_world(tworld, stop_timeout_ms, &info));
}

/* Stop and resume its world @cycles times, as fast as it can. */
static void testmod_cycle(struct work_struct *work)
{
	struct stw_stop_info info;
	int hold;
	uint i;

	for (i = 0; i < cycles; i++) {
		hold = stw_stop_world(tworld, stop_timeout_ms, &info);
		if (hold < 0) {
			WRITE_ONCE(cycle_err, hold);
			return;
		}
		stw_resume_world(tworld, hold);
		WRITE_ONCE(cycles_done, i + 1);
		cond_resched();
	}
}

static DECLARE_WORK(cycle_work, testmod_cycle);

static void testmod_step(struct work_struct *work)
{
	struct stw_vm *vm = READ_ONCE(tvms[0].vm);

	WRITE_ONCE(step_ret, vm ? stw_step_vm(hold_id, vm, 100, 5000) :
				  -ENODEV);
}

/* action: stop (a hold, asynchronously), step, resume. */
static int testmod_action_set(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "stop")) {
		WRITE_ONCE(hold_id, 0);
		queue_work(system_unbound_wq, &stop_work);
	} else if (sysfs_streq(val, "step")) {
		WRITE_ONCE(step_ret, 1);
		queue_work(system_unbound_wq, &step_work);
	} else if (sysfs_streq(val, "cycle")) {
		queue_work(system_unbound_wq, &cycle_work);
	} else if (sysfs_streq(val, "destroy")) {
		/* With its VMs still in it: refused, nothing done. */
		WRITE_ONCE(destroy_ret, stw_world_destroy(tworld));
	} else if (sysfs_streq(val, "resume")) {
		flush_work(&stop_work);
		WRITE_ONCE(resume_ret, stw_resume_world(tworld, hold_id));
	} else {
		return -EINVAL;
	}
	return 0;
}

static const struct kernel_param_ops testmod_action_ops = {
	.set = testmod_action_set,
};
module_param_cb(action, &testmod_action_ops, NULL, 0200);

static int testmod_stopped(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	WRITE_ONCE(notified, notified + 1);
	if (notifier_sleep_ms)
		msleep(notifier_sleep_ms);
	/* Destroying a VM from a notifier must not deadlock. */
	if (notifier_destroy && tvms[0].vm) {
		testmod_vm_destroy(&tvms[0]);
		WRITE_ONCE(destroyed, destroyed + 1);
	}
	return NOTIFY_OK;
}

static struct notifier_block testmod_nb = {
	.notifier_call = testmod_stopped,
};

static int testmod_genl_noop(struct sk_buff *skb, struct genl_info *info)
{
	return 0;
}

static const struct genl_small_ops testmod_genl_ops[] = {
	{ .cmd = 1, .doit = testmod_genl_noop },
};

static struct genl_family testmod_family = {
	.name = "stw_testmod",
	.version = 1,
	.module = THIS_MODULE,
	.small_ops = testmod_genl_ops,
	.n_small_ops = ARRAY_SIZE(testmod_genl_ops),
	.resv_start_op = 2,
};

static void testmod_cleanup(void)
{
	int i;

	for (i = 0; i < nr_tvms; i++)
		testmod_vm_destroy(&tvms[i]);
	for (i = 0; i < nr_sleepers; i++)
		testmod_vm_destroy(&sleeper_vms[i]);
	kfree(sleeper_vms);
	if (world_name && !IS_ERR_OR_NULL(tworld))
		stw_world_destroy(tworld);
}

static int __init testmod_init(void)
{
	int ret, i;

	INIT_WORK(&stop_work, testmod_stop);
	INIT_WORK(&step_work, testmod_step);
	tworld = world_name ? stw_world_create(world_name) :
			      stw_default_world();
	if (IS_ERR(tworld))
		return PTR_ERR(tworld);
	for (i = 0; i < min(vms, TESTMOD_MAX_VMS); i++) {
		struct stw_vm *vm = stw_vm_create(tworld, STW_VM_KIND_EXTERNAL,
						  NULL, "testmod");

		if (IS_ERR(vm)) {
			ret = PTR_ERR(vm);
			goto err_cleanup;
		}
		tvms[i].vm = vm;
		kthread_init_work(&tvms[i].work, testmod_job);
		nr_tvms++;
		stw_vm_queue_job(vm, &tvms[i].work);
	}
	sleeper_vms = kcalloc(max(sleepers, 0), sizeof(*sleeper_vms),
			      GFP_KERNEL);
	if (sleepers > 0 && !sleeper_vms) {
		ret = -ENOMEM;
		goto err_cleanup;
	}
	for (i = 0; i < sleepers; i++) {
		struct stw_vm *vm = stw_vm_create(tworld, STW_VM_KIND_EXTERNAL,
						  NULL, "sleeper");

		if (IS_ERR(vm)) {
			ret = PTR_ERR(vm);
			goto err_cleanup;
		}
		sleeper_vms[i].vm = vm;
		kthread_init_work(&sleeper_vms[i].work, testmod_sleep_job);
		nr_sleepers++;
		stw_vm_queue_job(vm, &sleeper_vms[i].work);
	}
	ret = stw_register_stop_notifier(&testmod_nb);
	if (ret)
		goto err_cleanup;
	if (genl) {
		ret = genl_register_family(&testmod_family);
		if (ret)
			goto err_unregister_notifier;
	}
	return 0;

err_unregister_notifier:
	stw_unregister_stop_notifier(&testmod_nb);
err_cleanup:
	testmod_cleanup();
	return ret;
}

static void __exit testmod_exit(void)
{
	if (genl)
		genl_unregister_family(&testmod_family);
	stw_unregister_stop_notifier(&testmod_nb);
	flush_work(&stop_work);
	flush_work(&step_work);
	flush_work(&cycle_work);
	if (hold_id > 0 && resume_ret)
		stw_resume_world(tworld, hold_id);
	testmod_cleanup();
}

module_init(testmod_init);
module_exit(testmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("stw selftests: a client module of stw's in-kernel API");
