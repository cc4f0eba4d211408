#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run one command or script in a QEMU guest that boots the test kernel with
# stw.ko loaded, and turn what happened into one exit status.  Modelled on
# the kernel's tools/testing/selftests/wireguard/qemu.
#
#   scripts/qemu/run.sh --build BUILD_DIR [--accel tcg|kvm] --timeout SEC
#                       [--kernel PATH] (--cmd 'SHELL COMMAND' | --script PATH)
#
# --kernel is the guest kernel's bzImage (default: STW_VM_KERNEL, else
# BUILD_DIR/cache/kernel/vmlinuz, the Debian kernel of `make deps`).
#
# The guest has three serial ports:
#   ttyS0  kernel console and /init's messages  -> BUILD_DIR/guest/console.log
#   ttyS1  the command's stdout and stderr      -> our stdout, live
#   ttyS2  the command's exit status            -> BUILD_DIR/guest/verdict
#
# The exit status is the guest command's, unless the guest timed out, QEMU
# failed, no verdict came back, or the kernel log shows a warning, BUG, oops,
# lockup, hung task or RCU stall: then it is non-zero and the reason is
# printed on stderr.  KCSAN reports (KERNEL=kcsan) are sorted by
# scripts/qemu/kcsan.sh: one stw made (or stw racing with itself) fails the
# run, one inside kernel code stw called or only in other kernel code is
# listed (see there; KCSAN_STW_FAIL=0 lists stw's too without failing).
#
# Environment:
#   STW_KO             module to load as stw.ko (default module/stw.ko)
#   STW_SELFTESTS_DIR  where the selftests come from (default selftests/)
#   STW_STWCTL         the stwctl to install (default tools/stwctl/stwctl)
#   STW_VM_EXTRA       host files or directories to copy into the guest at
#                      the same paths, with the shared libraries of the
#                      ELF files among them (space-separated; make valgrind)
#   STW_VM_ALLOW_WARN  1: 'WARNING:' and 'Call Trace' in the kernel log are
#                      not fatal (mutant builds whose WARN_ONCE is expected)
#   STW_VM_DIR         work directory (default BUILD_DIR/guest), to run
#                      several guests at once
#   STW_VM_MEM         guest memory (default 2G)
#   STW_VM_SMP         guest CPUs (default 2). make explore SMP=1: the
#                      explorer runs one thread at a time anyway, and under
#                      emulation a wakeup sent to another CPU is dear (its
#                      long runs go 2 to 3 times faster on one)
#   STW_VM_KERNEL      the guest kernel, as --kernel
#   STW_VM_APPEND      more kernel parameters (KERNEL=kcsan: its sampling)
#   STW_VM_BZIMAGE     1: boot vmlinuz itself, not the vmlinux decompressed
#                      from it (see boot_image)
#   STW_VM_PYTHON      1: the guest gets /usr/bin/python3 and the modules of
#                      it that scripts/ynl/python-files.py lists (make
#                      check-ynl): the initramfs grows from 14 to 29 MB
#   STW_VM_YNL         a directory copied to /stw/ynl (make check-ynl: ynl's
#                      cli.py, its lib/ and the spec)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)

build= accel=tcg timeout= cmd= script= kernel=

# What counts as the kernel reporting a problem (extended regex).  The
# debug kernel's reports too (make check-debug): lockdep's (fatal even with
# STW_VM_ALLOW_WARN), debug objects', list debugging's, kmemleak's failures
# and the leak reports scripts/kernels/guest-check-debug.sh copies to the
# kernel log, but not kmemleak's boot line nor its 'N new suspected memory
# leaks' (a first scan's suspicion: that script decides).
fatal_re='BUG:|kernel BUG at|Oops|invalid opcode:|general protection fault|[Kk]ernel panic|blocked for more than|soft lockup|hard LOCKUP|rcu.*detected stall|KASAN|UBSAN|lockdep|possible circular locking'
fatal_re+='|WARNING: (possible|inconsistent|suspicious|bad unlock|held lock|lock held|Nested lock)|\*\*\* DEADLOCK \*\*\*|ODEBUG:|list_[a-z_]* corruption'
fatal_re+='|unreferenced object 0x|kmemleak: .*([Cc]annot|disabled|pool empty)'
warn_re='WARNING:|Call Trace'
# Lines that match the above and are no problem: the debug kernel's banners.
benign_re='RCU lockdep checking is enabled'

say() { echo "stw-vm: $*" >&2; }
die() { say "$*"; exit 1; }

usage() {
	sed -n '/^#   scripts/,/^#  *(--cmd/s/^# \{0,3\}//p' "$0" >&2
	exit 2
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--build)   build=${2:?}; shift 2 ;;
		--accel)   accel=${2:?}; shift 2 ;;
		--kernel)  kernel=${2:?}; shift 2 ;;
		--timeout) timeout=${2:?}; shift 2 ;;
		--cmd)     cmd=${2?}; shift 2 ;;
		--script)  script=${2:?}; shift 2 ;;
		-h|--help) usage ;;
		*) say "unknown argument '$1'"; usage ;;
		esac
	done
	[ -n "$build" ] || { say "--build is required"; usage; }
	[[ $timeout =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ] ||
		{ say "--timeout SECONDS is required"; usage; }
	case $accel in tcg|kvm) ;; *) die "--accel must be tcg or kvm" ;; esac
	[[ ${STW_VM_SMP:-2} =~ ^[1-9][0-9]?$ ]] ||
		die "STW_VM_SMP=$STW_VM_SMP: the guest's CPUs, a number from 1 to 99"
	if [ -n "$cmd" ] && [ -n "$script" ] || [ -z "$cmd$script" ]; then
		say "give exactly one of --cmd and --script"; usage
	fi
	if [ -n "$script" ]; then
		[ -f "$script" ] || die "no such script: $script"
	fi
}

# Every path below is absolute: we cd nowhere, but QEMU and cpio need it.
set_paths() {
	mkdir -p "$build"
	build=$(cd "$build" && pwd)
	kernel=${kernel:-${STW_VM_KERNEL:-$build/cache/kernel/vmlinuz}}
	work=${STW_VM_DIR:-$build/guest}
	root=$work/root
	initrd=$work/initramfs.cpio
	console=$work/console.log
	verdict=$work/verdict
	ko=${STW_KO:-$top/module/stw.ko}
	tests_dir=${STW_SELFTESTS_DIR:-$top/selftests}
	stwctl=${STW_STWCTL:-$top/tools/stwctl/stwctl}
	[ -s "$kernel" ] || die "no guest kernel at $kernel (run: make deps)"
	[ -f "$ko" ] || die "no module at $ko (run: make guest)"
}

# install SRC DEST: copy SRC into the guest's root at DEST, keeping the mode.
install_file() {
	mkdir -p "$root$(dirname "$2")"
	cp -L "$1" "$root$2"
}

is_elf() {
	[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}

# The shared libraries an ELF binary needs, and the dynamic loader, at the
# same paths as on the host: the guest's loader then finds them in its
# built-in search path, no ld.so.cache needed.
install_libs() {
	local bin=$1 line lib
	is_elf "$bin" || return 0
	while read -r line; do
		case $line in
		*"not found"*) die "$bin needs ${line%% *}, not found on the host" ;;
		*"not a dynamic executable"*|*statically*) return 0 ;;
		esac
		for lib in $line; do
			case $lib in /*) [ -e "$root$lib" ] || install_file "$lib" "$lib" ;; esac
		done
	done < <(ldd "$bin" 2>&1 || true)
}

stage_busybox() {
	local bb
	bb=$(command -v busybox) || die "busybox not found (apt install busybox-static)"
	install_file "$bb" /bin/busybox
	# /init starts with '#!/bin/busybox sh' and installs the applet links
	# itself; a dynamically linked busybox would need its libraries too.
	install_libs "$root/bin/busybox"
	install_file "$top/scripts/qemu/init" /init
	chmod 755 "$root/init"
}

stage_stw() {
	install_file "$ko" /stw/stw.ko
	if [ -x "$stwctl" ]; then
		install_file "$stwctl" /usr/bin/stwctl
		install_libs "$stwctl"
	else
		say "note: $stwctl is not built; the guest has no stwctl"
	fi
}

# Every executable in the selftests directory (the *_test binaries and the
# shell scripts), and our scripts/*.sh.
stage_tests() {
	local f n=0
	if [ -d "$tests_dir" ]; then
		for f in "$tests_dir"/*; do
			[ -f "$f" ] && [ -x "$f" ] || continue
			install_file "$f" "/stw/selftests/${f##*/}"
			install_libs "$f"
			n=$((n + 1))
		done
	fi
	[ "$n" -gt 0 ] || say "note: no executables in $tests_dir"
	# The selftests' own client modules, built with stw.ko.
	for f in "$(dirname "$ko")"/../selftests/modules/*.ko; do
		[ -f "$f" ] && install_file "$f" "/stw/selftests/modules/${f##*/}"
	done
	for f in "$top"/scripts/*.sh; do
		[ -f "$f" ] && install_file "$f" "/stw/scripts/${f##*/}"
	done
}

# The bench (make bench), when built: stw_bench.ko, built with stw.ko, and
# the bench's user-space executables, at /stw/bench/. Only scripts/bench.sh
# loads the module.
stage_bench() {
	local f bench_ko
	bench_ko=$(dirname "$ko")/../bench/stw_bench.ko
	[ ! -f "$bench_ko" ] || install_file "$bench_ko" /stw/bench/stw_bench.ko
	for f in "$top"/bench/*; do
		[ -f "$f" ] && [ -x "$f" ] && is_elf "$f" || continue
		case $f in *.ko) continue ;; esac
		install_file "$f" "/stw/bench/${f##*/}"
		install_libs "$f"
	done
}

# The example client modules (examples/*.ko, built with stw.ko), at
# /stw/examples/, for selftests/example*_test.sh.
stage_examples() {
	local f
	for f in "$(dirname "$ko")"/../examples/*.ko; do
		[ ! -f "$f" ] || install_file "$f" "/stw/examples/${f##*/}"
	done
}

# STW_VM_EXTRA: host paths copied at the same paths, with their libraries.
stage_extra() {
	local p f
	for p in ${STW_VM_EXTRA:-}; do
		[ -e "$p" ] || die "STW_VM_EXTRA: no $p on the host"
		while read -r f; do
			install_file "$f" "$f"
			install_libs "$f"
		done < <(find "$p" -type f -o -type l)
	done
}

# Opt-in (STW_VM_PYTHON=1, STW_VM_YNL=DIR): Python, at the host's paths,
# with only the modules ynl's cli.py loads, and ynl itself at /stw/ynl.
stage_python() {
	local f list py=/usr/bin/python3
	if [ -n "${STW_VM_YNL:-}" ]; then
		[ -f "$STW_VM_YNL/cli.py" ] || die "STW_VM_YNL: no cli.py in $STW_VM_YNL"
		mkdir -p "$root/stw/ynl"
		cp -RLp "$STW_VM_YNL/." "$root/stw/ynl/"
	fi
	[ "${STW_VM_PYTHON:-0}" = 1 ] || return 0
	[ -x $py ] || die "STW_VM_PYTHON=1: no $py (apt install python3)"
	[ -n "${STW_VM_YNL:-}" ] || die "STW_VM_PYTHON=1 needs STW_VM_YNL"
	list=$($py "$top/scripts/ynl/python-files.py" "$STW_VM_YNL") ||
		die "scripts/ynl/python-files.py failed"
	# One tar for the ~400 files, keeping their times (else every .pyc
	# is stale and recompiled); ldd for the ELF ones only.
	printf '%s\n' "$list" | sed 's,^/,,' | tar -C / -chf - -T - |
		tar -C "$root" -xf -
	for f in $list; do
		case $f in *.so|/usr/bin/*) install_libs "$f" ;; esac
	done
	[ -e "$root$py" ] || ln -s "$(basename "$(readlink -f $py)")" "$root$py"
}

# The command goes into the initramfs as a file, not on the kernel command
# line: no quoting or length trouble.
stage_command() {
	local name
	mkdir -p "$root/stw"
	if [ -n "$script" ]; then
		name=${script##*/}
		case $name in stw.ko|cmd|selftests|scripts|bench|examples)
			die "--script: rename $name, it clashes with a file in /stw" ;;
		esac
		install_file "$script" "/stw/$name"
		printf 'exec sh /stw/%s\n' "$name" > "$root/stw/cmd"
	else
		printf '%s\n' "$cmd" > "$root/stw/cmd"
	fi
	# For init's last word before the host gives up on the guest.
	echo "$timeout" > "$root/stw/timeout"
}

# bzimage_u32 OFFSET / bzimage_u8 OFFSET: a field of the bzImage's header.
bzimage_u32() { od -An -tu4 -j "$1" -N4 "$kernel" | tr -d ' '; }
bzimage_u8() { od -An -tu1 -j "$1" -N1 "$kernel" | tr -d ' '; }

# Debian's vmlinuz is XZ-compressed (6.12's: zstd), and its decompressor
# takes ~2 s of the ~4 s a TCG boot lasts.  The kernel has CONFIG_PVH, so
# QEMU can boot the uncompressed ELF directly: decompress it once, next to
# vmlinuz, and boot that (a vmlinux there that is not older than vmlinuz is
# booted as is).  Falls back to vmlinuz if anything about it looks wrong, or
# if STW_VM_BZIMAGE=1.
boot_image() {
	local elf=${kernel%/*}/vmlinux setup off len unz
	image=$kernel
	[ "${STW_VM_BZIMAGE:-0}" != 1 ] || return 0
	if [ ! -s "$elf" ] || [ "$elf" -ot "$kernel" ]; then
		# Header: setup_sects at 0x1f1; payload_offset, payload_length at
		# 0x248, 0x24c, counted from the end of the setup sectors.
		setup=$(bzimage_u8 $((0x1f1)))
		[ "$setup" != 0 ] || setup=4
		off=$(( (setup + 1) * 512 + $(bzimage_u32 $((0x248))) ))
		len=$(bzimage_u32 $((0x24c)))
		# The payload ends with its uncompressed size, 4 bytes, which
		# xz --single-stream ignores and zstd does not.
		case $(od -An -tx1 -j "$off" -N4 "$kernel" | tr -d ' ') in
		28b52ffd) unz='zstd -dcq'; len=$((len - 4)) ;;
		*)        unz='xz -dc --single-stream' ;;
		esac
		if dd if="$kernel" iflag=skip_bytes,count_bytes skip="$off" \
		      count="$len" status=none |
		   $unz > "$elf.tmp.$$" 2>/dev/null &&
		   is_elf "$elf.tmp.$$"; then
			mv "$elf.tmp.$$" "$elf"
		else
			rm -f "$elf.tmp.$$"
			say "note: cannot decompress $kernel; booting it as is (slower)"
			return 0
		fi
	fi
	image=$elf
}

# Uncompressed: the guest unpacks it faster than it would gunzip it.
build_initramfs() {
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,stw}
	stage_busybox
	stage_stw
	stage_tests
	stage_bench
	stage_examples
	stage_extra
	stage_python
	stage_command
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
		> "$initrd"
}

# QEMU splits option values at commas; a literal comma is written twice.
qemu_path() { printf '%s' "${1//,/,,}"; }

# tsc=reliable: no clocksource watchdog. Under emulation it finds the TSC
# skewed now and then and marks it unstable, which flips sched_clock's
# static key while threads run through it: live text patching, which
# Linux 6.12 does not survive under multi-threaded TCG (README.md, "Other
# kernels"; seen as an int3 Oops in sched_clock_cpu).
qemu_args() {
	local mem=${STW_VM_MEM:-2G}
	args=(-nodefaults -no-user-config -machine pc -smp "${STW_VM_SMP:-2}" -m "$mem"
	      -display none -no-reboot
	      -kernel "$image" -initrd "$initrd"
	      -append "console=ttyS0 preempt=full panic=-1 rdinit=/init printk.devkmsg=on tsc=reliable${STW_VM_APPEND:+ $STW_VM_APPEND}"
	      -chardev "file,id=console,path=$(qemu_path "$console")"
	      -serial chardev:console
	      -chardev stdio,id=output -serial chardev:output
	      -chardev "file,id=verdict,path=$(qemu_path "$verdict")"
	      -serial chardev:verdict)
	if [ "$accel" = kvm ]; then
		[ -r /dev/kvm ] && [ -w /dev/kvm ] ||
			die "--accel kvm: /dev/kvm is missing or not accessible"
		args+=(-accel kvm -cpu host)
	else
		args+=(-accel tcg)
	fi
}

# Run QEMU under timeout(1) in the background so that a signal to us
# (Ctrl-C, a CI job's kill) can stop it instead of leaving it running.
# --foreground keeps QEMU in our process group, so Ctrl-C reaches it too.
# stdin is /dev/null: QEMU's stdio backend would otherwise put the terminal
# in raw mode and read from it.
run_qemu() {
	local pid rc
	interrupted=0
	rm -f "$console" "$verdict"
	qemu_args
	timeout --foreground -k 10 "$timeout" \
		qemu-system-x86_64 "${args[@]}" </dev/null &
	pid=$!
	trap 'interrupted=1; kill -TERM '"$pid"' 2>/dev/null || true' INT TERM HUP
	while :; do
		rc=0
		wait "$pid" || rc=$?
		kill -0 "$pid" 2>/dev/null || break
	done
	trap - INT TERM HUP
	qemu_rc=$rc
}

# The kernel log without what stw writes on purpose: the stacks of the VMs
# that made a stop time out ("did not stop within", as the freezer's
# "refusing to freeze"), each up to its </TASK>; and the warning about an
# owner that forgot to detach its VM, for the VMs the selftests forget on
# purpose (stw_attachmod forget=1 names them "forgetful"), up to its end;
# and init's last word before a time-out (its blocked tasks' Call Traces),
# to the end of the log: a run that still finished in time is not failed
# for it.
console_reports() {
	awk '/stw-init: about to time out/ { exit }
	     /stw: .* did not stop within [0-9]+ ms:/ { skip = 1 }
	     skip == 1 && /<\/TASK>/ { skip = 0; next }
	     /stw: VM forgetful-[0-9]+ of world .*: its thread exited while attached/ { skip = 2 }
	     skip == 2 && /---\[ end trace/ { skip = 0; next }
	     !skip' "${1:-$console}" | grep -vE "$benign_re"
}

# Print the kernel log's problem reports with context; return 1 if any.
# KCSAN's reports go to scripts/qemu/kcsan.sh, the rest of the log to the
# rules above.
check_console() {
	local re=$fatal_re log=$console kcsan_rc=0
	[ -f "$console" ] || return 0
	[ "${STW_VM_ALLOW_WARN:-0}" = 1 ] || re="$re|$warn_re"
	if grep -q 'BUG: KCSAN: ' "$console"; then
		log=$work/console-no-kcsan.log
		STW_VM_FATAL_RE=$re "$top/scripts/qemu/kcsan.sh" "$console" \
			"$log" "$work/kcsan.log" "$ko" "${kernel%/*}/build" ||
			kcsan_rc=1
	fi
	# Not grep -q: under pipefail, its early exit would fail the pipe.
	console_reports "$log" | grep -E "$re" >/dev/null || return $kcsan_rc
	say "kernel reported problems:"
	grep -nE -B 3 -A 20 "$re" "$log" | head -n 400 >&2 || true
	return 1
}

tail_console() {
	[ -f "$console" ] || { say "no console log"; return 0; }
	say "last lines of the kernel console:"
	tail -n 40 "$console" >&2
}

# What init said of its threads as the guest was about to time out (see
# last_word in scripts/qemu/init): which one waits where.
last_word() {
	[ -f "$console" ] && grep -q 'stw-init: about to time out' "$console" ||
		return 1
	say "what the guest was doing before it timed out:"
	sed -n '/stw-init: about to time out/,$p' "$console" | head -n 300 >&2
}

# The guest writes the command's exit status, or 'error MESSAGE', to ttyS2.
# Sets status; returns 1 if there is no usable verdict.
read_verdict() {
	local v
	v=$(tr -d '\r' < "$verdict" 2>/dev/null | head -n 1) || true
	case $v in
	'')       say "the guest reported no exit status"; return 1 ;;
	error\ *) say "guest: ${v#error }"; return 1 ;;
	*[!0-9]*) say "garbled verdict '$v'"; return 1 ;;
	esac
	status=$v
}

# Decide the exit status: the guest command's, if nothing else went wrong.
finish() {
	local ok=1 status=
	if [ "$interrupted" = 1 ]; then
		say "interrupted"; ok=0
	elif [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
		say "guest timed out after $timeout s"; ok=0
		last_word || tail_console
	elif [ "$qemu_rc" != 0 ]; then
		say "qemu failed with status $qemu_rc"; ok=0
	elif ! read_verdict; then
		ok=0
		tail_console
	fi
	check_console || ok=0
	if [ "$ok" = 1 ] && [ "$status" = 0 ]; then
		exit 0
	fi
	[ "$ok" = 0 ] || say "guest command exited with status $status"
	say "kernel console log: $console"
	[ "$ok" = 1 ] && exit "$status"
	exit 1
}

# Whether the guest's kernel died before our init ran: a console log
# without init's first line, and either a crash report in it or a guest
# that ended on its own without a word (-no-reboot turns a reset into an
# exit: a triple fault prints nothing). Nothing of ours had run yet. Seen
# under TCG once in a while: an int3 Oops in populate_rootfs on 6.12-rt,
# and a silent reset on the KCSAN kernel as it freed its init memory.
crashed_before_init() {
	[ "$interrupted" = 0 ] && [ -f "$console" ] &&
	! grep -q 'stw-init: ' "$console" || return 1
	grep -qE 'Oops|[Kk]ernel panic|BUG:|general protection fault' \
		"$console" && return 0
	[ "$qemu_rc" = 0 ] && ! [ -s "$verdict" ]
}

main() {
	parse_args "$@"
	set_paths
	mkdir -p "$work"
	build_initramfs
	boot_image
	run_qemu
	if crashed_before_init; then
		cp "$console" "$work/console-boot1.log"
		say "the guest kernel crashed or reset while booting, before init ran" \
		    "(log: $work/console-boot1.log); booting once more"
		run_qemu
	fi
	finish
}

# Sourced, it only defines: scripts/qemu/run-test.sh tries main() on a
# made-up QEMU.
[ "${BASH_SOURCE[0]}" != "$0" ] || main "$@"
