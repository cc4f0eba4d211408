#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# autoload_test: with stw installed where modprobe finds it and depmod run,
# resolving the "stw" family loads the module (MODULE_ALIAS_GENL_FAMILY):
# `stwctl status` works on a machine where nobody loaded stw. Then stw is
# reloaded as the other tests expect it. Prints TAP; exits 0 if every step
# passed, 1 if one failed, 4 (skip) if the guest has no stw.ko or depmod.
#
# Environment: STW_KO (default /stw/stw.ko).

ko=${STW_KO:-/stw/stw.ko}
kv=$(uname -r)
dest=/lib/modules/$kv/extra
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)) failed=$((failed + 1)); echo "not ok $n $*"; }
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
loaded() { [ -d /sys/module/stw ]; }

echo "TAP version 13"
if [ ! -f "$ko" ] || ! command -v depmod >/dev/null; then
	echo "1..0 # SKIP no $ko or no depmod"
	exit 4
fi
echo "1..6"

loaded && rmmod stw
check "stw is not loaded to begin with" eval '! loaded'
# Not installed: the family does not resolve, and stwctl says how to load.
out=$(stwctl status 2>&1)
rc=$?
check "stwctl status without stw fails with exit 3" [ "$rc" = 3 ]
case $out in
*"modprobe stw"*) ok "the hint says modprobe stw" ;;
*) not_ok "the hint says modprobe stw: $out" ;;
esac

mkdir -p "$dest" && cp "$ko" "$dest/stw.ko" && depmod -a "$kv"
check "depmod lists the family's alias" \
	grep -q "^alias net-pf-16-proto-16-family-stw stw$" \
	"/lib/modules/$kv/modules.alias"
out=$(stwctl status 2>&1)
check "stwctl status loads stw and answers" eval 'loaded && case "$out" in *run_all*) true ;; *) false ;; esac'
check "modinfo-visible version" grep -q . /sys/module/stw/version

# Back as the rest of the suite expects it: stw.ko, not installed.
rmmod stw
rm -f "$dest/stw.ko"
depmod -a "$kv"
insmod "$ko" || failed=$((failed + 1))
echo "# $n tests, $failed failed"
[ "$failed" = 0 ]
