#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Put the kernel's YNL tooling (tools/net/ynl: cli.py, ynl-gen-c.py, lib/)
# and its netlink schemas (Documentation/netlink/*.yaml) in DEST, taken from
# Debian's linux-source-6.12 (installed if missing) and nothing else of the
# tarball.  Idempotent: does nothing when DEST already holds what the
# current tarball gives (DEST/.source names it).
#
#   scripts/ynl/get-ynl.sh DEST
set -euo pipefail

dest=${1:?usage: $0 DEST}
pkg=linux-source-6.12
tarball=/usr/src/$pkg.tar.xz

say() { echo "get-ynl: $*" >&2; }

if [ ! -s "$tarball" ]; then
	say "installing $pkg"
	# jsonschema and yaml: for ynl itself and for validating specs.
	apt-get install -y -qq "$pkg" python3-yaml python3-jsonschema >/dev/null ||
	{ apt-get update -qq && apt-get install -y -qq "$pkg" python3-yaml \
		python3-jsonschema >/dev/null; }
fi
for mod in yaml jsonschema; do
	/usr/bin/python3 -c "import $mod" 2>/dev/null ||
		apt-get install -y -qq "python3-$mod" >/dev/null
done

stamp="$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true) $(stat -c '%s %Y' "$tarball")"
if [ -f "$dest/.source" ] && [ "$(cat "$dest/.source")" = "$stamp" ] &&
   [ -f "$dest/tools/net/ynl/cli.py" ] && [ -f "$dest/MAINTAINERS" ]; then
	exit 0
fi

say "extracting tools/net/ynl and Documentation/netlink from $pkg"
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
tar -xJf "$tarball" -C "$dest.tmp" --strip-components=1 --wildcards \
	'*/tools/net/ynl/*' '*/Documentation/netlink/*'
[ -f "$dest.tmp/tools/net/ynl/cli.py" ] ||
	{ say "no tools/net/ynl/cli.py in $tarball"; exit 1; }
# ynl-gen-c.py finds the kernel tree's root by its MAINTAINERS file.
: > "$dest.tmp/MAINTAINERS"
echo "$stamp" > "$dest.tmp/.source"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
