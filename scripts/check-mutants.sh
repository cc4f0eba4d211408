#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prove the race tests can fail (Documentation/design.md, "Testing"): build one module per
# race with that race's bug put back (-DSTW_MUTANT=N), run the race's script
# on the real build and on its mutant in the guest, and print a table. A
# mutant counts as caught only if its script fails with the race's own
# message ("race N: ..."); a timeout, a harness timeout or a kernel crash is
# not a catch.
#
#   scripts/check-mutants.sh BUILD_DIR KDIR [RACE...]
#
# With UNARMED=K, instead run each race's script K times on its mutant
# with no probe armed (STW_PROBES_UNARMED=1: no interleaving forced) and
# count the runs in which the bug showed: how often stress alone would see
# it.
set -euo pipefail

build=$1
kdir=$2
shift 2
races=("$@")
[ ${#races[@]} -gt 0 ] || races=(1 2 3 4 5 6 7 8 9 10 11 12 13)
top=$(cd "$(dirname "$0")/.." && pwd)
out=$build/mutants
mkdir -p "$out"

# Each race's test in race_test, as FIXTURE.TEST.
declare -A script=(
	[1]=race.race1_last_vm_marks_others_stopped
	[2]=race.race2_hand_made_idle_stop
	[3]=race.race3_entry_check_then_resume
	[4]=race.race4_stopped_state_outside_lock
	[5]=race.race5_late_arrival_in_run_all
	[6]=race.race6_duplicate_dispatch
	[7]=race.race7_destroy_during_stop
	[8]=race.race8_controller_dies_holding_the_world
	[9]=race.race9_destroy_while_arriving
	[10]=attached.race10_kthread_goes_idle_as_its_stop_is_dispatched
	[11]=attached.race11_kthread_woken_for_work_as_its_stop_is_dispatched
	[12]=attached.race12_worker_detached_during_stopping
	[13]=race.race13_vm_born_as_the_walk_passes
)

# build_module MUTANT DEST: in a copy of the source, so module/stw.ko (and
# anyone using it meanwhile) never sees a mutant. DEST is DIR/module/stw.ko,
# with the selftests' client modules at DIR/selftests/modules/, where the
# guest's runner looks for them beside stw.ko (their exports' CRCs are the
# same in every build).
build_module() {
	"$top/scripts/build-mutant.sh" "$1" "$kdir" "$out/src" "$2"
}

run_race() {
	local ko=$1 race=$2 log=$3
	shift 3
	env STW_KO="$ko" STW_VM_DIR="$out/vm" "$@" \
		"$top/scripts/qemu/run.sh" --build "$build" --timeout 300 \
		--cmd "STW_RACE=$race /stw/selftests/race_test" \
		>"$log" 2>&1 || true
}

verdict_real() {	# passed only with an "ok" line for the script
	if grep -q "^ok [0-9]* ${script[$1]}\$" "$2"; then
		echo pass
	else
		echo FAIL
	fi
}

verdict_mutant() {	# caught only with its own message, and nothing else
	if grep -q 'stw-vm: guest timed out\|Test terminated by timeout' "$2"; then
		echo "timeout (not a catch)"
	elif grep -q 'stw-vm: kernel reported problems' "$2"; then
		echo "crash (not a catch)"
	elif grep -q "^not ok [0-9]* ${script[$1]}" "$2" &&
	     grep -q "race $1: " "$2"; then
		echo caught
	else
		echo "MISSED"
	fi
}

# unarmed RACE K: how many of K unforced runs of the script show the bug.
unarmed() {
	local race=$1 k=$2 log=$out/unarmed$1.log
	env STW_KO="$out/mutant$race/module/stw.ko" STW_VM_DIR="$out/vm" \
		STW_VM_ALLOW_WARN=1 "$top/scripts/qemu/run.sh" --build "$build" \
		--timeout 1800 --cmd "i=0; while [ \$i -lt $k ]; do
			i=\$((i + 1)); echo \"run \$i\";
			STW_RACE=$race STW_PROBES_UNARMED=1 /stw/selftests/race_test;
		done" >"$log" 2>&1 || true
	awk -v re="race $race: " '
		/^run [0-9]+$/ { if (seen) n++; seen = 0; next }
		index($0, re) { seen = 1 }
		END { if (seen) n++; print n + 0 }' "$log"
}

if [ -n "${UNARMED:-}" ]; then
	for r in "${races[@]}"; do
		build_module "$r" "$out/mutant$r/module/stw.ko"
	done
	printf '%-5s %-62s %s\n' race script "bug shown, unarmed"
	for r in "${races[@]}"; do
		printf '%-5s %-62s %s/%s runs\n' "$r" "${script[$r]}" \
			"$(unarmed "$r" "$UNARMED")" "$UNARMED"
	done
	exit 0
fi

status=0
build_module 0 "$out/real/module/stw.ko"
for r in "${races[@]}"; do
	build_module "$r" "$out/mutant$r/module/stw.ko"
done

printf '%-5s %-62s %-10s %s\n' race script "real" mutant
for r in "${races[@]}"; do
	start=$(date +%s)
	run_race "$out/real/module/stw.ko" "$r" "$out/real$r.log"
	run_race "$out/mutant$r/module/stw.ko" "$r" "$out/mutant$r.log" \
		STW_VM_ALLOW_WARN=1
	real=$(verdict_real "$r" "$out/real$r.log")
	mutant=$(verdict_mutant "$r" "$out/mutant$r.log")
	printf '%-5s %-62s %-10s %s (%ss)\n' "$r" "${script[$r]}" "$real" \
		"$mutant" "$(($(date +%s) - start))"
	if [ "$real" != pass ] || [ "$mutant" != caught ]; then
		status=1
		echo "  logs: $out/real$r.log $out/mutant$r.log"
		grep -h "race $r: " "$out/mutant$r.log" | head -3 |
			sed 's/^/  /' || true
	else
		grep -h "race $r: " "$out/mutant$r.log" | head -1 |
			sed 's/^# */  mutant says: /' || true
	fi
done
exit $status
