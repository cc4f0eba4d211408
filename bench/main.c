// SPDX-License-Identifier: GPL-2.0
/*
 * stw_bench: measures stw from the kernel, through its exported API, against
 * a raw barrier and kthread_park(). Controlled through debugfs:
 *
 *	/sys/kernel/debug/stw_bench/cmd     write one command, returns when done
 *	/sys/kernel/debug/stw_bench/result  the CSV rows the last command made
 *
 * Commands (key=value arguments, any order):
 *
 *	tts n= mix= cycles= budget_ms= park_cycles= park_budget_ms= profile=
 *		N VMs: stw and barrier cycles (and a profile); then N park
 *		threads: park cycles
 *	spawn n= mix=		N VMs that stay, for the commands below
 *	measure section= cycles= budget_ms= barrier=0|1
 *	profile			when each VM stopped, stw against the barrier
 *	stop | resume		hold the world stopped, release it
 *	kill			destroy the VMs of spawn
 *	other n= mix=		N VMs in a second world, running beside
 *	kill_other		destroy them
 *	poll units= rounds=	the cost of a poll with no stop pending
 *
 * mix is active, idle or half. Every command runs on a SCHED_FIFO kernel
 * thread, the controller, so that a thousand busy VMs cannot delay it.
 * The threads a command makes run at the nice of the module parameter
 * nice (/sys/module/stw_bench/parameters/nice; default 10, the demo VMs').
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "bench.h"

#define BENCH_LINE_MAX	256
#define BENCH_BUF_SIZE	(64 * 1024)

struct bench_args {
	unsigned int n;
	enum bench_mix mix;
	unsigned int cycles;
	unsigned int budget_ms;
	unsigned int park_cycles;
	unsigned int park_budget_ms;
	unsigned int units;
	unsigned int rounds;
	unsigned int barrier;
	unsigned int profile;
	char section[16];
};

/* One command, shared by its writer and the controller running it. */
struct bench_run {
	refcount_t ref;
	struct completion done;
	int ret;
	char line[BENCH_LINE_MAX];
};

static struct dentry *bench_dir;
/* The output of the command running or last run; one command at a time. */
static char *bench_buf;
static size_t bench_len;
static atomic_t bench_busy = ATOMIC_INIT(0);
/* The last controller, kept so that unloading can wait for it. */
static struct task_struct *bench_task;
/* The VMs of spawn; only the controller touches them. */
static struct bench_set bench_cur;
/* The VMs of "other": a second world's, running while the first stops. */
static struct bench_set bench_other;

void bench_out(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	bench_len += vscnprintf(bench_buf + bench_len,
				BENCH_BUF_SIZE - bench_len, fmt, args);
	va_end(args);
}

static int bench_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

u64 bench_median(u64 *v, unsigned int n)
{
	if (!n)
		return 0;
	sort(v, n, sizeof(*v), bench_cmp, NULL);
	return (v[(n - 1) / 2] + v[n / 2]) / 2;
}

/* Nearest rank: with fewer than 100 samples, the largest. */
u64 bench_p99(u64 *v, unsigned int n)
{
	if (!n)
		return 0;
	sort(v, n, sizeof(*v), bench_cmp, NULL);
	return v[DIV_ROUND_UP(99 * n, 100) - 1];
}

static int bench_parse(char *line, struct bench_args *a)
{
	static const char *const uint_keys[] = {
		"n", "cycles", "budget_ms", "park_cycles", "park_budget_ms",
		"units", "rounds", "barrier", "profile",
	};
	unsigned int *uint_vals[] = {
		&a->n, &a->cycles, &a->budget_ms, &a->park_cycles,
		&a->park_budget_ms, &a->units, &a->rounds, &a->barrier,
		&a->profile,
	};
	char *tok, *val;
	int i;

	while ((tok = strsep(&line, " \t\n"))) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(tok, "mix")) {
			i = match_string(bench_mix_names, BENCH_MIX_COUNT, val);
			if (i < 0)
				return i;
			a->mix = i;
			continue;
		}
		if (!strcmp(tok, "section")) {
			if (strscpy(a->section, val, sizeof(a->section)) < 0)
				return -EINVAL;
			continue;
		}
		i = match_string(uint_keys, ARRAY_SIZE(uint_keys), tok);
		if (i < 0 || kstrtouint(val, 0, uint_vals[i]))
			return -EINVAL;
	}
	if (a->n > STW_MAX_VMS || !a->cycles || !a->units || !a->rounds)
		return -EINVAL;
	return 0;
}

static int bench_cmd_tts(struct bench_args *a)
{
	struct bench_opts o = {
		.cycles = a->cycles,
		.budget_ms = a->budget_ms,
		.stw = true,
		.barrier = true,
	};
	struct bench_set s = {};
	int ret;

	ret = bench_set_spawn(&s, a->n, a->mix, false);
	if (ret)
		return ret;
	ret = bench_measure(&s, "tts", &o);
	if (!ret && a->profile)
		ret = bench_profile(&s);
	bench_set_kill(&s);
	if (ret || !a->park_cycles)
		return ret;

	o.cycles = a->park_cycles;
	o.budget_ms = a->park_budget_ms;
	ret = bench_set_spawn(&s, a->n, a->mix, true);
	if (ret)
		return ret;
	ret = bench_park(&s, "tts", &o);
	bench_set_kill(&s);
	return ret;
}

static void bench_mem_row(struct bench_set *s, const char *what,
			  size_t bytes, const char *note)
{
	bench_out("mem,%u,%s,%s,1,%zu,,,,%s\n", s->n, bench_mix_names[s->mix],
		  what, bytes, note);
}

/* spawn: also says what stw allocates for one VM itself. */
static int bench_cmd_spawn(struct bench_args *a)
{
	struct stw_vm *vm;
	int ret;

	if (bench_cur.n)
		return -EBUSY;
	ret = bench_set_spawn(&bench_cur, a->n, a->mix, false);
	if (ret || !bench_cur.n)
		return ret;
	vm = bench_cur.t[0].vm;
	bench_mem_row(&bench_cur, "stw_vm", ksize(vm), "stw's struct stw_vm");
	bench_mem_row(&bench_cur, "kthread_worker", ksize(vm->worker),
		      "the VM's run loop (stw_vm_create())");
	bench_mem_row(&bench_cur, "thread_stack", THREAD_SIZE,
		      "the VM thread's stack");
	bench_mem_row(&bench_cur, "bench_thread", sizeof(struct bench_thread),
		      "the bench's own; not stw's");
	return 0;
}

static int bench_exec(char *line)
{
	struct bench_args a = {
		.n = 1,
		.mix = BENCH_MIX_IDLE,
		.cycles = 10,
		.units = 10000,
		.rounds = 9,
		.barrier = 1,
		.section = "scale",
	};
	struct bench_opts o;
	char *cmd;
	int ret;

	cmd = strsep(&line, " \t\n");
	ret = bench_parse(line, &a);
	if (ret)
		return ret;
	if (!strcmp(cmd, "tts"))
		return bench_cmd_tts(&a);
	if (!strcmp(cmd, "spawn"))
		return bench_cmd_spawn(&a);
	if (!strcmp(cmd, "poll"))
		return bench_poll_cost(a.units, a.rounds);
	if (!strcmp(cmd, "stop"))
		return bench_hold_stop(&bench_cur);
	if (!strcmp(cmd, "resume"))
		return bench_hold_resume(&bench_cur);
	if (!strcmp(cmd, "profile"))
		return bench_cur.n ? bench_profile(&bench_cur) : -ENOENT;
	if (!strcmp(cmd, "kill")) {
		bench_set_kill(&bench_cur);
		return 0;
	}
	if (!strcmp(cmd, "other")) {
		if (bench_other.n)
			return -EBUSY;
		bench_other.world = bench_other_world;
		return bench_set_spawn(&bench_other, a.n, a.mix, false);
	}
	if (!strcmp(cmd, "kill_other")) {
		bench_set_kill(&bench_other);
		return 0;
	}
	if (!strcmp(cmd, "measure")) {
		if (!bench_cur.n)
			return -ENOENT;
		o = (struct bench_opts) {
			.cycles = a.cycles,
			.budget_ms = a.budget_ms,
			.stw = true,
			.barrier = a.barrier,
		};
		return bench_measure(&bench_cur, a.section, &o);
	}
	return -EINVAL;
}

static void bench_run_put(struct bench_run *run)
{
	if (refcount_dec_and_test(&run->ref))
		kfree(run);
}

static int bench_controller(void *data)
{
	struct bench_run *run = data;

	run->ret = bench_exec(run->line);
	complete(&run->done);
	bench_run_put(run);
	atomic_set(&bench_busy, 0);
	return 0;
}

static ssize_t bench_cmd_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct task_struct *task;
	struct bench_run *run;
	int ret;

	if (count >= BENCH_LINE_MAX)
		return -EINVAL;
	if (atomic_cmpxchg(&bench_busy, 0, 1))
		return -EBUSY;
	ret = -ENOMEM;
	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run)
		goto err_idle;
	ret = -EFAULT;
	if (copy_from_user(run->line, ubuf, count))
		goto err_free;
	refcount_set(&run->ref, 2);
	init_completion(&run->done);

	/* The previous controller finished its command: reap it. */
	if (bench_task) {
		kthread_stop(bench_task);
		put_task_struct(bench_task);
		bench_task = NULL;
	}
	task = kthread_create(bench_controller, run, "stw-bench");
	if (IS_ERR(task)) {
		ret = PTR_ERR(task);
		goto err_free;
	}
	get_task_struct(task);
	bench_task = task;
	bench_len = 0;
	bench_buf[0] = '\0';
	sched_set_fifo(task);
	wake_up_process(task);

	ret = wait_for_completion_killable(&run->done);
	if (!ret)
		ret = run->ret;
	bench_run_put(run);
	return ret ? ret : count;

err_free:
	kfree(run);
err_idle:
	atomic_set(&bench_busy, 0);
	return ret;
}

static ssize_t bench_result_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	return simple_read_from_buffer(ubuf, count, ppos, bench_buf,
				       bench_len);
}

static const struct file_operations bench_cmd_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = bench_cmd_write,
	.llseek = noop_llseek,
};

static const struct file_operations bench_result_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = bench_result_read,
	.llseek = default_llseek,
};

struct stw_world *bench_world;
struct stw_world *bench_other_world;

static int __init bench_init(void)
{
	int ret = -ENOMEM;

	bench_world = stw_world_create("bench");
	if (IS_ERR(bench_world))
		return PTR_ERR(bench_world);
	bench_other_world = stw_world_create("bench-other");
	if (IS_ERR(bench_other_world)) {
		ret = PTR_ERR(bench_other_world);
		goto err_destroy_world;
	}
	bench_buf = kvzalloc(BENCH_BUF_SIZE, GFP_KERNEL);
	if (!bench_buf)
		goto err_destroy_other;
	init_waitqueue_head(&bench_bar.ctl_wq);
	init_waitqueue_head(&bench_bar.release_wq);
	bench_dir = debugfs_create_dir("stw_bench", NULL);
	debugfs_create_file("cmd", 0200, bench_dir, NULL, &bench_cmd_fops);
	debugfs_create_file("result", 0400, bench_dir, NULL,
			    &bench_result_fops);
	return 0;

err_destroy_other:
	stw_world_destroy(bench_other_world);
err_destroy_world:
	stw_world_destroy(bench_world);
	return ret;
}

static void __exit bench_exit(void)
{
	debugfs_remove_recursive(bench_dir);
	/* A command whose writer was killed may still run: let it end. */
	if (bench_task) {
		kthread_stop(bench_task);
		put_task_struct(bench_task);
	}
	bench_hold_resume(&bench_cur);
	bench_set_kill(&bench_cur);
	bench_set_kill(&bench_other);
	kvfree(bench_buf);
	stw_world_destroy(bench_other_world);
	stw_world_destroy(bench_world);
}

module_init(bench_init);
module_exit(bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("stw benchmark: stw vs. a raw barrier and kthread_park()");
MODULE_AUTHOR("The stw developers");
