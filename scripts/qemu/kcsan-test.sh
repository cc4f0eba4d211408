#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/qemu/kcsan.sh on made-up kernel logs, one per kind of report: it
# must fail a log with a race stw made, or with stw racing with itself
# through kernel code, and list (not fail) a race inside kernel code stw
# only called, one under an interrupt that hit stw, and one elsewhere.
# make check-host runs it.
#
#   scripts/qemu/kcsan-test.sh
#
# Prints one 'ok' or 'not ok' line per case; exits 1 if any case failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 n=0

# report TITLE ACCESS1 FRAMES1 ACCESS2 FRAMES2: one report as the kernel
# prints it (timestamps included); FRAMES are ';'-separated.
report() {
	local t=100.000001 f frames
	echo "[  $t] =================================================================="
	echo "[  $t] BUG: KCSAN: data-race in $1"
	echo "[  $t] "
	echo "[  $t] $2"
	IFS=';' read -ra frames <<< "$3"
	for f in "${frames[@]}"; do echo "[  $t]  $f"; done
	echo "[  $t] "
	echo "[  $t] $4"
	IFS=';' read -ra frames <<< "$5"
	for f in "${frames[@]}"; do echo "[  $t]  $f"; done
	echo "[  $t] "
	echo "[  $t] value changed: 0x0000000000000001 -> 0x0000000000000000"
	echo "[  $t] "
	echo "[  $t] Reported by Kernel Concurrency Sanitizer on:"
	echo "[  $t] CPU: 0 PID: 42 Comm: kworker/0:1 Not tainted 6.1.0 #1"
	echo "[  $t] =================================================================="
}

rw='read-write (marked) to 0xffffffffa00161e0 of 8 bytes by task 7652 on cpu 1:'
rd='read to 0xffffffffa00161e0 of 8 bytes by task 4228 on cpu 0:'
wr='write to 0xffff888004a1c018 of 4 bytes by task 311 on cpu 1:'
kworker='process_one_work+0x3d4/0x7a0;worker_thread+0x91/0x6f0;kthread+0x1a8/0x1e0;ret_from_fork+0x1f/0x30'

# The workqueue's own race: stw queues its event work while a kworker
# starts that same work.
kernel_race() {
	report 'process_one_work / queue_work_on' \
		"$rw" 'queue_work_on+0x6e/0xb0;stw_event_post+0xdf/0xf0 [stw];stw_control_resume+0x52/0x90 [stw];genl_rcv_msg+0x2a1/0x3d0' \
		"$rd" "$kworker"
}
# A race stw made: a plain write in stw against a read in stw.
stw_race() {
	report 'stw_world_step / vm_park' \
		"$wr" 'stw_world_step+0x91/0x2c0 [stw];stw_control_step+0x40/0x80 [stw]' \
		"${rd/0xffffffffa00161e0/0xffff888004a1c018}" 'vm_park+0x120/0x300 [stw];vm_stop_work+0x33/0x60 [stw];kthread_worker_fn+0x150/0x3a0'
}
# stw racing with itself through a kernel function both sides called.
stw_through_kernel() {
	report 'kthread_queue_work / kthread_queue_work' \
		"$wr" 'kthread_queue_work+0x31/0xa0;world_dispatch+0x88/0x1c0 [stw];stw_world_begin_stop+0x210/0x400 [stw]' \
		"${rd/0xffffffffa00161e0/0xffff888004a1c018}" 'kthread_queue_work+0x2a/0xa0;stw_vm_wake+0x19/0x40 [stw]'
}
# An interrupt that hit stw: the frames under asm_* are not the access's.
irq_race() {
	report 'tick_sched_do_timer / tick_nohz_idle_got_tick' \
		"$wr" 'tick_sched_do_timer+0x2c/0x140;tick_sched_timer+0x2b/0x100;asm_sysvec_apic_timer_interrupt+0x16/0x20;stw_vm_poll+0x10/0x30 [stw]' \
		"$rd" 'tick_nohz_idle_got_tick+0x1c/0x40;do_idle+0x1d4/0x2a0;cpu_startup_entry+0x1d/0x20'
}
other_race() {
	report 'tick_irq_enter / tick_nohz_idle_got_tick' \
		"$wr" 'tick_irq_enter+0x5b/0x120;irq_enter_rcu+0x28/0x60' \
		"$rd" 'tick_nohz_idle_got_tick+0x1c/0x40;do_idle+0x1d4/0x2a0'
}

# case_ NAME WANT_STATUS EXPECTED_LINE... < LOG
case_() {
	local name=$1 want=$2 status line ok=1
	shift 2
	n=$((n + 1))
	cat > "$tmp/console"
	"$top/scripts/qemu/kcsan.sh" "$tmp/console" "$tmp/rest" "$tmp/reports" \
		2> "$tmp/out"
	status=$?
	[ "$status" = "$want" ] || ok=0
	for line; do grep -qF -- "$line" "$tmp/out" || ok=0; done
	# Nothing of a report is left for run.sh's other rules.
	grep -q 'KCSAN\|Concurrency Sanitizer' "$tmp/rest" && ok=0
	if [ $ok = 1 ]; then
		echo "ok $n $name"
	else
		failed=$((failed + 1))
		echo "not ok $n $name (exit $status, want $want)"
		sed 's/^/#   /' "$tmp/out"
	fi
}

case_ "a race inside the workqueue, which stw called, is listed" 0 \
	'KCSAN [kernel, called by stw] 1x: data-race in process_one_work / queue_work_on' \
	'stw_event_post+0xdf/0xf0 [stw]' \
	'1 in kernel code stw called' < <(kernel_race)
case_ "a race stw made fails the run and names its stw frames" 1 \
	'KCSAN [stw] 1x: data-race in stw_world_step / vm_park' \
	'stw_world_step+0x91/0x2c0 [stw]' 'vm_park+0x120/0x300 [stw]' < <(stw_race)
case_ "stw racing with itself through kernel code fails the run" 1 \
	'KCSAN [stw] 1x: data-race in kthread_queue_work / kthread_queue_work' \
	< <(stw_through_kernel)
case_ "an interrupt that hit stw does not make a race stw's" 0 \
	'KCSAN [other] 1x: data-race in tick_sched_do_timer / tick_nohz_idle_got_tick' \
	< <(irq_race)
case_ "a race elsewhere is listed with its count" 0 \
	'KCSAN [other] 2x: data-race in tick_irq_enter / tick_nohz_idle_got_tick' \
	< <(other_race; other_race)
case_ "one stw race among listed ones fails the run" 1 \
	'KCSAN [kernel, called by stw] 2x' 'KCSAN [stw] 1x' \
	'3 distinct reports: 1 in stw, 1 in kernel code stw called, 1 elsewhere' \
	< <(kernel_race; other_race; stw_race; kernel_race)
KCSAN_STW_FAIL=0 case_ "KCSAN_STW_FAIL=0 lists stw's race without failing" 0 \
	'KCSAN [stw] 1x' 'not failing the run' < <(stw_race)

echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
