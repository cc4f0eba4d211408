#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build stw.ko with one race's bug put back (module/mutant.c), or the real
# module with N=0, for scripts/check-mutants.sh and scripts/check-explore.sh:
#
#   scripts/build-mutant.sh N KDIR WORK DEST
#
# WORK is a scratch directory (the sources are copied there); DEST is where
# stw.ko goes, as .../module/stw.ko: the test modules of selftests/modules
# go to .../selftests/modules beside it, as the guest runner expects.
set -euo pipefail

n=$1 kdir=$2 src=$3 dest=$4
top=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$src"
mkdir -p "$src" "${dest%/stw.ko}" "${dest%/module/stw.ko}/selftests/modules"
cp -r "$top/module" "$top/uapi" "$src/"
echo 'obj-m := module/' >"$src/Kbuild"
make -s -C "$kdir" M="$src" STW_MUTANT="$n" modules >/dev/null
cp "$src/module/stw.ko" "$dest"
cp "$top"/selftests/modules/*.ko "${dest%/module/stw.ko}/selftests/modules/"
