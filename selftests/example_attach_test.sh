#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# example_attach_test: the example modules whose VMs are threads of their
# own, under stwctl, one after the other:
# - pool (examples/stw_pool.ko): kthread_workers, attached, in the world
#   "pool", rewrite and seal records; its stop notifier checks that no
#   record is open and every seal is right;
# - loop (examples/stw_loop.ko): plain kthreads, registered, in the world
#   "loop", take items off rings a producer fills; its stop notifier checks
#   that no item is in flight and none was lost.
# For each: load it, check its VMs are listed with their kind and that
# stw's default world ("demo") runs while the module's is stopped, stop,
# look, resume and step one of its VMs, and check the module's counters:
# every stop checked, no check failed; then unload it, and its world is
# gone. Prints TAP; exits 0 if every step passed, 1 if one failed, 4
# (skip) if stw is not loaded or neither module is there; a module that is
# missing skips its own steps.
#
# Environment: STW_EXAMPLES_DIR (default /stw/examples; else `modprobe`),
# STW_EXAMPLE_CYCLES (default 5).

dir=${STW_EXAMPLES_DIR:-/stw/examples}
cycles=${STW_EXAMPLE_CYCLES:-5}
n=0 failed=0 demo_vm= mod= world=
. "$(dirname "$0")/example_lib.sh"

# variant NAME: the module's settings. busy: loaded heavier than its
# defaults, so that its threads are at work at a good share of the stops,
# not idle at every one.
variant() {
	case $1 in
	pool)
		mod=stw_pool world=pool kind=worker nr=2 nr_param=workers
		progress=seals busy="words=1024 batch=256" ;;
	loop)
		mod=stw_loop world=loop kind=kthread nr=2 nr_param=threads
		progress=items busy="batch=32 rounds=20000" ;;
	esac
	ko=$dir/$mod.ko
	params=/sys/module/$mod/parameters
}

# steps: the TAP lines of one variant.
steps=$((cycles * 4 + 15))

# vms [WORLD]: the VM objects of the world's status, one a line.
vms() {
	stwctl -w "${1:-$world}" -j status | tr '{' '\n' | grep '^"id":'
}

# vm_field WORLD ID KEY: a number of that VM's object.
vm_field() {
	vms "$1" | grep "^\"id\": *$2," |
		sed -n "s/.*\"$3\": *\([0-9]*\).*/\1/p"
}

# mode [WORLD]: the world's mode.
mode() {
	stwctl -w "${1:-$world}" -j status |
		sed -n 's/.*"mode": *"\([a-z_]*\)".*/\1/p'
}

# Our VMs, all of our kind, and every one of them parked.
all_stopped() {
	local all
	all=$(vms)
	[ "$(mode)" = stopped ] &&
	[ "$(echo "$all" | grep -c "\"kind\": *\"$kind\"")" -eq $nr ] &&
	! echo "$all" | grep -v '"state": *"stopped"' | grep -q .
}

demo_jobs_ge() {
	[ "$(vm_field demo "$demo_vm" jobs)" -ge "$1" ] 2>/dev/null
}

# stop: stop our world; prints the generation (empty if it failed).
stop() {
	stwctl -w $world -j stop --timeout 10000 |
		sed -n 's/.*"generation": *\([0-9]*\).*/\1/p' | head -n1
}

step() {
	stwctl -w $world step "$1" --polls 10 >/dev/null
}

# checked GENERATION CHECKS: the notifier has looked at that stop, and made
# that many checks in all.
checked() {
	wait_param last_generation "$1" && wait_param checks "$2"
}

# worlds: the world objects of `stwctl worlds`, one a line.
worlds() {
	stwctl -j worlds | tr '{' '\n' | grep '^"name":'
}

world_listed() {
	worlds | grep -q "^\"name\": *\"$world\", *\"owner\": *\"$mod\""
}

world_gone() {
	! worlds | grep -q "^\"name\": *\"$world\""
}

# Every VM of our world, and all of our kind.
our_vms_listed() {
	[ "$(vms | grep -c "\"kind\": *\"$kind\"")" -eq $nr ] &&
	[ "$(vms | grep -c .)" -eq $nr ]
}

# skip_steps REASON: the variant's steps, skipped.
skip_steps() {
	local i
	for i in $(seq $steps); do
		n=$((n + 1))
		echo "ok $n # SKIP $*"
	done
}

cleanup() {
	[ -z "$demo_vm" ] || stwctl kill "$demo_vm" >/dev/null 2>&1
	[ -n "$mod" ] && [ -d /sys/module/$mod ] || return 0
	stwctl -w $world resume --force >/dev/null 2>&1
	rmmod $mod
}

# run_variant: the steps of the variant set, its module found ($load).
run_variant() {
	check "load $mod ($load)" $load
	checks0=$(param checks)
	check "stwctl worlds lists $world, made by $mod" world_listed
	check "status lists $nr VMs, of kind $kind" our_vms_listed

	# Our world stopped, stw's default one runs: a demo VM does a job.
	demo_vm=$(stwctl -j spawn --idle 1 | sed -n 's/.*"ids": *\[\([0-9]*\).*/\1/p')
	gen=$(stop)
	check "stop $world (generation ${gen:-?})" [ -n "$gen" ]
	check "the default world demo still runs" [ "$(mode demo)" = run_all ]
	stwctl job "${demo_vm:-0}" --polls 10 >/dev/null
	check "demo VM ${demo_vm:-?} does a job while $world is stopped" \
		wait_for demo_jobs_ge 1
	stwctl kill "${demo_vm:-0}" >/dev/null && demo_vm=
	wait_param last_generation "${gen:-1}"
	stwctl -w $world resume >/dev/null

	for c in $(seq "$cycles"); do
		before=$(param checks)
		gen=$(stop)
		check "cycle $c: stop (generation ${gen:-?})" [ -n "$gen" ]
		check "cycle $c: the notifier checked generation ${gen:-?}" \
			checked "${gen:-1}" $((before + 1))
		check "cycle $c: status shows $world stopped, its $nr VMs stopped" \
			all_stopped
		before=$(param $progress)
		stwctl -w $world resume >/dev/null
		check "cycle $c: resume, then the $progress count moves again" \
			wait_param $progress $((before + 1))
	done

	# A step of one VM ends in a stop the notifier checks too.
	gen=$(stop)
	check "stop $world again (generation ${gen:-?}), checked" \
		wait_param last_generation "${gen:-1}"
	vm=$(vms | head -n1 | sed -n 's/^"id": *\([0-9]*\).*/\1/p')
	before=$(param checks)
	check "step $world VM ${vm:-?} by 10 polls" step "${vm:-0}"
	check "the step's end was checked" wait_param checks $((before + 1))
	check "status shows $world stopped again, VM ${vm:-?} parked" all_stopped
	stwctl -w $world resume >/dev/null

	checks=$(($(param checks) - checks0))
	check "checks: $checks (at least $((cycles + 3)))" [ "$checks" -ge $((cycles + 3)) ]
	check "failures: $(param failures)" [ "$(param failures)" -eq 0 ]
	check "missed: $(param missed)" [ "$(param missed)" -eq 0 ]
	check "unload $mod" rmmod $mod
	check "stwctl worlds no longer lists $world" world_gone
}

echo "TAP version 13"
[ -d /sys/module/stw ] || skip_all "stw is not loaded"
command -v stwctl >/dev/null || skip_all "no stwctl"
echo "1..$((steps * 2))"
trap cleanup EXIT
for v in pool loop; do
	variant $v
	if [ -f "$ko" ]; then
		load="insmod $ko $nr_param=$nr $busy"
	elif modinfo $mod >/dev/null 2>&1; then
		load="modprobe $mod $nr_param=$nr $busy"
	else
		skip_steps "no $mod module ($ko)"
		continue
	fi
	run_variant
done
trap - EXIT

echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
