#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# example_test: the example client module (examples/stw_bank.ko) under
# stwctl. Its worker VMs, in a world of their own ("bank"), move units
# between accounts and its stop notifier
# checks, at every stop, that none is in flight and none was lost. Loads it,
# stops, looks, steps one of its VMs and resumes a few times, and checks
# the module's counters: every stop checked, no check failed. Prints TAP;
# exits 0 if every step passed, 1 if one failed, 4 (skip) if there is no
# stw_bank module or stw is not loaded.
#
# Environment: STW_BANK_KO (default /stw/examples/stw_bank.ko, else
# `modprobe stw_bank`), STW_BANK_CYCLES (default 5).

ko=${STW_BANK_KO:-/stw/examples/stw_bank.ko}
cycles=${STW_BANK_CYCLES:-5}
params=/sys/module/stw_bank/parameters
n=0 failed=0
. "$(dirname "$0")/example_lib.sh"

cleanup() {
	[ -d /sys/module/stw_bank ] || return 0
	stwctl -w bank resume --force >/dev/null 2>&1
	rmmod stw_bank
}

echo "TAP version 13"
[ -d /sys/module/stw ] || skip_all "stw is not loaded"
command -v stwctl >/dev/null || skip_all "no stwctl"
if [ -f "$ko" ]; then
	load="insmod $ko workers=4"
elif modinfo stw_bank >/dev/null 2>&1; then
	load="modprobe stw_bank workers=4"
else
	skip_all "no stw_bank module ($ko)"
fi
echo "1..$((cycles * 4 + 8))"
trap cleanup EXIT

check "load stw_bank ($load)" $load
checks0=$(param checks)

# The bank has a world of its own: stopping stw's default world leaves it.
stwctl stop >/dev/null
before=$(param transfers)
check "the default world stopped, the workers still move" \
	wait_param transfers $((before + 1))
check "the bank's world is still running" \
	sh -c 'stwctl -w bank -j status | grep -q "\"mode\": *\"run_all\""'
stwctl resume >/dev/null

for c in $(seq "$cycles"); do
	out=$(stwctl -w bank -j stop --timeout 10000)
	gen=$(echo "$out" | sed -n 's/.*"generation": *\([0-9]*\).*/\1/p' | head -n1)
	check "cycle $c: stop (generation ${gen:-?})" [ -n "$gen" ]
	check "cycle $c: the notifier checked generation ${gen:-?}" \
		wait_param last_generation "${gen:-1}"
	status=$(stwctl -w bank -j status)
	check "cycle $c: status shows the world stopped with the bank VMs" \
		sh -c 'echo "$1" | grep -q "\"mode\": *\"stopped\"" &&
		       echo "$1" | grep -q "\"name\": *\"bank-"' sh "$status"
	before=$(param transfers)
	stwctl -w bank resume >/dev/null
	check "cycle $c: resume, then the workers move again" \
		wait_param transfers $((before + 1))
done

# A step of one bank VM ends in a stop the notifier checks too.
stwctl -w bank stop >/dev/null
vm=$(stwctl -w bank -j status | tr '{' '\n' | grep '"name": *"bank-' | head -n1 |
	sed 's/.*"id": *\([0-9]*\).*/\1/')
done_before=$(param checks)
check "step bank VM ${vm:-?} by 10 polls" \
	sh -c 'stwctl -w bank step "$1" --polls 10 >/dev/null' sh "${vm:-0}"
check "the step's end was checked" wait_param checks $((done_before + 1))
stwctl -w bank resume >/dev/null

checks=$(($(param checks) - checks0))
failures=$(param failures)
check "checks: $checks (at least $((cycles + 1)))" [ "$checks" -ge $((cycles + 1)) ]
check "failures: $failures" [ "$failures" -eq 0 ]
trap - EXIT
check "unload stw_bank" rmmod stw_bank

echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
