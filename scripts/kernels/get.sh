#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the guest kernel NAME (the Makefile's KERNEL=) ready in the build
# cache: BUILD_DIR/cache/kernel-NAME/ with vmlinuz (the kernel QEMU boots)
# and build (the KDIR the module builds against).  The table of the kernels
# stw is tested on; `make deps KERNEL=NAME` runs this.
#
#   scripts/kernels/get.sh NAME [BUILD_DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: get.sh NAME [BUILD_DIR]}
build=${2:-$here/../../build}

case $name in
# Debian 12's own kernel, the one linux-headers-amd64 builds against: its
# headers are installed on the host and scripts/deps.sh fetches its image.
6.1)	;;
# Debian 12's 6.1 with the kernel's bug detectors on (KASAN, lockdep,
# kmemleak, ...), built from linux-source-6.1 with base.config and debug.config.
debug)	exec "$here/build.sh" debug "$build" ;;
# 6.1 with KCSAN, the data-race detector (which excludes KASAN), built from
# linux-source-6.1 with kcsan.config.
kcsan)	exec "$here/build.sh" kcsan "$build" ;;
# Debian 12's 6.12 (bookworm-security / bookworm-backports) and its
# PREEMPT_RT flavour:        NAME    SERIES FLAVOUR  COMMON
6.12)	exec "$here/debian.sh" "$build" 6.12    6.12   amd64    common ;;
6.12-rt) exec "$here/debian.sh" "$build" 6.12-rt 6.12  rt-amd64 common-rt ;;
*)	echo "get.sh: unknown kernel '$name' (6.1, debug, kcsan, 6.12, 6.12-rt)" >&2
	exit 2 ;;
esac
