#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the guest (make check-ynl): drive stw.ko with the kernel's ynl cli.py
# and Documentation/netlink/specs/stw.yaml, nothing of ours in between.
# Needs scripts/qemu/run.sh's STW_VM_PYTHON=1 and STW_VM_YNL (ynl at
# /stw/ynl).  Prints TAP and 'N passed, N failed, 0 skipped'; exits 1 if a check failed.

YNL=/stw/ynl
T=/tmp/ynl
mkdir -p $T
pass=0 fail=0 n=0

# The spec was validated on the host; the guest has no jsonschema.
ynl() {
	python3 $YNL/cli.py --spec $YNL/stw.yaml --no-schema --output-json "$@"
}

ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		pass=$((pass + 1)); echo "ok $n $2"
	else
		fail=$((fail + 1)); echo "not ok $n $2"
		[ -f "$3" ] && sed 's/^/# /' "$3"
	fi
}

# run NAME CLI-ARGS...: cli.py's output in $T/NAME; 0 if it exited 0.
run() {
	local name=$1
	shift
	ynl "$@" > $T/$name 2>&1
}

# has NAME PATTERN...: every pattern (grep -E) is in $T/NAME.
has() {
	local f=$T/$1 p
	shift
	for p in "$@"; do
		grep -qE -- "$p" "$f" || { echo "missing: $p" >> "$f"; return 1; }
	done
}

# check NAME DESCRIPTION PATTERN...: one TAP line.
check() {
	local name=$1 what=$2
	shift 2
	has "$name" "$@"
	ok $? "$what" $T/$name
}

# A netlink socket of generic netlink (16) in a multicast group: the
# subscriber is listening.
subscribed() {
	awk '$2 == 16 && $4 != "00000000" { f = 1 } END { exit !f }' \
		/proc/net/netlink
}

echo "TAP version 13"
t0=$(date +%s)

# Events, all along: a listener on the "events" group that stops once the
# last of the five vm-gone-ntf came (or after 300 s: then it missed some).
python3 $YNL/ynl-wait.py --spec $YNL/stw.yaml --subscribe events \
	--wait vm-gone-ntf --count 5 --timeout 300 > $T/events 2>&1 &
sub=$!
i=0
until grep -q '^subscribed' $T/events || [ $i -ge 300 ]; do
	sleep 0.1; i=$((i + 1))
done
subscribed
ok $? "a ynl listener joins the events group" $T/events

run spawn --do spawn --json '{"spawn": {"active": 2, "idle": 3}}'
check spawn "--do spawn: 5 VMs" '"count": 5' '"vm-id": \[[0-9]+, [0-9]+, [0-9]+, [0-9]+, [0-9]+\]'
vm=$(sed -n 's/.*"vm-id": \[\([0-9]*\).*/\1/p' $T/spawn)

run status --do status
check status "--do status: the world runs, 5 VMs" '"mode": "run-all"' '"nr-vms": 5' \
	'"tts-hist": \[' '"violations": \[0, 0, 0, 0, 0\]'

run dump --dump status
check dump "--dump status: the world, then each VM" '^\[\{"world-name": "demo", "world": \{"name": "demo", "owner": "stw", "mode": "run-all"' \
	'"kind": "active"' '"kind": "idle"' '"state": "running"' "\"id\": $vm, \"name\""
c=$(grep -o '"vm": {' $T/dump | wc -l)
[ "$c" = 5 ]
ok $? "--dump status: 5 VM messages (got $c)" $T/dump

run worlds --dump worlds
check worlds "--dump worlds: demo, stw's own, with its 5 VMs" \
	'"world": \{"name": "demo", "owner": "stw", "mode": "run-all"' '"nr-vms": 5'

run queue --do queue-job --json "{\"vm-id\": $vm, \"jobs\": 2, \"polls\": 10}"
ok $? "--do queue-job on VM $vm" $T/queue

# wait NAME CLI-ARGS...: as run, with ynl-wait.py, which waits for the
# completion (done-ntf) that comes to the socket after the reply: 6.12's
# cli.py cannot (see ynl-wait.py).
wait_ntf() {
	local name=$1
	shift
	python3 $YNL/ynl-wait.py --spec $YNL/stw.yaml "$@" > $T/$name 2>&1
}

wait_ntf stop --do stop --json '{"lease-ms": 60000, "timeout-ms": 5000}' --wait done-ntf
check stop "--do stop: a leased hold" '"cycle": \{"generation": 1' '"hold-id": [0-9]+'
# Every VM may park while the stop's controller still arms: then the reply
# itself says stopped (its cycle has tts-ns) and no done-ntf follows.
if has stop '"cycle": \{"generation": 1, "tts-ns"'; then
	ok 0 "--do stop: stopped within its reply (tts-ns), no done-ntf to wait for" $T/stop
else
	has stop '"name": "done-ntf", "msg": \{"world-name": "demo", "errno": 0'
	ok $? "--do stop: its done-ntf (errno 0) came to the socket" $T/stop
fi

run stopped --do status
check stopped "--do status: stopped, 5 parked" '"mode": "stopped"' '"stopped": 5' '"holds": 1'

wait_ntf step --do run-one --json "{\"vm-id\": $vm, \"polls\": 1}" --wait done-ntf
check step "--do run-one VM $vm: the cycle" '"cycle": \{"generation": 1'
has step '"name": "done-ntf", "msg": \{"world-name": "demo", "errno": 0' "\"vm\": \{\"id\": $vm"
ok $? "--do run-one: its done-ntf names VM $vm" $T/step

run bad --do run-one --json '{"vm-id": 0}'
[ $? != 0 ] && has bad 'Netlink error' 'bad-attr|miss|min|range|Invalid'
ok $? "--do run-one vm-id 0: refused by the policy, with an extack" $T/bad

# Not --subscribe: a multicast notification that arrives between a
# reply and its ACK crashes 6.12's cli.py (see ynl-wait.py).
run resume --do resume --json '{}'
check resume "--do resume: resumed" '"resumed": true' '"holds": 0'

run after --do status
check after "--do status: runs again" '"mode": "run-all"' '"cycles": 1'

run kill --do kill --json '{"kill-all": true}'
check kill "--do kill kill-all: 5 destroyed" '"count": 5'

t1=$(date +%s)
echo "# requests took $((t1 - t0)) s"
wait $sub
ok $? "the listener saw the five vm-gone-ntf and exited 0" $T/events
check events "events: added, stopped, resumed, gone, each with event-seq" \
	'"name": "vm-added-ntf", "msg": \{"world-name": "demo", "event-seq": [0-9]+, "vm": \{"id"' \
	'"name": "stopped-ntf", "msg": \{"world-name": "demo", "event-seq": [0-9]+, "cycle": \{"generation": 1' \
	'"name": "resumed-ntf"' '"name": "vm-gone-ntf"'
c=$(grep -o '"vm-added-ntf"' $T/events | wc -l)
[ "$c" = 5 ]
ok $? "events: 5 vm-added-ntf (got $c)" $T/events

echo "$pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
