#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What `make demo` runs in the guest (busybox sh), with stw.ko loaded:
# spawn VMs, stop the world, look at it, step one VM, resume, look again.
# Each step waits for its state through stwctl itself; nothing sleeps.
set -e

run() {
	echo
	echo "\$ $*"
	"$@"
}

echo "=== stw demo: kernel $(uname -r), $(nproc) CPUs, QEMU TCG ==="
run stwctl spawn --active 3 --idle 2
run stwctl stop
run stwctl status
# The first active VM: the table's first VM of kind active.
vm=$(stwctl -j status | tr '{' '\n' | grep '"kind": *"active"' |
	head -n1 | sed 's/.*"id": *\([0-9]*\).*/\1/')
run stwctl step "$vm" --polls 10
run stwctl step "$vm" --polls 10
run stwctl status
run stwctl resume
run stwctl status
# Worlds apart: demo VMs in a world of their own, stopped alone.
run stwctl -w sandbox spawn --active 2
run stwctl -w sandbox stop
run stwctl worlds
run stwctl -w sandbox resume
run stwctl -w sandbox kill --all
run stwctl kill --all
echo
echo "=== stw demo: done ==="
