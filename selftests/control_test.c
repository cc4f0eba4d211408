// SPDX-License-Identifier: GPL-2.0
/*
 * control_test: the control plane keeps its word on a real machine.
 *
 * A STOP that waits for VMs does not hold up the rest of generic netlink;
 * a kernel module that holds the world stopped can rely on every VM
 * staying parked; events arrive in the order the world went through them;
 * hold ids never look like errors; closing a socket never waits for the
 * world; a VM born during a stop runs after the resume; a timeout counts
 * every laggard; a dump says when the world changed under it; a reply that
 * cannot be delivered leaves no hold; unloading tells the listeners about
 * the VMs it destroys. Each test is the recipe that showed the defect.
 *
 * The client module is selftests/modules/stw_testmod.ko: VMs of its own,
 * stw_stop_world() and stw_step_vm() on request, stop notifiers, and a
 * generic netlink family of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/netlink.h>

#include "kselftest_harness.h"
#include "stw_probe.h"
#include "stw_test.h"
#include "testmod.h"


static bool all_entered(const struct stw_vm *vms, size_t n, void *arg);

/* stw with probes=1 (reloaded if need be): a new socket @s, probes @p. */
#define PROBES_ON(fixture_sock, s, p) do { \
	ASSERT_EQ(0, stw_probe_enable()); \
	stw_close(fixture_sock); \
	(fixture_sock) = (s) = stw_open(); \
	ASSERT_TRUE((s) != NULL); \
	(p) = stw_probe_open(); \
	ASSERT_TRUE((p) != NULL); \
} while (0)

static bool mode_is(struct stw_sock *s, int mode)
{
	struct stw_world w;

	return !stw_status(s, &w) && w.mode == mode;
}

#define HUNG_TASK_SECS	"/proc/sys/kernel/hung_task_timeout_secs"

/* The hung-task limit a test turned down, restored by the teardown. */
static char saved_hung_secs[32];

FIXTURE(control) {
	struct stw_sock *s;
};

/* Both fixtures: stw loaded, no stw_testmod; at the end, the same. */
#define TESTMOD_SETUP(sock) do { \
	STW_SETUP_LOADED(sock); \
	ASSERT_EQ(0, testmod_unload()); \
} while (0)

#define TESTMOD_TEARDOWN(sock) do { \
	int __err = testmod_unload(); \
	if (__err) \
		STW_TEARDOWN_FAIL("unloading stw_testmod: %s", strerror(__err)); \
	STW_TEARDOWN_LOADED(sock); \
} while (0)

FIXTURE_SETUP(control)
{
	TESTMOD_SETUP(self->s);
}

FIXTURE_TEARDOWN(control)
{
	if (saved_hung_secs[0] &&
	    !stw_write_file(HUNG_TASK_SECS, saved_hung_secs))
		saved_hung_secs[0] = '\0';
	TESTMOD_TEARDOWN(self->s);
}

/*
 * Defect: a STOP slept in its netlink handler, holding genl's cb_lock for
 * reading, so a module registering any generic netlink family waited for
 * it (28 s), every genl request on the machine queued behind that
 * (STATUS: 26 s), and both were reported as hung tasks. Now, while a stop
 * waits on a VM that never polls, the module loads within 2 s, STATUS
 * answers within 1 s, the module unloads, and the hung-task detector,
 * turned down to 1 s for the stop's 4 s, reports nothing.
 */
#define GENL_STOP_MS	4000

TEST_F(control, waiting_stop_does_not_hold_up_generic_netlink)
{
	struct stw_sock *s = self->s;
	int64_t t0, load_ms, status_ms, unload_ms;
	struct stw_bg *stop;
	struct stw_world w;
	uint32_t id;
	size_t n;
	int kmsg;

	ASSERT_SPAWN(s, 0, 0, 0, 1, &id, &n);
	ASSERT_OK(s, stw_wait_vm_doing(s, id, STW_VM_DOING_RUNNING,
				       STW_T_WAIT));
	kmsg = stw_kmsg_open();
	ASSERT_LE(0, kmsg);
	/* No detector in this kernel: the load and STATUS times still say it. */
	if (!stw_read_file(HUNG_TASK_SECS, saved_hung_secs,
			 sizeof(saved_hung_secs)))
		ASSERT_EQ(0, stw_write_file(HUNG_TASK_SECS, "1"));

	/* A controller that waits for the stop, as `stwctl stop` does. */
	stop = stw_bg_stop(GENL_STOP_MS);
	ASSERT_TRUE(stop != NULL);
	ASSERT_OK(s, stw_wait_mode(s, STW_STOPPING, STW_T_WAIT));

	t0 = stw_now_ms();
	ASSERT_EQ(0, load_module(TESTMOD_KO, "genl=1"));
	load_ms = stw_now_ms() - t0;
	t0 = stw_now_ms();
	ASSERT_OK(s, stw_status(s, &w));
	status_ms = stw_now_ms() - t0;
	t0 = stw_now_ms();
	ASSERT_EQ(0, testmod_unload());
	unload_ms = stw_now_ms() - t0;
	TH_LOG("during the stop: load %lld ms, STATUS %lld ms, unload %lld ms",
	       (long long)load_ms, (long long)status_ms, (long long)unload_ms);
	ASSERT_GT(2000, load_ms)
		TH_LOG("registering a genl family waited for the stop");
	ASSERT_GT(1000, status_ms) TH_LOG("STATUS waited for the stop");
	ASSERT_GT(2000, unload_ms)
		TH_LOG("unregistering a genl family waited for the stop");
	ASSERT_EQ(STW_STOPPING, w.mode)
		TH_LOG("the stop was over before the module came: %s",
		       stw_describe(s));

	/* The stop runs out on its own; nothing was blocked meanwhile. */
	ASSERT_EQ(ETIMEDOUT, stw_bg_join(stop, GENL_STOP_MS + STW_T_WAIT));
	stw_bg_free(stop);
	ASSERT_FALSE(stw_kmsg_has(kmsg, "blocked for more than",
			      "blocked for more than"))
		TH_LOG("a hung-task report during the stop");
	close(kmsg);
}

/*
 * Defect: a kernel hold was granted while a step ran (RUN_ONE), and the
 * holder's own VM ran on. Now stw_stop_world() waits for the step to end,
 * a step is refused while a kernel hold exists, and the holder's VM makes
 * no progress until it steps it itself.
 */
TEST_F(control, kernel_hold_means_every_vm_parked)
{
	struct stw_sock *s = self->s;
	long long hold, p0, p1, p2;
	struct stw_bg *step;
	struct stw_world w;
	uint32_t id;
	size_t n;

	ASSERT_EQ(0, load_module(TESTMOD_KO, "vms=1"));
	ASSERT_SPAWN(s, 1, 0, 0, 0, &id, &n);
	ASSERT_NE(LLONG_MIN, testmod_wait_change("polls", 0, STW_T_WAIT));
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));

	/* A long step of the demo VM, then the module asks for a hold. */
	step = stw_bg_run_one(id, 200000);
	ASSERT_TRUE(step != NULL);
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ONE, STW_T_WAIT));
	ASSERT_EQ(0, testmod_action("stop"));
	hold = testmod_wait_change("hold_id", 0, STW_T_STOP * 2);
	ASSERT_LT(0, hold) TH_LOG("stw_stop_world(): %lld", hold);
	/* Granted only once the step was over. */
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(STW_STOPPED, w.mode)
		TH_LOG("hold %lld granted during a step: %s", hold,
		       stw_describe(s));
	ASSERT_EQ(1U, w.kernel_holds);
	ASSERT_EQ(0, stw_bg_join(step, STW_T_WAIT));
	stw_bg_free(step);

	/* No step while the module holds the world; its VM stays put. */
	p0 = testmod_get("polls");
	ASSERT_ERRNO(s, EBUSY, stw_run_one(s, id, 1, STW_T_STOP, NULL));
	ASSERT_EXTACK(s);
	p1 = testmod_get("polls");
	ASSERT_EQ(p0, p1) TH_LOG("the held module's VM ran on");

	/* The holder may step its own VM. */
	ASSERT_EQ(0, testmod_action("step"));
	ASSERT_EQ(0, testmod_wait_change("step_ret", 1, STW_T_STOP));
	p2 = testmod_get("polls");
	ASSERT_LT(p1, p2);
	ASSERT_GE(p1 + 100, p2);
	ASSERT_TRUE(mode_is(s, STW_STOPPED));

	/* RESUME --force leaves the kernel's hold: it was promised. */
	ASSERT_OK(s, stw_resume(s, true, 0, NULL));
	ASSERT_TRUE(mode_is(s, STW_STOPPED)) TH_LOG("%s", stw_describe(s));
	ASSERT_EQ(0, testmod_action("resume"));
	ASSERT_EQ(0, testmod_get("resume_ret"));
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));
}

/*
 * Defect: when the last VM went, every hold was dropped, kernel holds
 * included: new VMs ran while the holder believed it held the world, and
 * its stw_resume_world() failed. Now the holds stay and new VMs park.
 */
TEST_F(control, holds_survive_an_empty_world)
{
	struct stw_sock *s = self->s;
	struct stw_world w;
	uint32_t ids[2], id;
	long long hold;
	size_t n;

	ASSERT_EQ(0, load_module(TESTMOD_KO, ""));
	ASSERT_SPAWN(s, 1, 1, 0, 0, ids, &n);
	ASSERT_EQ(0, testmod_action("stop"));
	hold = testmod_wait_change("hold_id", 0, STW_T_STOP);
	ASSERT_LT(0, hold);

	ASSERT_OK(s, stw_kill_all(s, NULL));
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(0U, w.nr_vms);
	ASSERT_EQ(STW_STOPPED, w.mode) TH_LOG("%s", stw_describe(s));
	ASSERT_EQ(1U, w.holds);

	/* Born into a held world, it parks before it runs anything. */
	ASSERT_SPAWN(s, 1, 0, 0, 0, &id, &n);
	ASSERT_OK(s, stw_wait_vm_doing(s, id, STW_VM_DOING_PARKED,
				       STW_T_WAIT));
	ASSERT_TRUE(mode_is(s, STW_STOPPED));

	ASSERT_EQ(0, testmod_action("resume"));
	ASSERT_EQ(0, testmod_get("resume_ret"))
		TH_LOG("stw_resume_world() lost its hold");
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));
	ASSERT_OK(s, stw_wait_vm_polls(s, id, 1, STW_T_WAIT));
}

/*
 * Defect: events were sent by whichever thread made the change, after it
 * dropped the lock: with a stop notifier that sleeps, RESUMED reached the
 * listeners before its STOPPED. Now they come in order, numbered.
 */
TEST_F(control, events_arrive_in_order_behind_a_slow_notifier)
{
	struct stw_sock *s = self->s, *ev;
	struct stw_event e[2];
	struct stw_cycle c;
	uint32_t id;
	size_t n;
	int i;

	ev = stw_open_events();
	ASSERT_TRUE(ev != NULL);
	ASSERT_EQ(0, load_module(TESTMOD_KO, "notifier_sleep_ms=1500"));
	ASSERT_SPAWN(s, 0, 1, 0, 0, &id, &n);
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, &c, NULL));
	ASSERT_OK(s, stw_resume(s, false, 0, NULL));

	for (i = 0; i < 2; i++) {
		do {
			ASSERT_EQ(0, stw_event_wait(ev, -1, STW_T_WAIT, &e[i]));
		} while (e[i].cmd != STW_CMD_STOPPED_NTF &&
			 e[i].cmd != STW_CMD_RESUMED_NTF);
	}
	ASSERT_EQ(STW_CMD_STOPPED_NTF, e[0].cmd)
		TH_LOG("RESUMED of generation %llu came first",
		       (unsigned long long)e[0].cycle.generation);
	ASSERT_EQ(STW_CMD_RESUMED_NTF, e[1].cmd);
	ASSERT_EQ(c.generation, e[0].cycle.generation);
	ASSERT_EQ(c.generation, e[1].cycle.generation);
	ASSERT_LT(e[0].seq, e[1].seq);
	ASSERT_EQ(1, testmod_get("notified"));
	for (i = 0; i < 2; i++)
		stw_event_free(&e[i]);
	stw_close(ev);
}

/*
 * Defect: stop notifiers ran on the thread of the VM that completed the
 * stop, already counted parked: a notifier destroying that VM deadlocked.
 * They run on stw's event worker now, and may.
 */
TEST_F(control, stop_notifier_may_destroy_a_vm)
{
	struct stw_sock *s = self->s;

	ASSERT_EQ(0, load_module(TESTMOD_KO, "vms=1 notifier_destroy=1"));
	ASSERT_NE(LLONG_MIN, testmod_wait_change("polls", 0, STW_T_WAIT));
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));
	ASSERT_EQ(1, testmod_wait_change("destroyed", 0, STW_T_WAIT))
		TH_LOG("the notifier did not get to destroy its VM");
	ASSERT_OK(s, stw_wait_nr_vms(s, 0, STW_T_WAIT));
	ASSERT_OK(s, stw_resume(s, false, 0, NULL));
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));
}

/*
 * Defect: hold ids came from a u32 counter but stw_stop_world() returns
 * an int: past 2^31 a hold really taken looked like an error. Started
 * just below INT_MAX, ids stay in [1, INT_MAX] and wrap to 1.
 */
TEST_F(control, hold_ids_wrap_within_positive_ints)
{
	struct stw_stop_req req = {
		.timeout_ms = STW_T_STOP,
		.lease_ms = 60000,
	};
	struct stw_sock *s;
	struct stw_cycle c;
	uint32_t ids[3];
	long long hold;
	int i;

	stw_close(self->s);
	self->s = NULL;
	ASSERT_EQ(0, stw_module_unload());
	ASSERT_EQ(0, load_module(stw_ko_path(), "probes=1 first_hold_id=2147483646"));
	self->s = s = stw_open();
	ASSERT_TRUE(s != NULL);
	for (i = 0; i < 3; i++) {
		ASSERT_OK(s, stw_stop_send(s, &req, &c));
		ASSERT_TRUE(c.has_hold_id);
		ids[i] = c.hold_id;
	}
	ASSERT_EQ(2147483646U, ids[0]);
	ASSERT_EQ(2147483647U, ids[1]);
	ASSERT_EQ(1U, ids[2]) TH_LOG("after INT_MAX came %u", ids[2]);
	ASSERT_EQ(0, load_module(TESTMOD_KO, ""));
	ASSERT_EQ(0, testmod_action("stop"));
	hold = testmod_wait_change("hold_id", 0, STW_T_STOP);
	ASSERT_EQ(2, hold);
	ASSERT_EQ(0, testmod_action("resume"));
	ASSERT_EQ(0, testmod_get("resume_ret"));
	ASSERT_OK(s, stw_resume(s, false, 0, NULL));
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));
	ASSERT_EQ(0, testmod_unload());
	/* Back to a module as the other tests expect it. */
	stw_close(s);
	self->s = NULL;
	ASSERT_EQ(0, stw_module_unload());
	ASSERT_EQ(0, stw_module_load(stw_ko_path()));
	self->s = stw_open();
	ASSERT_TRUE(self->s != NULL);
}

static int close_a_genl_socket(void *arg)
{
	struct stw_sock *s = stw_open();

	if (!s)
		return 1;
	stw_close(s);
	return 0;
}

/*
 * Defect: every generic netlink socket closed on the machine took the world
 * lock, which VMs take at their stop points. With the world lock held (a
 * VM parked at a probe inside it), a socket still closes at once. The VM
 * is born into a stopped world, so it counts itself under the lock (a VM
 * of a stopping world would count itself without it).
 */
TEST_F(control, closing_a_socket_does_not_wait_for_the_world)
{
	struct stw_stop_req req = {
		.timeout_ms = STW_T_STOP,
		.lease_ms = STW_UNSET,
	};
	struct stw_sock *s = self->s, *p, *stopper;
	struct stw_cycle c;
	uint32_t id;
	size_t n;
	pid_t pid;
	int status;

	PROBES_ON(self->s, s, p);
	stopper = stw_open();
	ASSERT_TRUE(stopper != NULL);
	ASSERT_OK(stopper, stw_stop_send(stopper, &req, &c));
	ASSERT_OK(s, stw_wait_mode(s, STW_STOPPED, STW_T_WAIT));
	ASSERT_OK(p, stw_probe_arm(p, STW_PROBE_BEFORE_COUNT, 0, true));
	ASSERT_SPAWN(s, 0, 1, 0, 0, &id, &n);
	ASSERT_OK(p, stw_probe_wait(p, STW_PROBE_BEFORE_COUNT, 0,
				    STW_T_WAIT, NULL));

	/* The VM holds the world lock, parked: a socket opens and closes. */
	pid = stw_fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(close_a_genl_socket(NULL));
	ASSERT_EQ(0, stw_waitpid_timeout(pid, &status, STW_T_WAIT))
		TH_LOG("closing a genl socket waited for the world lock");
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));

	ASSERT_OK(p, stw_probe_release(p, STW_PROBE_BEFORE_COUNT, 0));
	ASSERT_OK(s, stw_wait_vm_doing(s, id, STW_VM_DOING_PARKED, STW_T_WAIT));
	stw_close(stopper);	/* and its hold */
	ASSERT_OK(s, stw_wait_mode(s, STW_RUN_ALL, STW_T_WAIT));
	ASSERT_OK(p, stw_probe_reset(p));
	stw_close(p);
}

/*
 * Defect: every ARM and RESET flipped the probes' static key, so the kernel
 * rewrote live text under the VMs hundreds of times a suite; on 6.12 under
 * QEMU's multi-threaded TCG one of those pokes left a VM on a stray int3
 * (an oops in stw_vm_exit) within a few hundred flips. Now the key is on
 * from load with probes=1 and arming only starts the log. The VMs keep
 * running through their probe points meanwhile, and once reset nothing
 * is logged any more.
 */
TEST_F(control, arming_probes_leaves_running_vms_alone)
{
	struct stw_sock *s = self->s, *p;
	struct stw_probe_hit *hits;
	struct stw_vm *vms;
	uint32_t ids[4];
	size_t n, i;
	uint64_t jobs;

	PROBES_ON(self->s, s, p);
	ASSERT_SPAWN(s, 2, 0, 2, 0, ids, &n);
	for (i = 0; i < 300; i++) {
		/* Armed for a VM that does not exist: it is never reached. */
		ASSERT_OK(p, stw_probe_arm(p, STW_PROBE_EXIT_IDLE, INT32_MAX,
					   false));
		ASSERT_OK(p, stw_probe_reset(p));
	}
	ASSERT_OK(s, stw_vms(s, &vms, &n));
	ASSERT_LT(0U, n);
	jobs = vms[0].jobs;
	ASSERT_OK(s, stw_wait_vm_jobs(s, vms[0].id, jobs + 2, STW_T_WAIT));
	free(vms);
	ASSERT_OK(p, stw_probe_log(p, &hits, &n));
	free(hits);
	ASSERT_EQ(0U, n) TH_LOG("%zu hits logged with nothing armed", n);
	stw_close(p);
}

/*
 * make explore's SPAWN: with STW_PROBE_A_BORN, the thread of a VM born
 * now is gated before it runs any of stw's code, so its first probe point
 * is where it waits; once that is turned off, a VM born next runs free.
 */
TEST_F(control, a_vm_born_while_born_gating_waits_at_its_first_probe_point)
{
	struct stw_probe_gate_info g[STW_PROBE_GATES];
	struct stw_probe_worker_info wk;
	struct stw_sock *s = self->s, *p;
	int64_t deadline = stw_now_ms() + STW_T_WAIT;
	struct stw_vm *vms;
	uint32_t ids[2];
	size_t n, i;

	PROBES_ON(self->s, s, p);
	ASSERT_OK(p, stw_probe_gate_born(p, true));
	ASSERT_SPAWN(s, 0, 1, 0, 0, ids, &n);
	/* Its start work is queued: it parks at the first probe point. */
	for (;;) {
		ASSERT_OK(p, stw_probe_gates(p, g, STW_PROBE_GATES, &n, &wk));
		ASSERT_EQ(1U, n) TH_LOG("%zu threads gated, not the VM's alone", n);
		if (g[0].parked)
			break;
		ASSERT_LT(stw_now_ms(), deadline)
			TH_LOG("the VM's thread never reached its gate");
		usleep(1000);	/* polling the gates: a wait, not an order */
	}
	ASSERT_OK(p, stw_probe_gate_born(p, false));
	ASSERT_OK(p, stw_probe_gate(p, g[0].pid, false));
	ASSERT_OK(s, stw_wait_vm_state(s, ids[0], STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_OK(s, stw_vms(s, &vms, &n));
	for (i = 0; i < n && vms[i].id != ids[0]; i++)
		;
	ASSERT_LT(i, n);
	EXPECT_EQ((uint32_t)g[0].pid, vms[i].pid)
		TH_LOG("the thread gated is not the VM's");
	free(vms);
	ASSERT_SPAWN(s, 0, 1, 0, 0, &ids[1], &n);
	ASSERT_OK(s, stw_wait_vm_state(s, ids[1], STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_OK(p, stw_probe_gates(p, g, STW_PROBE_GATES, &n, &wk));
	ASSERT_EQ(0U, n) TH_LOG("a VM born after born gating ended was gated");
	ASSERT_OK(p, stw_probe_reset(p));
	stw_close(p);
}

/* A GATE refused with @err and an extack message containing @what. */
#define ASSERT_GATE_REFUSED(p, buf, len, err, what) do { \
	ASSERT_REJECTED(p, stw_raw(p, STW_PROBE_CMD_GATE, 0, buf, len, NULL), \
			err, err); \
	EXPECT_TRUE(strstr((p)->extack, what) != NULL) \
		TH_LOG("extack '%s' does not say '%s'", (p)->extack, what); \
} while (0)

/*
 * A GATE that names no thread, two things at once, or a thread that is
 * not there or not in the state asked for is refused, and says which;
 * none of them gates anything.
 */
TEST_F(control, gate_requests_say_what_was_wrong)
{
	struct stw_probe_gate_info g[STW_PROBE_GATES];
	struct stw_probe_worker_info wk;
	struct stw_sock *s = self->s, *p;
	unsigned char buf[64];
	struct stw_vm *vms;
	uint32_t id;
	size_t n, len;
	pid_t pid;

	PROBES_ON(self->s, s, p);
	ASSERT_SPAWN(s, 0, 1, 0, 0, &id, &n);
	ASSERT_OK(s, stw_wait_vm_state(s, id, STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_OK(s, stw_vms(s, &vms, &n));
	ASSERT_EQ(1U, n);
	pid = vms[0].pid;
	free(vms);

	STW_CTX("no thread named");
	len = stw_attr_put(buf, sizeof(buf), 0, STW_PROBE_A_GATED, NULL, 0);
	ASSERT_GATE_REFUSED(p, buf, len, EINVAL, "STW_PROBE_A_PID");

	STW_CTX("a thread and the threads to be born");
	len = stw_attr_put_u32(buf, sizeof(buf), 0, STW_PROBE_A_PID, pid);
	len = stw_attr_put(buf, sizeof(buf), len, STW_PROBE_A_BORN, NULL, 0);
	len = stw_attr_put(buf, sizeof(buf), len, STW_PROBE_A_GATED, NULL, 0);
	ASSERT_GATE_REFUSED(p, buf, len, EINVAL, "not both");

	STW_CTX("a thread that does not exist");
	len = stw_attr_put_u32(buf, sizeof(buf), 0, STW_PROBE_A_PID,
			       0x7ffffff0);
	len = stw_attr_put(buf, sizeof(buf), len, STW_PROBE_A_GATED, NULL, 0);
	ASSERT_GATE_REFUSED(p, buf, len, ESRCH, "no such thread");

	STW_CTX("ungating a thread not gated");
	len = stw_attr_put_u32(buf, sizeof(buf), 0, STW_PROBE_A_PID, pid);
	ASSERT_GATE_REFUSED(p, buf, len, EINVAL, "not gated");

	stw_ctx[0] = 0;
	ASSERT_OK(p, stw_probe_gates(p, g, STW_PROBE_GATES, &n, &wk));
	ASSERT_EQ(0U, n) TH_LOG("a refused GATE gated %zu threads", n);

	STW_CTX("gating a thread twice");
	ASSERT_OK(p, stw_probe_gate(p, pid, true));
	len = stw_attr_put_u32(buf, sizeof(buf), 0, STW_PROBE_A_PID, pid);
	len = stw_attr_put(buf, sizeof(buf), len, STW_PROBE_A_GATED, NULL, 0);
	ASSERT_GATE_REFUSED(p, buf, len, EBUSY, "gated already");
	ASSERT_OK(p, stw_probe_gates(p, g, STW_PROBE_GATES, &n, &wk));
	ASSERT_EQ(1U, n);
	EXPECT_EQ(pid, g[0].pid);
	ASSERT_OK(p, stw_probe_reset(p));
	stw_close(p);
}

/*
 * Defect: a VM born during a stop had its start work queued only in
 * RUN_ALL; if the resume won against its stop work, nothing ever marked
 * it running. Forced: its stop work is held at its entry until the world
 * resumed.
 */
TEST_F(control, vm_born_during_a_stop_runs_after_the_resume)
{
	struct stw_sock *s = self->s, *p;
	uint32_t ids[1], id, hit = 0;
	size_t n;

	PROBES_ON(self->s, s, p);
	ASSERT_SPAWN(s, 0, 1, 0, 0, ids, &n);
	ASSERT_OK(s, stw_stop(s, STW_T_STOP, 0, NULL, NULL));

	ASSERT_OK(p, stw_probe_arm(p, STW_PROBE_STOP_WORK_ENTER, 0, true));
	ASSERT_SPAWN(s, 0, 1, 0, 0, &id, &n);
	ASSERT_OK(p, stw_probe_wait(p, STW_PROBE_STOP_WORK_ENTER, 0,
				    STW_T_WAIT, &hit));
	ASSERT_EQ(id, hit);
	ASSERT_OK(s, stw_resume(s, false, 0, NULL));
	ASSERT_TRUE(mode_is(s, STW_RUN_ALL));
	ASSERT_OK(p, stw_probe_release(p, STW_PROBE_STOP_WORK_ENTER, 0));
	/* Nothing else would ever mark it running. */
	ASSERT_OK(s, stw_wait_vm_state(s, id, STW_VM_RUNNING, STW_T_WAIT));
	ASSERT_OK(p, stw_probe_reset(p));
	stw_close(p);
}

/*
 * Defect: a timeout named as many laggards as fitted in one page, with no
 * count and no sign that some were left out. Now: all of them up to
 * STW_LAGGARDS_LISTED (256), the total, and a flag past that.
 */
FIXTURE(laggards) {
	struct stw_sock *s;
};

FIXTURE_VARIANT(laggards) {
	const char *params;
	uint32_t sleepers;
	uint32_t listed;
};

FIXTURE_VARIANT_ADD(laggards, hundred) {
	.params = "sleepers=100",
	.sleepers = 100,
	.listed = 100,
};

FIXTURE_VARIANT_ADD(laggards, three_hundred) {
	.params = "sleepers=300",
	.sleepers = 300,
	.listed = 256,
};

FIXTURE_SETUP(laggards)
{
	TESTMOD_SETUP(self->s);
}

FIXTURE_TEARDOWN(laggards)
{
	TESTMOD_TEARDOWN(self->s);
}

static bool all_entered(const struct stw_vm *vms, size_t n, void *arg)
{
	size_t i, entered = 0;

	for (i = 0; i < n; i++)
		entered += vms[i].doing == STW_VM_DOING_RUNNING ||
			   vms[i].doing == STW_VM_DOING_BLOCKED;
	return entered == *(uint32_t *)arg;
}

/*
 * Laggards that sleep inside their entry scope: they cost no CPU. Making
 * and unmaking 300 threads is slow on a KASAN kernel under emulation: the
 * harness's limit is the guard against a hang, not a measure.
 */
TEST_F_TIMEOUT(laggards, every_laggard_is_counted, 180)
{
	struct stw_stop_req req = {
		.timeout_ms = 500,
		.lease_ms = STW_UNSET,
	};
	struct stw_sock *s = self->s;
	struct stw_stop_result r = {};
	uint32_t n = variant->sleepers;

	ASSERT_EQ(0, load_module(TESTMOD_KO, variant->params));
	ASSERT_OK(s, stw_wait_vms(s, all_entered, &n, STW_T_WAIT));
	ASSERT_ERRNO(s, ETIMEDOUT, stw_stop_ex(s, &req, &r));
	ASSERT_EQ(n, r.laggards.total);
	ASSERT_EQ(variant->listed, r.laggards.list.n);
	ASSERT_EQ(variant->listed < n, r.laggards.truncated);
	ASSERT_EQ(STW_VM_DOING_BLOCKED, r.laggards.list.vms[0].doing);
	stw_stop_result_free(&r);
}

static int count_intr(struct stw_sock *s, const struct stw_msg *m, void *arg)
{
	int *state = arg;

	/* Change the world once, after the first part of the dump. */
	if (!state[0]++) {
		struct stw_sock *other = stw_open();

		if (!other || stw_spawn(other, 0, 1, 0, 0, NULL, NULL))
			state[2] = 1;
		stw_close(other);
	}
	if (m->nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		state[1]++;
	return 0;
}

/*
 * Defect: the STATUS dump had no consistency check, and world and VMs came
 * from two requests. A VM added while a dump is read marks it interrupted.
 */
TEST_F(control, dump_says_when_the_world_changed)
{
	uint32_t count[STW_SPAWN_A_MAX + 1] = { [STW_SPAWN_A_IDLE] = 1000 };
	struct stw_sock *s = self->s;
	struct stw_world w;
	struct stw_vm_list vms = {};
	int state[3] = {};

	ASSERT_OK(s, stw_spawn_split(s, count, NULL));
	ASSERT_OK(s, stw_call(s, stw_msg_new(s, STW_CMD_STATUS, NLM_F_DUMP),
			      count_intr, state));
	ASSERT_EQ(0, state[2]) TH_LOG("could not spawn during the dump");
	ASSERT_LT(0, state[1]) TH_LOG("%d messages, none flagged", state[0]);
	/* The client's dump retries until it gets one consistent picture. */
	ASSERT_OK(s, stw_dump(s, &w, &vms));
	ASSERT_EQ(1001U, w.nr_vms);
	ASSERT_EQ(1001U, vms.n);
	stw_vm_list_free(&vms);
}

/*
 * Reads a dump's answer raw, to its NLMSG_DONE: how many messages of the
 * family came, and whether any was flagged NLM_F_DUMP_INTR. 0 or errno
 * (ETIMEDOUT: nothing came for STW_T_WAIT ms).
 */
static int read_dump(struct stw_sock *s, size_t *msgs, bool *intr)
{
	static char buf[1 << 16];
	int fd = nl_socket_get_fd(s->nl);
	struct nlmsghdr *nlh;
	ssize_t len;

	*msgs = 0;
	*intr = false;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, STW_T_WAIT) != 1)
			return ETIMEDOUT;
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0)
			return errno;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return EPROTO;
			if (nlh->nlmsg_type != s->family)
				continue;
			(*msgs)++;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				*intr = true;
		}
	}
}

/*
 * Defect: a dump whose walk had met the last VM was called once more when
 * the client read it, and a VM spawned in between (a higher id) was found
 * then and flagged the dump interrupted. Under steady churn, 16 dumps in a
 * row were, and STATUS failed with EAGAIN. The dump's first part is made
 * as the request is sent; a VM spawned before it is read is not in it,
 * and the dump is whole.
 */
TEST_F(control, vm_spawned_after_the_walk_does_not_interrupt_the_dump)
{
	struct stw_sock *s = self->s, *other;
	struct stw_vm_list vms = {};
	struct nl_msg *msg;
	struct stw_world w;
	size_t msgs;
	bool intr;

	ASSERT_OK(s, stw_spawn(s, 1, 1, 1, 0, NULL, NULL));
	ASSERT_OK(s, stw_dump(s, &w, &vms));
	other = stw_open();
	ASSERT_TRUE(other != NULL);

	msg = stw_msg_new(s, STW_CMD_STATUS, NLM_F_DUMP);
	ASSERT_TRUE(msg != NULL);
	ASSERT_LT(0, nl_send_auto(s->nl, msg));
	nlmsg_free(msg);
	ASSERT_OK(other, stw_spawn(other, 0, 1, 0, 0, NULL, NULL));
	ASSERT_EQ(0, read_dump(s, &msgs, &intr));
	stw_close(other);

	EXPECT_FALSE(intr);
	/* The world, then each VM it had when the request came. */
	EXPECT_EQ(1 + vms.n, msgs);
	stw_vm_list_free(&vms);
}

/*
 * An events socket whose receive buffer is full: the smallest buffer, and
 * eight VM_ADDED events (spawned through @s) that nobody reads. NULL if it
 * could not be made.
 */
static struct stw_sock *open_full_socket(struct stw_sock *s)
{
	struct stw_sock *full = stw_open_events();
	int i, size = 1;

	if (!full)
		return NULL;
	if (setsockopt(nl_socket_get_fd(full->nl), SOL_SOCKET, SO_RCVBUF,
		       &size, sizeof(size)))
		goto err_close;
	for (i = 0; i < 8; i++)
		if (stw_spawn(s, 0, 1, 0, 0, NULL, NULL))
			goto err_close;
	return full;

err_close:
	stw_close(full);
	return NULL;
}

/*
 * Defect: a STOP whose reply could not be sent was acknowledged anyway,
 * and its hold stayed with nobody knowing its id. A socket whose receive
 * buffer is full of events gets no reply: the hold is dropped.
 */
TEST_F(control, undelivered_stop_reply_leaves_no_hold)
{
	struct stw_sock *s = self->s, *full;
	struct stw_world w;
	struct nl_msg *msg;

	full = open_full_socket(s);
	ASSERT_TRUE(full != NULL) TH_LOG("%s", stw_describe(s));
	/*
	 * Sent without waiting for an answer that cannot come: the kernel
	 * handles it before the send returns.
	 */
	msg = stw_msg_new(full, STW_CMD_STOP, 0);
	ASSERT_TRUE(msg != NULL);
	ASSERT_EQ(0, nla_put_u32(msg, STW_A_LEASE_MS, 60000));
	ASSERT_LT(0, nl_send_auto(full->nl, msg));
	nlmsg_free(msg);
	ASSERT_OK(s, stw_status(s, &w));
	ASSERT_EQ(0U, w.holds) TH_LOG("a hold nobody knows of: %s",
				      stw_describe(s));
	ASSERT_EQ(STW_RUN_ALL, w.mode);
	stw_close(full);
}

/*
 * Defect: libstw waited for ever for an ACK the kernel could not queue (a
 * receive buffer full of events; also a failed allocation, as failslab_test
 * found on the debug kernel): it took the overrun for lost events only. The
 * request must fail with ENOBUFS, once what was queued has been read.
 */
TEST_F(control, a_lost_answer_fails_instead_of_waiting)
{
	struct stw_sock *s = self->s, *full;
	struct stw_world w;
	int size, err;

	full = open_full_socket(s);
	ASSERT_TRUE(full != NULL) TH_LOG("%s", stw_describe(s));
	err = stw_status(full, &w);
	EXPECT_EQ(ENOBUFS, err) TH_LOG("STATUS on a full socket: %s ('%s')",
				       strerror(err), full->extack);
	EXPECT_TRUE(full->local);
	/* With room again, the socket works again. */
	size = 1 << 20;
	ASSERT_EQ(0, setsockopt(nl_socket_get_fd(full->nl), SOL_SOCKET,
				SO_RCVBUF, &size, sizeof(size)));
	stw_drain(full);
	ASSERT_OK(full, stw_status(full, &w));
	ASSERT_EQ(8U, w.nr_vms);
	stw_close(full);
}

/*
 * Defect (make explore found it): a completion that came while a later
 * request on the same socket waited for its ACK was dropped as stale, so a
 * controller that sent STOP, then RESUME before reading the completion,
 * never learnt how its STOP ended. The completion must wait for it.
 */
TEST_F(control, a_completion_outlives_a_later_request)
{
	struct stw_stop_req req = { .timeout_ms = 60000, .lease_ms = STW_UNSET };
	struct stw_sock *s = self->s, *other;
	struct pollfd pfd;
	struct stw_cycle cycle;
	struct stw_done d;
	struct stw_world w;
	uint32_t id;
	size_t n = 0;

	ASSERT_OK(s, stw_spawn(s, 0, 0, 0, 1, &id, &n));
	ASSERT_EQ(1u, n);
	/* In its job: not yet there, it would park at its entry at once. */
	ASSERT_OK(s, stw_wait_vm_doing(s, id, STW_VM_DOING_RUNNING,
				       STW_T_WAIT));
	other = stw_open();
	ASSERT_TRUE(other != NULL);
	/* Pending on the VM that never polls, then cancelled by a force. */
	ASSERT_OK(s, stw_stop_send(s, &req, &cycle));
	ASSERT_TRUE(cycle.pending);
	ASSERT_OK(other, stw_resume(other, true, 0, NULL));
	/* The completion is queued on the socket before the next request. */
	pfd = (struct pollfd){ .fd = stw_fd(s), .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("no completion queued");
	ASSERT_OK(s, stw_status(s, &w));
	memset(&d, 0, sizeof(d));
	ASSERT_EQ(0, stw_read_any_done(s, 1000, &d))
		TH_LOG("the STOP's completion was lost by the STATUS after it");
	EXPECT_EQ(ECANCELED, d.err) TH_LOG("%s", d.msg);
	EXPECT_EQ(cycle.generation, d.cycle.generation);
	stw_close(other);
}

/*
 * Defect (make explore found it): a completion that came while a later
 * request on the same socket waited for its own completion was dropped,
 * so a controller that stopped the world and stepped a VM before reading
 * its STOP's completion never learnt how its STOP ended.
 *
 * The idle VM's stop work is held at its entry, so the STOP is certainly
 * still pending when its reply comes (an idle VM may otherwise park on the
 * other CPU before the reply is built, and a STOP done at once has no
 * completion: CI found that on two kernels).
 */
TEST_F(control, a_completion_outlives_a_later_step)
{
	struct stw_stop_req req = { .timeout_ms = 60000, .lease_ms = STW_UNSET };
	struct stw_sock *s, *p, *other;
	struct stw_cycle cycle;
	struct stw_done d;
	uint32_t id;
	size_t n = 0;

	PROBES_ON(self->s, s, p);
	ASSERT_OK(s, stw_spawn(s, 0, 1, 0, 0, &id, &n));
	ASSERT_EQ(1u, n);
	other = stw_open();
	ASSERT_TRUE(other != NULL);
	ASSERT_OK(p, stw_probe_arm(p, STW_PROBE_STOP_WORK_ENTER, id, true));
	ASSERT_OK(s, stw_stop_send(s, &req, &cycle));
	ASSERT_TRUE(cycle.pending);
	ASSERT_OK(p, stw_probe_wait(p, STW_PROBE_STOP_WORK_ENTER, id,
				    STW_T_WAIT, NULL));
	ASSERT_OK(p, stw_probe_release(p, STW_PROBE_STOP_WORK_ENTER, id));
	/* Stopped: its completion is on the socket before the step is sent. */
	ASSERT_OK(other, stw_wait_mode(other, STW_STOPPED, STW_T_WAIT));
	ASSERT_OK(s, stw_run_one(s, id, 1, 10000, NULL));
	memset(&d, 0, sizeof(d));
	ASSERT_EQ(0, stw_read_any_done(s, 1000, &d))
		TH_LOG("the STOP's completion was lost by the step after it");
	EXPECT_EQ(0, d.err) TH_LOG("%s", d.msg);
	EXPECT_EQ(cycle.generation, d.cycle.generation);
	ASSERT_OK(p, stw_probe_reset(p));
	stw_close(p);
	stw_close(other);
}

/*
 * Defect: on unload the demo VMs were destroyed after the family was
 * unregistered, so their VM_GONE went to a group that no longer existed.
 * Only this test's VMs count: stw's event worker may still be sending the
 * VM_GONE of a VM the setup's reset destroyed (once, under load, it
 * counted a fourth).
 */
TEST_F(control, unload_announces_the_vms_it_destroys)
{
	struct stw_sock *s = self->s, *ev;
	struct stw_event e;
	uint32_t ids[3];
	bool gone[3] = { false };
	size_t n, i;

	ev = stw_open_events();
	ASSERT_TRUE(ev != NULL);
	ASSERT_SPAWN(s, 1, 1, 1, 0, ids, &n);
	stw_close(self->s);
	self->s = NULL;
	ASSERT_EQ(0, stw_module_unload());
	while (!stw_event_wait(ev, STW_CMD_VM_GONE_NTF, 0, &e)) {
		for (i = 0; i < 3; i++) {
			uint32_t id = ids[i];

			if (!e.has_vm || e.vm.id != id)
				continue;
			EXPECT_FALSE(gone[i])
				TH_LOG("VM %u announced gone twice", id);
			gone[i] = true;
		}
		stw_event_free(&e);
	}
	for (i = 0; i < 3; i++) {
		uint32_t id = ids[i];

		EXPECT_TRUE(gone[i]) TH_LOG("VM %u went unannounced", id);
	}
	stw_close(ev);
}

/* VM ids of KILL are STW_A_VM_ID at the top level, each one checked. */
TEST_F(control, kill_checks_every_id_attribute)
{
	struct stw_sock *s = self->s;
	unsigned char buf[64];
	uint16_t bad = 7;
	size_t len;

	len = stw_attr_put(buf, sizeof(buf), 0, STW_A_VM_ID, &bad,
			   sizeof(bad));
	ASSERT_ERRNO(s, EINVAL, stw_raw(s, STW_CMD_KILL, 0, buf, len, NULL));
	ASSERT_EXTACK(s);
	len = stw_attr_put(buf, sizeof(buf), 0, STW_A_VM_IDS, NULL, 0);
	ASSERT_ERRNO(s, EINVAL, stw_raw(s, STW_CMD_KILL, 0, buf, len, NULL));
	ASSERT_EXTACK(s);
}

/*
 * Like the freezer's "refusing to freeze": a stop that times out writes
 * each laggard's stack to the kernel log, by thread name, and says so.
 */
TEST_F(control, laggards_stacks_go_to_the_kernel_log)
{
	struct stw_stop_req req = {
		.timeout_ms = 300,
		.lease_ms = STW_UNSET,
	};
	struct stw_sock *s = self->s;
	struct stw_stop_result r = {};
	char who[64];
	uint32_t one = 1;
	int fd;

	ASSERT_EQ(0, load_module(TESTMOD_KO, "sleepers=1"));
	ASSERT_OK(s, stw_wait_vms(s, all_entered, &one, STW_T_WAIT));
	fd = stw_kmsg_open();
	ASSERT_LE(0, fd);
	ASSERT_ERRNO(s, ETIMEDOUT, stw_stop_ex(s, &req, &r));
	ASSERT_EQ(1U, r.laggards.list.n);
	ASSERT_TRUE(r.laggards.stacks_logged)
		TH_LOG("no stacks logged: rate-limited by earlier timeouts?");
	snprintf(who, sizeof(who), "stw/%s (pid %u) did not stop within",
		 r.laggards.list.vms[0].name, r.laggards.list.vms[0].pid);
	ASSERT_TRUE(stw_kmsg_has(fd, who, "testmod_sleep_job"))
		TH_LOG("no '%s' with its stack in the kernel log", who);
	close(fd);
	stw_stop_result_free(&r);
}

TEST_HARNESS_MAIN
