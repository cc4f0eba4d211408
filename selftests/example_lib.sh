# SPDX-License-Identifier: GPL-2.0
#
# example_lib.sh: what the example modules' test scripts share, sourced by
# them: TAP lines, the module's parameters ($params), bounded waits.

ok() {
	n=$((n + 1))
	echo "ok $n $*"
}

not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n $*"
}

# check DESCRIPTION COMMAND...: one TAP line for COMMAND's status.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 4
}

param() {
	local v
	read -r v < "$params/$1" || v=
	echo "${v:-0}"
}

# wait_for COMMAND...: until COMMAND succeeds, for at most a minute. What
# it waits for happens on another thread: a stop notifier runs on stw's
# event worker, maybe after stwctl returned.
wait_for() {
	local end=$(($(date +%s) + 60))
	until "$@"; do
		[ "$(date +%s)" -lt $end ] || return 1
	done
}

param_ge() {
	[ "$(param "$1")" -ge "$2" ]
}

# wait_param NAME MIN: until the parameter is at least MIN.
wait_param() {
	wait_for param_ge "$@"
}
