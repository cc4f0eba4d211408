#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch one of Debian's kernels and the headers to build modules for it into
# the build cache, without installing either on this host: the headers
# package depends on the image, and installing the image would install that
# kernel here and rebuild this host's initramfs.  `apt-get download` and
# `dpkg-deb -x` instead.  Idempotent: once fetched, a second run only looks
# the newest version up in apt's package lists and returns.
#
#   scripts/kernels/debian.sh BUILD_DIR NAME SERIES FLAVOUR COMMON
#   e.g.  scripts/kernels/debian.sh build 6.12-rt 6.12 rt-amd64 common-rt
#
# (scripts/kernels/get.sh has the table of NAMEs.)  It picks the newest
# version V of SERIES (6.12.V+debN) for which apt knows all four packages:
#
#   linux-image-V-FLAVOUR-unsigned   the kernel
#   linux-headers-V-FLAVOUR          its .config, Module.symvers, generated
#                                    headers; its Makefile includes ...
#   linux-headers-V-COMMON           ... the common headers and Makefile
#   linux-kbuild-V                   scripts/ and tools/ (modpost, objtool)
#
# and unpacks them as BUILD_DIR/cache/kernel-V-FLAVOUR/:
#
#   vmlinuz, config, version   the kernel (run.sh decompresses vmlinuz to
#                              vmlinux there on first boot)
#   root/usr/src, root/usr/lib the three headers packages, as they would be
#                              installed under /
#   build -> root/usr/src/linux-headers-V-FLAVOUR: the KDIR
#
# and points BUILD_DIR/cache/kernel-NAME at it.  The only absolute path in
# the unpacked tree is the include line of the headers' Makefile
# ("include /usr/src/linux-headers-V-COMMON/Makefile"): it is rewritten to
# the same directory relative to that Makefile's own (resolved) location.
# The scripts/ and tools/ symlinks into linux-kbuild are relative already.
# Debian's kbuild for 6.12 also needs pahole (BTF of modules: it is a
# dependency of linux-kbuild), and run.sh needs zstd to decompress 6.12's
# vmlinuz: both are installed on the host if missing.
set -euo pipefail

[ $# = 5 ] || { sed -n '/^#   scripts/,/^#   e\.g/s/^# \{0,3\}//p' "$0" >&2; exit 2; }
build=$1 name=$2 series=$3 flavour=$4 common=$5
mkdir -p "$build/cache"
cache=$(cd "$build/cache" && pwd)

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

say() { echo "deps($name): $*" >&2; }
die() { say "$*"; exit 1; }

host_tools() {
	local p missing=()
	for p in pahole zstd; do
		command -v "$p" >/dev/null || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return
	say "installing ${missing[*]}"
	$SUDO env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}" ||
	{ $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
	  $SUDO env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"; }
}

# packages V: the four packages of version V.
packages() {
	echo "linux-image-$1-$flavour-unsigned linux-headers-$1-$flavour" \
	     "linux-headers-$1-$common linux-kbuild-$1"
}

# newest: the newest version apt knows all four packages of, or nothing.
newest() {
	local v p ok
	for v in $(apt-cache pkgnames "linux-image-$series." 2>/dev/null |
		   sed -n "s/^linux-image-\(${series//./\\.}\.[0-9]*+deb[0-9]*\)-$flavour-unsigned\$/\1/p" |
		   sort -Vr); do
		ok=1
		for p in $(packages "$v"); do
			apt-cache show --no-all-versions "$p" >/dev/null 2>&1 ||
				{ ok=0; break; }
		done
		[ "$ok" = 0 ] || { echo "$v"; return; }
	done
}

host_tools

ver=$(newest)
if [ -z "$ver" ]; then
	say "no complete linux-image/headers-$series.*-$flavour in apt's lists; apt-get update"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	ver=$(newest)
	[ -n "$ver" ] || die "apt knows no complete set of $(packages "$series.*")"
fi
kver=$ver-$flavour
dir=$cache/kernel-$kver

if [ ! -s "$dir/version" ]; then
	say "fetching $(packages "$ver") (unpacked into the cache, not installed)"
	tmp=$(mktemp -d "$cache/.fetch-$name.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# apt's sandbox user must be able to write there.
	chmod 755 "$tmp"
	# shellcheck disable=SC2046
	(cd "$tmp" && apt-get download -q $(packages "$ver") >/dev/null 2>&1) ||
	{ $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
	  (cd "$tmp" && apt-get download -q $(packages "$ver")); }
	out=$tmp/out
	mkdir -p "$out"
	dpkg-deb -x "$tmp/linux-image-$kver-unsigned_"*.deb "$tmp/image"
	cp "$tmp/image/boot/vmlinuz-$kver" "$out/vmlinuz"
	cp "$tmp/image/boot/config-$kver" "$out/config"
	for p in "linux-headers-$kver" "linux-headers-$ver-$common" \
		 "linux-kbuild-$ver"; do
		dpkg-deb -x "$tmp/${p}_"*.deb "$out/root"
	done
	rm -rf "$out/root/usr/share"
	hdr=$out/root/usr/src/linux-headers-$kver
	grep -q '^include /usr/src/linux-headers-[^/]*/Makefile$' "$hdr/Makefile" ||
		die "unexpected $hdr/Makefile: $(cat "$hdr/Makefile")"
	sed -i 's|^include /usr/src/\(linux-headers-[^/]*\)/Makefile$|include $(dir $(realpath $(lastword $(MAKEFILE_LIST))))../\1/Makefile|' \
		"$hdr/Makefile"
	[ -f "$hdr/$(sed -n 's|^include .*\.\./\(.*\)$|../\1|p' "$hdr/Makefile")" ] ||
		die "the headers' Makefile includes a file that is not there"
	[ -x "$hdr/scripts/mod/modpost" ] || die "no modpost under $hdr/scripts"
	ln -s "root/usr/src/linux-headers-$kver" "$out/build"
	echo "$kver" > "$out/version"
	rm -rf "$dir"
	mv "$out" "$dir"
	rm -rf "$tmp"
	trap - EXIT
fi
ln -sfn "kernel-$kver" "$cache/kernel-$name"
