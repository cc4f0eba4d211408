#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/qemu/run.sh's verdict on made-up guests: a QEMU stand-in plays
# one boot after another (a clean run, a failing command, a kernel that
# crashes or resets before init, one that hangs, one that says where its
# tasks wait before it times out) and run.sh must boot again
# only when its kernel died before anything of ours ran, exit 0 only
# when the command passed, and refuse a guest CPU count (STW_VM_SMP) that
# is not one before booting at all. make check-host runs it.
#
#   scripts/qemu/run-test.sh
#
# Prints one 'ok' or 'not ok' line per case; exits 1 if any case failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 n=0

# The stand-in: each boot plays the next word of FAKE_BOOTS.
mkdir -p "$tmp/bin"
cat > "$tmp/bin/qemu-system-x86_64" <<'FAKE'
#!/bin/bash
boots=$(cat "$FAKE_DIR/boots" 2>/dev/null || echo 0)
echo $((boots + 1)) > "$FAKE_DIR/boots"
read -ra plays <<< "$FAKE_BOOTS"
play=${plays[$boots]:-ok}
con=$FAKE_DIR/work/console.log
echo "[    1.855105] sched_clock: Marking stable" > "$con"
case $play in
reset)	exit 0 ;;	# a triple fault under -no-reboot: not a word
oops)	echo "[    1.9] BUG: unable to handle page fault" >> "$con"
	echo "[    1.9] Oops: 0000 [#1] PREEMPT SMP" >> "$con"
	exit 0 ;;
hang)	exit 124 ;;	# timeout(1) killed it
esac
echo "stw-init: stw loaded" >> "$con"
case $play in
late|stuck)
	# init's last word before the time-out: a blocked task's stack.
	echo "stw-init: about to time out: where each task waits" >> "$con"
	echo "[  870.1] sysrq: Show Blocked State" >> "$con"
	echo "[  870.1] Call Trace:" >> "$con"
	echo "stw-init: task 90/90 explore: S in pipe_read" >> "$con" ;;
esac
case $play in
stuck)	exit 124 ;;
late)	echo 0 > "$FAKE_DIR/work/verdict" ;;
ok)	echo 0 > "$FAKE_DIR/work/verdict" ;;
fail)	echo 1 > "$FAKE_DIR/work/verdict" ;;
late-oops)
	echo "[   30.1] Oops: 0000 [#1] PREEMPT SMP" >> "$con"
	echo 0 > "$FAKE_DIR/work/verdict" ;;
esac
exit 0
FAKE
chmod +x "$tmp/bin/qemu-system-x86_64"
echo fake > "$tmp/vmlinuz.fake"
: > "$tmp/stw.ko"

# expect NAME BOOTS STATUS BOOTS_EXPECTED [SAYS [SMP]]: run.sh's main()
# on FAKE_BOOTS; SAYS, a text its output must have; SMP, STW_VM_SMP.
expect() {
	local name=$1 plays=$2 want_rc=$3 want_boots=$4 says=${5:-} rc boots
	local smp=${6:-}
	n=$((n + 1))
	rm -rf "$tmp/case"
	mkdir -p "$tmp/case/work"
	(
		export PATH="$tmp/bin:$PATH" FAKE_DIR=$tmp/case \
			FAKE_BOOTS=$plays STW_VM_DIR=$tmp/case/work \
			STW_VM_KERNEL=$tmp/vmlinuz.fake STW_KO=$tmp/stw.ko
		[ -z "$smp" ] || export STW_VM_SMP=$smp
		# shellcheck source=scripts/qemu/run.sh
		source "$top/scripts/qemu/run.sh"
		build_initramfs() { :; }
		boot_image() { :; }
		qemu_args() { args=(); }
		main --build "$tmp/case" --timeout 10 --cmd true
	) > "$tmp/case/out" 2>&1
	rc=$?
	boots=$(cat "$tmp/case/boots" 2>/dev/null || echo 0)
	if [ -n "$says" ] && ! grep -qF "$says" "$tmp/case/out"; then
		echo "not ok $n $name: its output does not say '$says'"
		sed 's/^/#   /' "$tmp/case/out"
		failed=1
	elif [ "$rc" = "$want_rc" ] && [ "$boots" = "$want_boots" ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name: exit $rc after $boots boots, not exit $want_rc after $want_boots"
		sed 's/^/#   /' "$tmp/case/out"
		failed=1
	fi
}

expect "a clean run passes on its first boot" "ok" 0 1
expect "a failing command fails, and is not run again" "fail" 1 1
expect "a kernel that resets silently before init is booted once more" "reset ok" 0 2
expect "a kernel that oopses before init is booted once more" "oops ok" 0 2
expect "a kernel that dies before init twice fails" "reset oops" 1 2
expect "an oops after init fails, and is not run again" "late-oops" 1 1
expect "a guest that hangs before init times out, and is not booted again" "hang" 1 1
expect "a guest that times out shows where its tasks waited" "stuck" 1 1 \
	"what the guest was doing before it timed out"
expect "a command that ends after init's last word still passes" "late" 0 1
expect "a guest of 1 CPU boots" "ok" 0 1 "" 1
expect "a guest of 0 CPUs is refused before any boot" "ok" 1 0 \
	"STW_VM_SMP=0: the guest's CPUs, a number from 1 to 99" 0
expect "a guest of 'two' CPUs is refused before any boot" "ok" 1 0 \
	"STW_VM_SMP=two: the guest's CPUs" two
exit $failed
