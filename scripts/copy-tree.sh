#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bring DEST's copy of the source tree up to date (run from the tree's
# top): every file git tracks or would track (untracked but not ignored),
# or without git every file outside build/ and .git/.  A file is copied
# only if its contents differ, and then gets a new mtime, so that make
# rebuilds in DEST what changed and only that.  For builds of the tree
# that must not touch its own objects (make asan).
#
#   scripts/copy-tree.sh DEST
set -euo pipefail

dest=${1:?usage: copy-tree.sh DEST}
mkdir -p "$dest"

list() {
	if git rev-parse --git-dir >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard
	else
		find . \( -path ./build -o -path ./.git \) -prune -o -type f \
			-printf '%P\0'
	fi
}

list | while IFS= read -r -d '' f; do
	[ -f "$f" ] || continue		# deleted in the working tree
	cmp -s "$f" "$dest/$f" && continue
	mkdir -p "$dest/$(dirname "$f")"
	rm -f "$dest/$f"
	cp "$f" "$dest/$f"
done
