#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bring DEST's copy of the module sources (every Kbuild, *.c and *.h of the
# source tree, outside build/ and .git/) up to date, for a kernel other than
# the default one to build stw.ko in DEST rather than in module/ (see the
# Makefile's MODDIR).  A file is copied only if its contents differ, and then
# gets a new mtime: kbuild rebuilds what changed, and only that, even if the
# new contents are older than DEST's objects.
#
#   scripts/kernels/copy-src.sh DEST [BUILD_DIR]   (run from the source tree)
set -euo pipefail

dest=${1:?usage: copy-src.sh DEST [BUILD_DIR]}
build=${2:-$PWD/build}
case $build in "$PWD"/*) build=./${build#"$PWD"/} ;; esac

mkdir -p "$dest"
find . \( -path ./build -o -path ./.git -o -path "$build" \) -prune -o \
	\( -name Kbuild -o -name '*.[ch]' \) ! -name '*.mod.c' -type f -print |
while read -r f; do
	cmp -s "$f" "$dest/$f" && continue
	mkdir -p "$dest/$(dirname "$f")"
	cp "$f" "$dest/$f"
done
