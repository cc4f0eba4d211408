#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test kernel NAME from Debian's linux-source-6.1: `make
# tinyconfig`, then the fragments scripts/kernels/base.config (what every
# such guest needs) and scripts/kernels/NAME.config (the kernel's own: the
# bug detectors of debug.config, KCSAN in kcsan.config) applied with
# scripts/config, then `make olddefconfig`, then `make`.  The result, in
# BUILD_DIR/cache:
#
#   kernel-NAME/linux/    the source tree, built in place: the KDIR that
#                         out-of-tree modules build against (has
#                         Module.symvers and everything modules_prepare
#                         makes)
#   kernel-NAME/build     -> linux (the name every kernel-NAME/ dir has)
#   kernel-NAME/vmlinuz   its bzImage, which QEMU boots (STW_VM_BZIMAGE=1:
#                         see base.config; there is no vmlinux next to it)
#   kernel-NAME/version   its kernel release
#   kernel-NAME/stamp     what it was built from; unchanged fragments and
#                         source package: nothing is rebuilt
#   kernel-NAME/build.log the last build's output and time
#
#   scripts/kernels/build.sh NAME [BUILD_DIR]
#
# kernel-NAME/ itself lives in a per-user store outside any clone, and
# BUILD_DIR/cache/kernel-NAME points there: like ccache, a fresh clone of
# the same sources reuses a kernel whose stamp matches instead of spending
# ten minutes of two cores on it again; anything else is rebuilt.
#
# Environment: JOBS (make -j, default 2); STW_KERNEL_CACHE, the store
# (default ~/.cache/stw-kernels; "none": keep the kernel in BUILD_DIR).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
name=${1:?usage: build.sh NAME [BUILD_DIR]}
build=${2:-$top/build}
mkdir -p "$build/cache"
cache=$(cd "$build/cache" && pwd)
store=${STW_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stw-kernels}
if [ "$store" = none ]; then
	dir=$cache/kernel-$name
else
	mkdir -p "$store"
	dir=$(cd "$store" && pwd)/kernel-$name
	[ -L "$cache/kernel-$name" ] || rm -rf "$cache/kernel-$name"
	ln -sfn "$dir" "$cache/kernel-$name"
fi
src=$dir/linux
jobs=${JOBS:-2}

say() { echo "build($name): $*" >&2; }
die() { say "$*"; exit 1; }

fragments=("$top/scripts/kernels/base.config"
	   "$top/scripts/kernels/$name.config")
[ -f "${fragments[1]}" ] || die "no ${fragments[1]}"

tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n1) ||
	true
[ -n "$tarball" ] || die "no /usr/src/linux-source-6.1.tar.* (run: make deps)"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	srcver=$(stat -c %Y "$tarball")
stamp="linux-source-6.1 $srcver; $(cat "${fragments[@]}" | sha256sum | cut -d' ' -f1)"

if [ -s "$dir/vmlinuz" ] && [ -s "$src/Module.symvers" ] &&
   [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi
mkdir -p "$dir"
rm -f "$dir/stamp"

# The source, extracted once per linux-source-6.1 version.
if [ "$(cat "$dir/source" 2>/dev/null)" != "$srcver" ] ||
   [ ! -f "$src/Makefile" ]; then
	say "extracting $tarball"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
	echo "$srcver" > "$dir/source"
fi

# apply_fragment: every CONFIG_ line of the fragments, through scripts/config.
apply_fragment() {
	local line sym val
	local -a args=()
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			sym=${line%%=*} val=${line#*=}
			sym=${sym#CONFIG_}
			case $val in
			y) args+=(--enable "$sym") ;;
			m) args+=(--module "$sym") ;;
			n) args+=(--disable "$sym") ;;
			\"*\") val=${val#\"}; args+=(--set-str "$sym" "${val%\"}") ;;
			*) args+=(--set-val "$sym" "$val") ;;
			esac ;;
		"# CONFIG_"*" is not set")
			sym=${line#"# CONFIG_"}
			args+=(--disable "${sym%" is not set"}") ;;
		esac
	done < <(cat "${fragments[@]}")
	"$src/scripts/config" --file "$src/.config" "${args[@]}"
}

# check_fragment: olddefconfig drops what Kconfig does not allow; say so.
check_fragment() {
	local line sym bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=n) sym=${line%%=*}
			! grep -q "^$sym=" "$src/.config" || { say "$sym is set"; bad=1; } ;;
		CONFIG_*=*)
			grep -qxF "$line" "$src/.config" ||
				{ say "wanted $line, got: $(grep "^${line%%=*}=" "$src/.config" || echo unset)"; bad=1; } ;;
		"# CONFIG_"*" is not set")
			sym=${line#"# "}; sym=${sym%" is not set"}
			! grep -q "^$sym=" "$src/.config" || { say "$sym is set"; bad=1; } ;;
		esac
	done < <(cat "${fragments[@]}")
	[ "$bad" = 0 ] || die "the fragment does not hold after olddefconfig (see above)"
}

start=$(date +%s)
say "configuring (tinyconfig + ${fragments[*]##*/})"
make -s -C "$src" tinyconfig >/dev/null
apply_fragment
make -s -C "$src" olddefconfig
check_fragment

say "building the kernel with make -j$jobs (log: $dir/build.log)"
if ! make -C "$src" -j"$jobs" all > "$dir/build.log" 2>&1; then
	tail -n 40 "$dir/build.log" >&2
	die "kernel build failed (log: $dir/build.log)"
fi
secs=$(($(date +%s) - start))
echo "build time: $secs s" >> "$dir/build.log"

cp "$src/arch/x86/boot/bzImage" "$dir/vmlinuz.tmp"
mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
rm -f "$dir/vmlinux"
make -s -C "$src" kernelrelease > "$dir/version"
ln -sfn linux "$dir/build"
echo "$stamp" > "$dir/stamp"
say "built $(cat "$dir/version") in $secs s"
