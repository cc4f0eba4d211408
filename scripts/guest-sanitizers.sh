#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the guest (busybox sh) by `make check-asan` and `make valgrind`:
#
#   guest-sanitizers.sh asan       the whole suite; the selftests and stwctl
#                                  are the AddressSanitizer + UBSan build
#   guest-sanitizers.sh valgrind   fuzz_test and stress_test under
#                                  valgrind's memcheck
#
# Each through selftests/run_tests.sh (TAP and its summary line).  Every
# sanitizer or memcheck report goes to a file of its own in $logs, from any
# process (a harness child, an stwctl a test runs, a process that dropped
# to nobody), so that a report whose output a test swallows still counts:
# any such report is printed at the end and fails the run, as does a
# failed test.
#
# Environment (valgrind): STW_VG_FUZZ_COUNT (default 2000 messages per
# fuzz test), STW_VG_STRESS_CYCLES (default 200 stop requests): memcheck
# runs each ~50 times slower than the plain run, and the tests' own time
# limits grow with these counts.

mode=${1:-asan}
logs=/tmp/sanitizer-logs
mkdir -p $logs
chmod 1777 $logs
rc=0

case $mode in
asan)
	export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1"
	export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1"
	sh /stw/selftests/run_tests.sh || rc=1
	;;
valgrind)
	# run_tests.sh runs every *_test of STW_TEST_DIR: wrappers there.
	# Memory errors only, no leak check: the tests' children _exit()
	# with their sockets open on purpose (stress_test's deserters: the
	# hold must go with the process), which memcheck calls a definite
	# leak, and --error-exitcode would turn into a failed child.
	wrap=/tmp/valgrind-tests
	mkdir -p $wrap
	for t in fuzz_test stress_test; do
		cat > $wrap/$t <<-EOF
		#!/bin/sh
		exec valgrind --tool=memcheck --error-exitcode=99 \\
			--leak-check=no --track-origins=yes \\
			--vgdb=no --log-file=$logs/valgrind.%p \\
			/stw/selftests/$t "\$@"
		EOF
		chmod 755 $wrap/$t
	done
	export STW_FUZZ_COUNT=${STW_VG_FUZZ_COUNT:-2000}
	export STW_STRESS_CYCLES=${STW_VG_STRESS_CYCLES:-200}
	echo "# valgrind $(valgrind --version): STW_FUZZ_COUNT=$STW_FUZZ_COUNT" \
	     "STW_STRESS_CYCLES=$STW_STRESS_CYCLES"
	STW_TEST_DIR=$wrap sh /stw/selftests/run_tests.sh || rc=1
	;;
*)
	echo "usage: guest-sanitizers.sh asan|valgrind" >&2
	exit 2
	;;
esac

# A memcheck log that has an error in it has an ERROR SUMMARY of 1 or more
# (each process writes one, clean ones "0 errors"), or one in which valgrind
# could not start; a sanitizer writes a
# log only when it reports.
n=0
for f in $logs/*; do
	[ -s "$f" ] || continue
	case $mode in
	valgrind) grep -qE 'ERROR SUMMARY: [1-9]|Fatal error|Cannot continue' "$f" || continue ;;
	esac
	n=$((n + 1))
	echo "# --- $mode report: ${f##*/}"
	sed 's/^/# /' "$f"
done
if [ "$n" -gt 0 ]; then
	echo "not ok: $n $mode report(s), above"
	rc=1
else
	echo "ok: no $mode reports"
fi
exit $rc
