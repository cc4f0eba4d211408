#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What `make bench` runs in the guest (busybox sh), with stw.ko loaded: loads
# bench/stw_bench.ko, measures, prints a table and the CSV between marker
# lines that scripts/bench-host.sh extracts. Every time is taken in the
# kernel with ktime, except the STATUS dump's (stw_dump, from user space).
#
# CSV columns: section,n,mix,method,samples,median,p99,resume_median,
# resume_p99,note. Times are in ns; the mem section's median is bytes per VM.
set -e

B=/stw/bench
D=/sys/kernel/debug/stw_bench
# The nice of the bench threads made from then on (stw_bench.nice).
NICE=/sys/module/stw_bench/parameters/nice
CSV=/tmp/bench.csv
NS="1 4 16 64 256 1024"
MIXES="active idle half"
SCALE_N=10000
MEM_N=1000

t_start=$(cut -d. -f1 /proc/uptime)
say() { echo "[$(($(cut -d. -f1 /proc/uptime) - t_start))s] $*"; }

failed=0

# bench COMMAND...: run one command of stw_bench, keep its rows. A failed
# command is counted and reported; the bench goes on.
bench() {
	if ! echo "$*" > $D/cmd; then
		echo "bench: '$*' failed (see the kernel log)" >&2
		failed=$((failed + 1))
		return 0
	fi
	cat $D/result >> $CSV
}

# cycles N: stop/resume cycles per method. Each config also stops after
# its time budget (at least 5 cycles): with N busy threads on 2 vCPUs,
# "every thread runs again" takes N scheduler ticks or so.
cycles() {
	case $1 in
	1|4|16) echo 200 ;;
	64) echo 100 ;;
	256) echo 30 ;;
	*) echo 10 ;;
	esac
}

# meminfo FIELD: its value in kB.
meminfo() { awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo; }

mem_snapshot() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	for f in Slab KernelStack PageTables MemFree; do
		eval "mem_$1_$f=$(meminfo $f)"
	done
}

accel() {
	if dmesg | grep -q 'Hypervisor detected: KVM'; then
		echo 'QEMU/KVM'
	elif grep -q 'QEMU Virtual CPU' /proc/cpuinfo; then
		echo 'QEMU TCG (emulated CPU)'
	else
		echo 'unknown machine'
	fi
}

ACCEL=$(accel)
echo "=== stw bench: kernel $(uname -r), $(nproc) CPUs, $ACCEL ==="
case $ACCEL in QEMU\ TCG*)
	echo "Under TCG every time is emulated: only the ratios carry over." ;;
esac
insmod $B/stw_bench.ko
BENCH_NICE=$(cat $NICE)
echo 'section,n,mix,method,samples,median,p99,resume_median,resume_p99,note' > $CSV

say "poll fast path"
bench poll units=5000 rounds=301

# stwbench.runs=R on the kernel command line (make bench-goals RUNS=R): only
# what the goals are stated on (N = 1024 in each mix, and 10,000 idle VMs),
# R times over in one boot, and a table of each ratio per run with its
# median and spread. Each run's rows go to their own CSV.
RUNS=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^stwbench\.runs=//p')
if [ -n "$RUNS" ]; then
	r=1
	while [ $r -le "$RUNS" ]; do
		CSV=/tmp/bench.$r.csv
		: > $CSV
		for mix in $MIXES; do
			say "run $r/$RUNS: time to stop: n=1024 mix=$mix"
			bench tts n=1024 mix="$mix" cycles=20 budget_ms=20000
		done
		say "run $r/$RUNS: worlds, nice 0"
		echo 0 > $NICE
		bench spawn n=1024 mix=idle
		bench measure section=worlds-alone cycles=20 budget_ms=20000
		bench other n=1024 mix=active
		bench measure section=worlds-beside cycles=20 budget_ms=20000
		bench kill_other
		bench kill
		echo "$BENCH_NICE" > $NICE
		r=$((r + 1))
	done
	say "scale: $SCALE_N idle VMs"
	bench spawn n=$SCALE_N mix=idle
	r=1
	while [ $r -le "$RUNS" ]; do
		CSV=/tmp/bench.$r.csv
		say "run $r/$RUNS: scale"
		bench measure section=scale cycles=40 budget_ms=60000
		r=$((r + 1))
	done
	bench kill
	CSV=/tmp/bench.mem.csv
	: > $CSV
	bench spawn n=$MEM_N mix=idle
	bench kill
	rmmod stw_bench
	say "done; $failed command(s) failed"
	# One line per run: each goal's ratio; then the median and range.
	for r in $(seq 1 "$RUNS"); do
		awk -F, -v r="$r" '
		$1 == "tts" && $2 == 1024 { med[$3, $4] = $6; p99[$3, $4] = $7
			res[$3, $4] = $8 }
		$1 == "scale" { smed[$4] = $6; sp99[$4] = $7; sres[$4] = $8 }
		$1 ~ /^worlds-/ && $4 == "stw" { wmed[$1] = $6 }
		function q(a, b) { return (a == "" || b == "" || b == 0) ? "nan" : a / b }
		END {
			printf "%d %s %s %s %s %s %s %s %s %s %s %s\n", r,
				q(med["idle", "stw"], med["idle", "barrier"]),
				q(med["half", "stw"], med["half", "barrier"]),
				q(med["active", "stw"], med["active", "barrier"]),
				q(smed["stw"], smed["barrier"]),
				q(p99["idle", "stw"], p99["idle", "barrier"]),
				q(sp99["stw"], sp99["barrier"]),
				q(q(smed["stw"], med["idle", "stw"]),
				  q(smed["barrier"], med["idle", "barrier"])),
				q(res["idle", "stw"], res["idle", "barrier"]),
				q(sres["stw"], sres["barrier"]),
				q(wmed["worlds-beside"], wmed["worlds-alone"]),
				smed["stw"] / 1e6 " " smed["barrier"] / 1e6
		}' /tmp/bench.$r.csv
	done > /tmp/goals.txt
	awk -v runs="$RUNS" '
	BEGIN { split("idle half active 10k-idle p99-idle p99-10k scale resume resume-10k worlds", name, " ")
		split("1.1 1.1 1.1 1.2 1.5 1.5 1.1 1.2 1.2 1.5", goal, " ") }
	{ for (i = 2; i <= 11; i++) v[i - 1, NR] = $i; ms[NR] = $12; mb[NR] = $13 }
	function sort(a, n,   i, j, t) { for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
	END {
		printf "\n=== goals over %d runs (stw / raw barrier; TTS at N = 1024 but 10k-*) ===\n", NR
		printf "%-10s %6s | %-40s | %6s %6s %6s\n", "ratio", "goal", "per run", "median", "min", "max"
		for (k = 1; k <= 10; k++) { line = ""
			for (r = 1; r <= NR; r++) { a[r] = v[k, r]; line = line sprintf(" %.2f", v[k, r]) }
			sort(a, NR)
			med = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			printf "%-10s %6s |%-41s | %6.2f %6.2f %6.2f%s\n", name[k], "<=" goal[k], line,
				med, a[1], a[NR], med <= goal[k] ? "" : "  (missed)" }
		printf "scale: TTS(10000)/TTS(1024) of stw over the barrier'"'"'s; resume: time to resume;\n"
		printf "worlds: stw'"'"'s TTS of 1024 idle VMs beside 1024 active ones of another world over alone, at nice 0.\n"
		printf "TTS at 10,000 idle VMs, ms, stw/barrier per run:"
		for (r = 1; r <= NR; r++) printf " %.1f/%.1f", ms[r], mb[r]
		printf "\n"
	}' /tmp/goals.txt
	awk -F, '$1 == "mem" { mem[$4] = $6 }
	$1 == "poll" { pmin[$4] = substr($10, 8) }
	END {
		printf "stw bytes per VM (goal <= 512): struct stw_vm %d B, its kthread_worker %d B\n",
			mem["stw_vm"], mem["kthread_worker"]
		if (pmin["bare"] > 0)
			printf "poll fast path on the fastest round (goal <= 1%%): stw_vm_poll %+.2f%%, unarmed probe %+.2f%%\n",
				(pmin["poll"] / pmin["bare"] - 1) * 100,
				(pmin["probe"] / pmin["bare"] - 1) * 100
	}' /tmp/bench.mem.csv /tmp/bench.csv
	echo
	echo '----- BEGIN stw-bench CSV -----'
	for r in $(seq 1 "$RUNS"); do sed "s/\$/,run=$r/" /tmp/bench.$r.csv; done
	echo '----- END stw-bench CSV -----'
	exit 0
fi

say "memory: $MEM_N idle VMs"
mem_snapshot a
bench spawn n=$MEM_N mix=idle
mem_snapshot b
bench kill
for f in Slab KernelStack PageTables MemFree; do
	eval "d=\$((mem_b_$f - mem_a_$f))"
	[ $f = MemFree ] && d=$((-d))
	echo "mem,$MEM_N,idle,$f,1,$((d * 1024 / MEM_N)),,,," >> $CSV
done

for n in $NS; do
	for mix in $MIXES; do
		c=$(cycles "$n")
		say "time to stop: n=$n mix=$mix"
		prof=0
		[ "$n" = 1024 ] && prof=1
		bench tts n="$n" mix="$mix" cycles="$c" budget_ms=5000 \
			park_cycles="$c" park_budget_ms=5000 profile="$prof"
	done
done

# Worlds apart: TTS of a world of 1024 idle VMs alone, then while another
# world's 1024 active VMs run beside it (goal: at most 1.5x alone). Both
# worlds are a module's pools, whose threads run at the nice a kthread is
# made with (0); then again at the demo VMs' nice 10, where a woken thread
# does not preempt a busy one of the same nice and waits for the tick: the
# same for the raw barrier, so that row says what the scheduler adds.
worlds() {
	echo "$1" > $NICE
	say "worlds, nice $1: 1024 idle VMs, alone, then beside 1024 active VMs of another world"
	bench spawn n=1024 mix=idle
	bench measure section="worlds$2-alone" cycles=20 budget_ms=20000 barrier=1
	bench other n=1024 mix=active
	bench measure section="worlds$2-beside" cycles=20 budget_ms=20000 barrier=1
	bench kill_other
	bench kill
	echo $BENCH_NICE > $NICE
}
worlds 0 ""
worlds $BENCH_NICE "$BENCH_NICE"

say "scale: $SCALE_N idle VMs"
t0=$(cut -d' ' -f1 /proc/uptime)
bench spawn n=$SCALE_N mix=idle
t1=$(cut -d' ' -f1 /proc/uptime)
echo "scale,$SCALE_N,idle,spawn,1,$(awk -v a="$t0" -v b="$t1" \
	'BEGIN { printf "%.0f", (b - a) * 1e9 }'),,,," >> $CSV
bench measure section=scale cycles=10 budget_ms=30000
bench profile
$B/stw_dump 5 running >> $CSV
bench stop
$B/stw_dump 5 stopped >> $CSV
bench resume
bench kill
rmmod stw_bench
say "done; $failed command(s) failed"

# ---- the table ----
awk -F, -v accel="$ACCEL" '
function us(ns) { return ns == "" ? "-" : sprintf("%.1f", ns / 1000) }
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
$1 == "tts" { k = $2 "," $3; med[k, $4] = $6; p99[k, $4] = $7
	rmed[k, $4] = $8; rp99[k, $4] = $9; note[k, $4] = $10
	if ($10 ~ /^inner_med_ns=/) inner[k, $4] = substr($10, 14)
	if (!(k in seen)) { seen[k] = 1; order[++nk] = k } }
$1 == "scale" { smed[$4] = $6; sp99[$4] = $7; srmed[$4] = $8 }
$1 ~ /^worlds[0-9]*-(alone|beside)$/ { split($1, wk, "-"); wmed[wk[1], wk[2], $4] = $6 }
$1 == "poll" { poll[$4] = $6; pmin[$4] = substr($10, 8); units = $2 }
$1 == "profile" { pk = $2 "," $3 "," $4; prof[pk] = $10; pmed[pk] = $6 }
$1 == "mem" && $2 == 1000 { mem[$4] = $6 }
$1 == "dump" { dump[$4] = $6; dumpn = $2 }
END {
	mixes[1] = "active"; mixes[2] = "idle"; mixes[3] = "half"
	printf "\n=== time to stop and to resume, in us (%s: emulated time) ===\n", accel
	printf "%5s %-6s | %9s %9s | %9s %9s | %11s %9s | %7s %7s %8s | %11s %11s %11s\n",
		"N", "mix", "stw med", "p99", "barr med", "p99", "park med", "p99",
		"stw/bar", "(inner)", "park/stw", "resume stw", "res barr", "res park"
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, f, ",")
		pk = us(med[k, "park"]); if (note[k, "park"] != "") pk = ">" pk
		pr = ratio(med[k, "park"], med[k, "stw"]); if (note[k, "park"] != "") pr = ">" pr
		printf "%5s %-6s | %9s %9s | %9s %9s | %11s %9s | %7s %7s %8s | %11s %11s %11s\n",
			f[1], f[2], us(med[k, "stw"]), us(p99[k, "stw"]),
			us(med[k, "barrier"]), us(p99[k, "barrier"]), pk,
			us(p99[k, "park"]), ratio(med[k, "stw"], med[k, "barrier"]),
			ratio(inner[k, "stw"], inner[k, "barrier"]), pr,
			us(rmed[k, "stw"]), us(rmed[k, "barrier"]), us(rmed[k, "park"])
	}
	printf "Times to stop are the controller'"'"'s, request to wake-up; (inner) compares request to last thread stopped.\n"
	printf "p99 is nearest-rank: with fewer than 100 cycles, the largest. Cycles per row: the CSV'"'"'s samples.\n"
	printf "park >X: parking every thread in turn did not end within its 5 s cap; X is a lower bound.\n"
	printf "\n=== goals (aims, not assertions) ===\n"
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, f, ",")
		if (f[1] != 1024) continue
		printf "N=1024 %-6s: stw/barrier %s, inner %s (goal <= 1.5); park/stw %s%s (goal >= 10)\n",
			f[2], ratio(med[k, "stw"], med[k, "barrier"]),
			ratio(inner[k, "stw"], inner[k, "barrier"]),
			note[k, "park"] != "" ? ">" : "", ratio(med[k, "park"], med[k, "stw"])
	}
	printf "TTS linear in N: TTS(1024)/TTS(256) stw"
	for (m = 1; m <= 3; m++) { x = mixes[m]
		printf " %s %s", x, ratio(med["1024," x, "stw"], med["256," x, "stw"]) }
	printf ", barrier"
	for (m = 1; m <= 3; m++) { x = mixes[m]
		printf " %s %s", x, ratio(med["1024," x, "barrier"], med["256," x, "barrier"]) }
	printf " (linear: 4)\n"
	b = poll["bare"]; bm = pmin["bare"]
	if (b > 0 && bm > 0)
		printf "poll fast path, loops of %d units of work (a unit: %.0f ns), overhead on the fastest round: stw_vm_poll %+.2f%%, unarmed stw_probe %+.2f%%; on the median: %+.2f%%, %+.2f%% (goal <= 2%%)\n",
			units, bm / units, (pmin["poll"] / bm - 1) * 100,
			(pmin["probe"] / bm - 1) * 100,
			(poll["poll"] / b - 1) * 100, (poll["probe"] / b - 1) * 100
	printf "\n=== profile: when each thread stopped, ms after the request (one stop each) ===\n"
	for (pk in prof) { split(pk, f, ",")
		n = split(prof[pk], kv, ";"); line = ""
		for (j = 1; j <= n; j++) { split(kv[j], e, "=")
			if (e[1] == "total" || (e[1] == "armed" && e[2] == 0)) continue
			line = line sprintf(" %s %.1f", e[1] == "armed" ? "all-armed" : e[1], e[2] / 1e6)
			if (e[1] == "p10") line = line sprintf(" median %.1f", pmed[pk] / 1e6) }
		printf "N=%-5s %-6s %-7s:%s\n", f[1], f[2], f[3], line }
	printf "\n=== scale: %d idle VMs ===\n", dumpn
	printf "stw TTS %s us (p99 %s), barrier %s us, resume %s us\n",
		us(smed["stw"]), us(sp99["stw"]), us(smed["barrier"]), us(srmed["stw"])
	printf "TTS(10000)/TTS(1024), idle: stw %s, barrier %s (linear: %.2f)\n",
		ratio(smed["stw"], med["1024,idle", "stw"]),
		ratio(smed["barrier"], med["1024,idle", "barrier"]), 10000 / 1024
	printf "spawn %.1f s; STATUS dump from user space: %s ms running, %s ms stopped\n",
		smed["spawn"] / 1e9, dump["running"] / 1e6, dump["stopped"] / 1e6
	printf "\n=== worlds: TTS of a world of 1024 idle VMs, in us ===\n"
	for (wi = 1; wi <= 2; wi++) {
		wn = wi == 1 ? "worlds" : "worlds10"
		wl = wi == 1 ? "nice 0" : "nice 10"
		printf "%s: alone: stw %s, barrier %s; beside a world of 1024 active VMs: stw %s, barrier %s\n",
			wl, us(wmed[wn, "alone", "stw"]), us(wmed[wn, "alone", "barrier"]),
			us(wmed[wn, "beside", "stw"]), us(wmed[wn, "beside", "barrier"])
		printf "%s: beside/alone: stw %s%s, barrier %s\n", wl,
			ratio(wmed[wn, "beside", "stw"], wmed[wn, "alone", "stw"]),
			wi == 1 ? " (goal <= 1.5)" : "",
			ratio(wmed[wn, "beside", "barrier"], wmed[wn, "alone", "barrier"])
	}
	printf "nice 0 is a kthread'"'"'s own (a module'"'"'s pool); at the demo VMs'"'"' nice 10 a woken thread preempts a busy one of its nice late, or at the tick.\n"
	printf "\n=== memory per VM (1000 idle VMs, /proc/meminfo deltas) ===\n"
	printf "Slab %d B, KernelStack %d B, PageTables %d B: %d B; MemFree drop %d B\n",
		mem["Slab"], mem["KernelStack"], mem["PageTables"],
		mem["Slab"] + mem["KernelStack"] + mem["PageTables"], mem["MemFree"]
	printf "of which stw allocates itself: struct stw_vm %d B, its kthread_worker %d B (the bench adds %d B of its own, not in Slab)\n",
		mem["stw_vm"], mem["kthread_worker"], mem["bench_thread"]
}' $CSV

echo
echo '----- BEGIN stw-bench CSV -----'
cat $CSV
echo '----- END stw-bench CSV -----'
[ "$failed" = 0 ]
