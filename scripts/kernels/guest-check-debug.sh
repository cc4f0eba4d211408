#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What `make check-debug` runs in the guest (busybox sh) on the debug kernel
# (scripts/kernels/build.sh): the whole selftest suite, then unload
# stw and ask kmemleak for what leaked.  KASAN, lockdep & co. report on the
# console, which scripts/qemu/run.sh checks; a kmemleak report is printed
# here and copied into the kernel log (prefixed 'stw-kmemleak: '), where
# run.sh's 'unreferenced object 0x' catches it too.  Exits non-zero if a
# test failed, stw did not unload, or anything leaked.
#
# The kernel has DEBUG_KMEMLEAK_AUTO_SCAN off: the only scans are these,
# after stw is gone, so that what stw allocated and never freed has no
# reference left.  kmemleak skips objects younger than 5 s, and reports an
# unreferenced object only if its contents (a checksum) did not change
# since the previous scan, so an object's first scan never reports it: wait
# 6 s, scan twice, and if that finds leaks, scan once more 5 s later to
# drop the transient ones (what the last scan still finds is the report).
# Its console message 'N new suspected memory leaks' is therefore not a
# verdict; this script's 'stw-kmemleak: unreferenced object' lines are.

kml=/sys/kernel/debug/kmemleak
start=$(date +%s)
rc=0

sh /stw/selftests/run_tests.sh "$@" || rc=1
echo "# check-debug: selftests took $(($(date +%s) - start)) s"

if grep -q '^stw ' /proc/modules; then
	if ! rmmod stw; then
		echo "not ok: rmmod stw failed"
		rc=1
	fi
fi

if [ ! -w $kml ]; then
	echo "not ok: no $kml (is the kernel the debug kernel?)"
	exit 1
fi
sleep 6
scan=$(date +%s)
echo scan > $kml
echo scan > $kml
report=$(cat $kml)
if [ -n "$report" ]; then
	sleep 5
	echo scan > $kml
	report=$(cat $kml)
fi
echo "# check-debug: kmemleak scan took $(($(date +%s) - scan)) s"
if [ -n "$report" ]; then
	echo "not ok: kmemleak found leaks:"
	echo "$report"
	echo "$report" | while IFS= read -r line; do
		echo "stw-kmemleak: $line" > /dev/kmsg
	done
	rc=1
else
	echo "ok: kmemleak found no leaks"
fi
echo "# check-debug: $(($(date +%s) - start)) s in all"
exit $rc
