#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What `make demo` runs in the guest (busybox sh), with stw.ko loaded:
# for now, show the world's status.

echo "=== stw demo: kernel $(uname -r), $(nproc) CPUs ==="
echo "\$ stwctl status"
stwctl status
status=$?
echo "=== stw demo: done (status $status) ==="
exit $status
