#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The systematic scheduler's table (make check-explore): selftests/explore
# on the real build, over every configuration, then on each mutant build
# (module/mutant.c) with no hint of which race it carries, stopping at its
# first failing schedule. The real build must explore every schedule within
# the bound with no failure; a mutant counts as found only if a schedule
# failed on a check (not a hang, a crash or an error of the explorer).
#
#   scripts/check-explore.sh BUILD_DIR KDIR [MUTANT...]   (or 1,2,3)
#
# BOUND: the preemption bound (default 1); REPLAYS: how often each prefix
# that once went elsewhere is replayed (default 5); LIMIT: at most this many
# schedules per configuration (default none: every one within the bound);
# MUTANT_LIMIT: the same for the mutants (default LIMIT: each of 1 to 12
# is found within 43 schedules of its configuration at bound 1);
# MUTANT_BOUND: a mutant every configuration passed at one bound is tried
# at the next, up to this one (default BOUND), as CHESS's iterative context
# bounding does. Mutants by default: 1 to 12, and 13 if MUTANT_BOUND is 2
# or more (it needs two preemptions).
set -euo pipefail

build=$1
kdir=$2
shift 2
# shellcheck disable=SC2206	# "1 2" and "1,2" alike
mutants=(${*//,/ })
bound=${BOUND:-1}
mutant_bound=${MUTANT_BOUND:-$bound}
if [ ${#mutants[@]} = 0 ]; then
	mutants=(1 2 3 4 5 6 7 8 9 10 11 12)
	[ "$mutant_bound" -lt 2 ] || mutants+=(13)
fi
limit=${LIMIT:+-l $LIMIT}
mutant_limit=${MUTANT_LIMIT:-${LIMIT:-}}
mutant_limit=${mutant_limit:+-l $mutant_limit}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$build/explore
mkdir -p "$out"

# How long one guest may take. With a limit, a run takes a minute or two
# (a mutant whose world never stops waits out its 60 s STOP), so a hang
# costs ten minutes, not the CI's hour; without one, bound 1 of "spawn"
# alone takes an hour.
if [ -n "${LIMIT:-}" ]; then real_secs=900; else real_secs=86400; fi
# A schedule takes up to a quarter of a second at bound 2 (on a loaded
# machine): a mutant's guest may take that for its limit in every
# configuration (NCONF, which the real build's run counts).
mutant_secs() {
	if [ -n "$mutant_limit" ]; then
		echo $((600 + ${mutant_limit#-l } * ${nconf:-20} / 4))
	else
		echo 86400
	fi
}

# guest KO LOG SECS CMD: CMD in a guest on that module, its output in LOG.
guest() {
	env STW_KO="$1" STW_VM_DIR="$out/vm" STW_VM_ALLOW_WARN=1 \
		"$top/scripts/qemu/run.sh" --build "$build" --timeout "$3" \
		--cmd "$4" >"$2" 2>&1 || true
}

# explore KO LOG SECS BOUND [ARGS...]: the explorer in the guest, on that
# module.
explore() {
	local ko=$1 log=$2 secs=$3 b=$4
	shift 4
	guest "$ko" "$log" "$secs" "/stw/selftests/explore -q -b $b $*"
}

# Why a guest gave no result (it timed out, its kernel reported something):
# what the guest runner said, and what the guest was doing if it timed out.
guest_said() {
	{ grep '^stw-vm: \|^stw-init: \(task\|  \)' "$1" || true; } |
		head -n "${2:-40}" | sed 's/^/    /'
}

# failed WHAT LOG [PATTERN]: a check of the table failed. Its "not ok" line
# is what CI shows of a failed stage; then the lines of LOG that match
# PATTERN (grep's), and what the guest runner said.
failed() {
	status=1
	echo "not ok - $1"
	if [ -n "${3:-}" ]; then
		{ grep -- "$3" "$2" || true; } | head -n 5 | sed 's/^/  /'
	fi
	guest_said "$2"
}

status=0
"$top/scripts/build-mutant.sh" 0 "$kdir" "$out/src" "$out/real/module/stw.ko"
for m in "${mutants[@]}"; do
	"$top/scripts/build-mutant.sh" "$m" "$kdir" "$out/src" \
		"$out/mutant$m/module/stw.ko"
done

echo "real build, preemption bound $bound${LIMIT:+, at most $LIMIT schedules each}:"
printf '  %-16s %10s %8s %8s %9s %s\n' configuration schedules states places time failures
explore "$out/real/module/stw.ko" "$out/real.log" $real_secs $bound $limit
rows=$(sed -n 's/^explore \([^:]*\): bound [-0-9]*, \([0-9]*\) schedules, \([0-9]*\) states, \([0-9]*\) places, \([0-9.]*\) s, \([0-9]*\) failures.*/\1 \2 \3 \4 \5 \6/p' "$out/real.log")
if [ -z "$rows" ]; then
	echo "  no result: see $out/real.log"
	status=1
fi
while read -r name sched states places secs fails; do
	[ -n "$name" ] || continue
	printf '  %-16s %10s %8s %8s %8ss %s\n' "$name" "$sched" "$states" "$places" "$secs" "$fails"
	[ "$fails" = 0 ] || status=1
done <<<"$rows"
if grep -q '^# FAIL\|^explore: \|^stw-vm: ' "$out/real.log"; then
	failed "the real build: a schedule failed, or the explorer or its guest did" \
		"$out/real.log" '^# FAIL\|^explore: '
fi

# Prefixes whose replay once went elsewhere: controller A (2) let its
# lock go and took it back at once, racing controller B (3), whom its
# unlock had woken; in some runs B had the lock after A's step, in others
# A (the explorer now holds A before the lock, at STW_PROBE_LOCKING, until
# B has it). Each prefix ends with B going on with the lock. It is
# replayed REPLAYS times in one boot; every replay must follow it to the
# end and pass.
replays=(
	"stop-force 1,1,1,2,2,2,2,2,2,2,0,0,0,0,0,0,0,0,3,2,3"
	"stop-force 1,1,1,2,2,2,2,2,2,2,0,0,0,0,0,0,0,0,3,1,1,1,1,1,1,1,1,2,3"
)
nrep=${REPLAYS:-5}
cmd=
for r in "${replays[@]}"; do
	cmd+="for i in \$(seq $nrep); do /stw/selftests/explore -c ${r% *} -r ${r#* }; done; "
done
# An enumeration stopped at a limit and resumed (-R) where it said it
# would go on explores the schedules of the whole, no more and no fewer:
# "stop" at bound 1, every schedule (-P), whole, then cut after $cut.
cut=30
x="/stw/selftests/explore -q -c stop -b 1 -P"
cmd+="echo whole:; $x; echo cut:; $x -l $cut >/tmp/cut; cat /tmp/cut; "
cmd+="echo resumed:; $x -R \$(sed -n 's/.* -R //p' /tmp/cut); "
# With the pruning, and the states the cut run noted given back (-S), the
# resumed run explores what the whole one did after the cut: it prunes as
# the whole one did.
x="/stw/selftests/explore -q -c stop -b 1"
cmd+="echo pruned-whole:; $x; echo pruned-cut:; $x -l $cut >/tmp/pcut; "
cmd+="echo pruned-resumed:; $x -R \$(sed -n 's/.* -R //p' /tmp/pcut) -S /tmp/pcut; "
# Stopped before that schedule (-U) instead, it explores what the cut run
# did: one enumeration can be shared by two runs, one up to a schedule and
# one from it.
cmd+="echo pruned-until:; $x -U \$(sed -n 's/.* -R //p' /tmp/pcut); "
# Walks by priorities (-p) on the real build: none may fail (a thread
# starved by the priorities is no livelock of stw's).
walks=20
cmd+="echo walks:; /stw/selftests/explore -q -b 2 -s 1 -n $walks -p"
guest "$out/real/module/stw.ko" "$out/replays.log" 600 "$cmd"
passed=$(grep -c '^explore [^:]*: the schedule passed' "$out/replays.log" || true)
echo "replays of prefixes that once went elsewhere: $passed of $((${#replays[@]} * nrep)) followed and passed"
if [ "$passed" != $((${#replays[@]} * nrep)) ]; then
	failed "replays: $passed of $((${#replays[@]} * nrep)) followed and passed" \
		"$out/replays.log" '^explore [^:]*: the replay went\|^# FAIL\|^explore: '
fi
# schedules WHICH: the schedules of the run after the line "WHICH:".
schedules() {
	sed -n "/^$1:/,/^explore stop: /s/^explore stop: bound 1, \([0-9]*\) schedules, .* 0 failures.*/\1/p" \
		"$out/replays.log"
}
nconf=$(grep -c . <<<"$rows" || true)
walked=$(sed -n '/^walks:/,$s/^explore [^:]*: bound -1, '$walks' schedules, .* 0 failures.*/x/p' \
	"$out/replays.log" | wc -l)
echo "walks by priorities, $walks of each configuration: $walked of $nconf configurations with no failure"
if [ "$walked" != "$nconf" ]; then
	failed "walks by priorities: $walked of $nconf configurations with no failure" \
		"$out/replays.log" '^explore [^:]*: bound -1, .* [1-9][0-9]* failures\|^# FAIL'
fi
whole=$(schedules whole)
resumed=$(schedules resumed)
pwhole=$(schedules pruned-whole)
presumed=$(schedules pruned-resumed)
puntil=$(schedules pruned-until)
echo "an enumeration cut after $cut schedules and resumed: $cut + ${resumed:-?} of ${whole:-?}; pruned, with its states: $cut + ${presumed:-?} of ${pwhole:-?}; up to where it was cut: ${puntil:-?}"
if [ -z "$whole" ] || [ -z "$resumed" ] || [ $((cut + resumed)) != "$whole" ] ||
   [ -z "$pwhole" ] || [ -z "$presumed" ] || [ $((cut + presumed)) != "$pwhole" ] ||
   [ "$puntil" != "$cut" ]; then
	failed "cut and resumed: $cut + ${resumed:-?} of ${whole:-?}, pruned $cut + ${presumed:-?} of ${pwhole:-?}, up to the cut ${puntil:-?}" \
		"$out/replays.log" '^explore stop\|^# FAIL'
fi

bounds=$bound
[ "$mutant_bound" = "$bound" ] || bounds="$bound to $mutant_bound"
echo "mutants, no hint of the race, bound $bounds${mutant_limit:+, at most ${mutant_limit#-l } schedules each}, stopping at the first failure:"
printf '  %-7s %-10s %-16s %-5s %s\n' mutant verdict configuration bound \
	"schedules until found, what failed"
for m in "${mutants[@]}"; do
	start=$(date +%s)
	log=$out/mutant$m.log
	# Each bound in a guest of its own: a failure leaves the world broken.
	for ((b = bound; b <= mutant_bound; b++)); do
		explore "$out/mutant$m/module/stw.ko" "$log" "$(mutant_secs)" $b \
			$mutant_limit -F
		# Up a bound only if every schedule passed, and nothing else
		# went wrong.
		grep -q '^explore [^:]*: .*first failure after\|^explore: \|^stw-vm: ' \
			"$log" && break
	done
	line=$(grep -m1 '^explore [^:]*: .*first failure after' "$log" || true)
	why=$(grep -m1 '^# FAIL' "$log" | sed 's/^# FAIL [^:]*: //' || true)
	secs=$(($(date +%s) - start))
	if [ -n "$line" ] && ! grep -q 'never settled' <<<"$why"; then
		cfg=$(sed 's/^explore \([^:]*\):.*/\1/' <<<"$line")
		k=$(sed 's/.*first failure after \([0-9]*\) schedules.*/\1/' <<<"$line")
		printf '  %-7s %-10s %-16s %-5s %s: %s (%ss)\n' "$m" found "$cfg" \
			"$b" "$k" "$why" "$secs"
	elif [ -n "$line" ]; then
		printf '  %-7s %-10s %-16s %-5s %s (%ss)\n' "$m" "hang" "-" "$b" \
			"$why" "$secs"
		status=1
	else
		if grep -q '^stw-vm: ' "$log"; then
			why=$(grep -m1 '^explore: \|^stw-vm: ' "$log")
		else
			why=$(grep -m1 '^explore: ' "$log" ||
			      echo 'every schedule passed')
		fi
		printf '  %-7s %-10s %-16s %-5s %s (%ss)\n' "$m" MISSED "-" \
			"$((b > mutant_bound ? mutant_bound : b))" "$why" "$secs"
		guest_said "$log"
		status=1
	fi
done
exit $status
