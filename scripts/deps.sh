#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what stw needs to build, boot its test guest and run its tests on a
# Debian 12 host, and fill the build cache with the guest kernel and the
# kselftest headers.  Idempotent: a second run only checks and returns.
#
#   scripts/deps.sh [BUILD_DIR]
set -euo pipefail

build=${1:-build}
cache=$build/cache
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

SUDO=
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
fi

pkgs=(build-essential make gcc bc bison flex libelf-dev libssl-dev kmod
      linux-headers-amd64 linux-source-6.1 qemu-system-x86 busybox-static
      cpio xz-utils pkg-config libnl-3-dev libnl-genl-3-dev gnuplot-nox)

missing=()
# Captured, not piped into grep -q: under pipefail a writer killed by
# SIGPIPE would read as "not installed" (check-host.sh had that bug).
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=
	[[ $status == *"ok installed"* ]] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$SUDO env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The guest boots the kernel that linux-headers-amd64 builds against.
kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p')
[ -n "$kver" ] || { echo "deps: cannot tell the headers' kernel version" >&2; exit 1; }
kimg=$cache/kernel-$kver/vmlinuz
if [ ! -s "$kimg" ]; then
	echo "deps: fetching linux-image-$kver (not installed on this host)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -q "linux-image-$kver" >/dev/null 2>&1 ||
		{ $SUDO apt-get update -q >/dev/null && apt-get download -q "linux-image-$kver"; })
	dpkg-deb -x "$tmp"/linux-image-"$kver"_*.deb "$tmp/root"
	mkdir -p "$cache/kernel-$kver"
	cp "$tmp/root/boot/vmlinuz-$kver" "$kimg.tmp"
	mv "$kimg.tmp" "$kimg"
	rm -rf "$tmp"
	trap - EXIT
fi
ln -sfn "kernel-$kver" "$cache/kernel"
echo "$kver" > "$cache/kernel/version"

# kselftest_harness.h and kselftest.h from Debian's kernel source.
ks=$cache/kselftest
if [ ! -s "$ks/kselftest_harness.h" ]; then
	echo "deps: extracting the kselftest headers from linux-source-6.1"
	tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n1)
	mkdir -p "$ks.tmp"
	tar -xf "$tarball" -C "$ks.tmp" --wildcards --strip-components=4 \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	rm -rf "$ks"
	mv "$ks.tmp" "$ks"
fi

# checkpatch.pl and its data files, for `make checkpatch`.
cp_dir=$cache/checkpatch
if [ ! -x "$cp_dir/checkpatch.pl" ]; then
	echo "deps: extracting checkpatch.pl from linux-source-6.1"
	tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n1)
	mkdir -p "$cp_dir.tmp"
	tar -xf "$tarball" -C "$cp_dir.tmp" --wildcards --strip-components=2 \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	rm -rf "$cp_dir"
	mv "$cp_dir.tmp" "$cp_dir"
fi
