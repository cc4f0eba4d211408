#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kselftest-style runner for the stw selftests, run in the guest (busybox sh)
# by `make check`:
#
#   run_tests.sh [NAME...]     default: every executable *_test, sorted,
#                              then every *_test.sh (example_test.sh)
#
# Prints TAP: a plan with one entry per binary, each binary's own TAP output
# indented with '# ', then 'ok K NAME' or 'not ok K NAME'.  The last line
# counts the harness' individual results over all binaries:
#
#   N passed, N failed, N skipped
#
# Exits non-zero if a test failed, a binary exited non-zero (a crash or a
# timeout counts as at least one failure), or there were no tests at all.
#
# Environment: STW_TEST_DIR (default /stw/selftests), STW_TEST_TIMEOUT
# (seconds per binary, default 600).

dir=${STW_TEST_DIR:-/stw/selftests}
limit=${STW_TEST_TIMEOUT:-600}
tmp=$(mktemp -d /tmp/stw-tests.XXXXXX) || exit 1

passed=0 failed=0 skipped=0 bad=0

# kill_session SID: kill what a binary left behind.  The harness runs each
# test in its own process group, so the group of the binary does not cover
# its children; the session does.
kill_session() {
	local sid=$1 f stat
	for f in /proc/[0-9]*/stat; do
		read -r stat < "$f" 2>/dev/null || continue
		stat=${stat##*) }	# after "pid (comm) ": state ppid pgrp session
		set -- $stat
		[ "$4" = "$sid" ] || continue
		f=${f#/proc/}
		kill -KILL "${f%/stat}" 2>/dev/null
	done
}

# run_binary PATH: run it in a session of its own with a time limit, its
# stderr merged into stdout; leave its exit status in $tmp/rc.
run_binary() {
	local pid rc
	cd "$dir" || return
	timeout -k 10 "$limit" setsid "$1" </dev/null 2>&1 &
	pid=$!
	wait $pid
	rc=$?
	kill_session $pid
	echo $rc > "$tmp/rc"
}

# count OUTPUT_FILE: "passed failed skipped planned" from a binary's TAP.
count() {
	awk '
	/^(not )?ok / && /# SKIP/ { s++; next }
	/^ok /                    { p++; next }
	/^not ok /                { f++; next }
	/^1\.\.[0-9]+/            { split($1, a, "\\.\\."); plan = a[2] }
	END { print p + 0, f + 0, s + 0, plan + 0 }' "$1"
}

# run_one K PATH: run one binary, print its TAP entry, add up its results.
run_one() {
	local k=$1 bin=$2 name=${2##*/} out rc start secs p f s plan extra=
	out=$tmp/$name.out
	echo "# selftests: stw: $name"
	start=$(date +%s)
	echo 1 > "$tmp/rc"
	# tee first: the output reaches the file even if sed is slow.
	run_binary "$bin" 2>&1 | tee "$out" | sed 's/^/# /'
	rc=$(cat "$tmp/rc")
	secs=$(($(date +%s) - start))
	set -- $(count "$out")
	p=$1 f=$2 s=$3 plan=$4
	# Results the plan announced but the output lacks: a crash or a hang.
	if [ $((p + f + s)) -lt "$plan" ]; then
		echo "# $name: $((plan - p - f - s)) of $plan results missing"
		f=$((f + plan - p - f - s))
		[ "$rc" != 0 ] || rc=1
	fi
	case $rc in
	0) ;;
	4) [ $((p + f + s)) -gt 0 ] || s=1; extra=" # SKIP" ;;
	124|137|143)
		extra=" # TIMEOUT $limit seconds"
		[ "$f" -gt 0 ] || f=1 ;;
	*)	extra=" # exit=$rc"
		[ "$f" -gt 0 ] || f=1 ;;
	esac
	echo "# $name: exit status $rc after $secs s"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	case $rc in
	0|4) echo "ok $k $name$extra" ;;
	*)   echo "not ok $k $name$extra"; bad=1 ;;
	esac
}

# The binaries to run: the names given, or every executable *_test.
list_tests() {
	local t
	if [ $# -gt 0 ]; then
		for t; do echo "$dir/${t##*/}"; done
		return
	fi
	for t in "$dir"/*_test "$dir"/*_test.sh; do
		[ -f "$t" ] && [ -x "$t" ] && echo "$t"
	done
}

main() {
	local tests n k=0 t
	tests=$(list_tests "$@")
	n=$(echo "$tests" | grep -c .)
	echo "TAP version 13"
	if [ "$n" -eq 0 ]; then
		echo "1..1"
		echo "not ok 1 no test binaries in $dir"
		echo "0 passed, 1 failed, 0 skipped"
		exit 1
	fi
	echo "1..$n"
	for t in $tests; do
		k=$((k + 1))
		if [ -x "$t" ]; then
			run_one $k "$t"
		else
			echo "not ok $k ${t##*/} # not found"
			failed=$((failed + 1)) bad=1
		fi
	done
	rm -rf "$tmp"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$bad" = 0 ] && [ "$failed" = 0 ]
}

main "$@"
