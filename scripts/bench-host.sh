#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: run scripts/bench.sh in the guest, then pull its CSV out of
# the guest's output and plot it.
#
#   scripts/bench-host.sh BUILD_DIR [tcg|kvm]
#
# Writes BUILD_DIR/bench/bench.log (the guest's output), bench.csv and
# bench.png (time to stop against N, log-log: stw, the raw barrier and
# kthread_park(), one panel per mix, and stw's time to resume).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "$1" && cd "$1" && pwd)
accel=${2:-tcg}
out=$build/bench
log=$out/bench.log
csv=$out/bench.csv
png=$out/bench.png

mkdir -p "$out"
rm -f "$csv" "$png"
start=$(date +%s)
# 10,000 VMs need more than the guest's default memory.
status=0
STW_VM_MEM=${STW_VM_MEM:-2G} STW_VM_DIR=$out/vm \
	"$top/scripts/qemu/run.sh" --build "$build" --accel "$accel" \
	--timeout "${BENCH_TIMEOUT:-1800}" --script "$top/scripts/bench.sh" |
	tee "$log" || status=$?
echo "stw-bench: the guest ran for $(( $(date +%s) - start )) s (wall clock, boot included)"
# A failed command still leaves the others' rows: extract and plot them.
[ "$status" = 0 ] || echo "stw-bench: the guest run failed ($status)" >&2

tr -d '\r' < "$log" |
	sed -n '/^----- BEGIN stw-bench CSV -----$/,/^----- END stw-bench CSV -----$/p' |
	sed '1d;$d' > "$csv"
[ -s "$csv" ] || { echo "stw-bench: no CSV in $log" >&2; exit 1; }
echo "stw-bench: $csv"
# make bench-goals: the guest printed its table; its CSV has a run column.
[ "${BENCH_GOALS:-0}" = 1 ] && exit "$status"

command -v gnuplot >/dev/null ||
	{ echo "stw-bench: no gnuplot, no plot" >&2; exit "$status"; }

# One data file per curve: N and the median, in us.
dat=$out/dat
rm -rf "$dat"
mkdir -p "$dat"
awk -F, -v dir="$dat" '
$1 == "tts" {
	f = dir "/" $3 "-" $4 (($10 ~ /^censored/) ? "-censored" : "")
	printf "%s %.3f %.3f %.3f\n", $2, $6 / 1000, $7 / 1000, $8 / 1000 >> f
	# a lower bound also joins the curve, so the line goes on to it
	if ($10 ~ /^censored/)
		printf "%s %.3f %.3f %.3f\n", $2, $6 / 1000, $7 / 1000, $8 / 1000 >> (dir "/" $3 "-" $4)
	# a line proportional to N through the barrier at N = 1024
	if ($4 == "barrier" && $2 == 1024)
		printf "1 %.6f\n1024 %.3f\n", $6 / 1000 / 1024, $6 / 1000 > (dir "/" $3 "-linear")
}' "$csv"
for m in active idle half; do
	for w in stw barrier park park-censored linear; do touch "$dat/$m-$w"; done
done

accel_name=$(grep -o 'QEMU TCG\|QEMU/KVM' "$log" | head -n1 || true)
gnuplot <<GP
set terminal pngcairo size 1400,1000 font "sans,10"
set output "$png"
set datafile missing "?"
set logscale xy
set xrange [0.7:1500]
set xtics (1, 4, 16, 64, 256, 1024)
set grid
set key top left
set multiplot layout 2,2 title "stw: time to stop N threads (median of the cycles), ${accel_name:-QEMU}: emulated time, only ratios carry over"
do for [m in "active idle half"] {
	set title sprintf("mix: %s", m)
	set xlabel "N (threads)"
	set ylabel "time to stop (us)"
	plot "$dat/".m."-stw" using 1:2 with linespoints lw 2 pt 7 title "stw", \
	     "$dat/".m."-barrier" using 1:2 with linespoints lw 2 pt 5 title "raw barrier", \
	     "$dat/".m."-park" using 1:2 with linespoints lw 2 pt 9 title "sequential kthread\\\\_park", \
	     "$dat/".m."-park-censored" using 1:2 with points pt 8 ps 2.5 lc rgb "black" title "park: lower bound (time cap)", \
	     "$dat/".m."-linear" using 1:2 with lines dt 3 lc rgb "gray40" title "proportional to N"
}
set title "time to resume (until every thread runs again)"
set ylabel "time to resume (us)"
plot "$dat/active-stw" using 1:4 with linespoints lw 2 pt 7 title "stw, active", \
     "$dat/idle-stw" using 1:4 with linespoints lw 2 pt 5 title "stw, idle", \
     "$dat/half-stw" using 1:4 with linespoints lw 2 pt 9 title "stw, half", \
     "$dat/active-barrier" using 1:4 with linespoints dt 2 pt 7 title "barrier, active", \
     "$dat/idle-barrier" using 1:4 with linespoints dt 2 pt 5 title "barrier, idle"
unset multiplot
GP
echo "stw-bench: $png"
exit "$status"
