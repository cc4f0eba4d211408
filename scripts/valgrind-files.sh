#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the host files `make valgrind` copies into the guest (run.sh's
# STW_VM_EXTRA), installing Debian's valgrind and libc6-dbg first if they
# are missing: valgrind's wrapper and binary, memcheck, its preload
# libraries and default suppressions, and the detached debug symbols of
# ld.so (memcheck refuses to start without its strlen) and of libc (for
# readable stacks), found by build id.
set -euo pipefail

missing=()
for p in valgrind libc6-dbg; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	echo "valgrind: installing ${missing[*]}" >&2
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >&2
fi

lib=/usr/libexec/valgrind
files=(/usr/bin/valgrind /usr/bin/valgrind.bin "$lib/memcheck-amd64-linux"
       "$lib/vgpreload_core-amd64-linux.so"
       "$lib/vgpreload_memcheck-amd64-linux.so" "$lib/default.supp")
for so in /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6; do
	id=$(readelf -n "$(readlink -f "$so")" | sed -n 's/.*Build ID: //p')
	dbg=/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
	[ -f "$dbg" ] || { echo "valgrind: no $dbg (libc6-dbg) for $so" >&2; exit 1; }
	files+=("$dbg")
done
echo "${files[@]}"
