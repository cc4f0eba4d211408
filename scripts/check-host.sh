#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side checks of stw (make check-host), as root on Debian 12: what a
# user, a packager or a kernel developer does with the tree outside the
# test guest.
#
#   scripts/check-host.sh [BUILD_DIR]
#
# - `make` in a copy of the tree, with no build cache (no kselftest
#   headers): the module, the example client module and stwctl; warnings are
#   errors only with STW_WERROR=1;
# - the Makefile does not look up the guest kernel while it is parsed;
# - make install / uninstall, staged (DESTDIR) and for real (depmod);
# - stwctl(8) and stw(4): mandoc -T lint, every subcommand and option;
# - the bash completion: complete -p, COMPREPLY for a few command lines;
# - the world-modes diagram renders, and its committed SVG is up to date;
# - the guest runner's KCSAN sorter, on made-up logs;
# - DKMS: add, build, install against the headers linux-headers-amd64
#   depends on, remove;
# - the Debian packages: dpkg-buildpackage -us -uc -b, dpkg -c of both;
# - the selftests in a kernel tree: copied into linux-source-6.1's
#   tools/testing/selftests/stw/, built by the kernel's own Makefile,
#   installed, and listed by run_kselftest.sh; and built with clang.
#
# Installs the Debian packages it needs first (idempotent). Prints one
# 'ok N ...' or 'not ok N ...' line per check, then 'N passed, N failed';
# exits non-zero if a check failed. Logs are in BUILD_DIR/check-host/.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
work=$build/check-host
logs=$work/logs
n=0 passed=0 failed=0

say() { echo "# $*"; }

ok() { n=$((n + 1)) passed=$((passed + 1)); echo "ok $n $*"; }

not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n $*"
}

# check DESCRIPTION COMMAND...: run it, log its output, one TAP line.
check() {
	local what=$1 log
	shift
	log=$logs/$(printf '%02d' $((n + 1))).log
	if "$@" >"$log" 2>&1; then
		ok "$what"
	else
		not_ok "$what"
		sed 's/^/#   /' "$log" | tail -n 15
	fi
}

finish() {
	echo "$passed passed, $failed failed, 0 skipped"
	[ "$failed" -eq 0 ]
	exit
}

# ---------------------------------------------------------------------
# Setup: packages, the kernel version, a clean copy of the tree.

install_packages() {
	local p pkgs missing=()
	pkgs=(build-essential make gcc clang kmod pkg-config libnl-3-dev
	      libnl-genl-3-dev linux-headers-amd64 linux-source-6.1 xz-utils
	      rsync dkms debhelper dpkg-dev fakeroot mandoc bash-completion
	      graphviz git)
	# dh_dkms is its own package from dkms 3.0.10-5 on; older releases
	# ship it in dkms.  Captured, not piped into grep -q: with pipefail,
	# apt-cache killed by SIGPIPE when grep stops reading reads as "no".
	local policy status
	policy=$(apt-cache policy dh-dkms 2>/dev/null)
	[[ $policy == *"Candidate: "[0-9]* ]] && pkgs+=(dh-dkms)
	for p in "${pkgs[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
		[[ $status == *"ok installed"* ]] || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	say "installing ${missing[*]}"
	env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
	env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}"
}

if [ "$(id -u)" != 0 ]; then
	echo "check-host: run as root (it installs packages and modules)" >&2
	exit 2
fi
rm -rf "$work"
mkdir -p "$logs"
echo "TAP version 13"
if ! install_packages >"$logs/packages.log" 2>&1; then
	not_ok "install the packages the checks need"
	tail -n 20 "$logs/packages.log" | sed 's/^/#   /'
	finish
fi
# DKMS and the module build against the kernel linux-headers-amd64 is for.
kver=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
	sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p')
kdir=/usr/src/linux-headers-$kver
say "kernel $kver, headers $kdir"
version=$(cat "$top/VERSION")

# The tree as a fresh clone has it (tracked and new files, no build
# output), with an empty build directory: no kselftest headers.
src=$work/src
mkdir -p "$src"
(cd "$top" && git ls-files -co --exclude-standard -z |
	xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$src"

# ---------------------------------------------------------------------
# make, and the Makefile's first-run logic.

check "make in a fresh tree with no build cache: stw.ko, stw_bank.ko, stwctl" \
	make -C "$src" KDIR="$kdir" BUILD="$work/empty-build"
check "the modules and stwctl exist; no selftest was built" sh -c '
	cd "$1" && test -f module/stw.ko && test -f examples/stw_bank.ko &&
	test -x tools/stwctl/stwctl && test ! -e build/cache &&
	! ls selftests/*_test >/dev/null 2>&1' sh "$src"
check "stw_bank.ko depends on stw (KBUILD_EXTRA_SYMBOLS)" sh -c '
	test "$(modinfo -F depends "$1/examples/stw_bank.ko")" = stw' sh "$src"
check "stw.ko is built for $kver and has the probes parameter" sh -c '
	modinfo -F vermagic "$1/module/stw.ko" | grep -q "^$2 " &&
	modinfo -F parm "$1/module/stw.ko" | grep -q "^probes:"' sh "$src" "$kver"
check "a plain make does not use -Werror; STW_WERROR=1 does" sh -c '
	cd "$1" && ! grep -qE -- "-Werror( |\$)" module/.world.o.cmd &&
	touch module/world.c &&
	make -s KDIR="$2" STW_WERROR=1 module >/dev/null &&
	grep -qE -- "-Werror( |\$)" module/.world.o.cmd' sh "$src" "$kdir"

# dpkg-query stands in for the guest kernel lookup: reading the Makefile
# must not call it (make deps may not have installed the headers yet).
fake=$work/fakebin
mkdir -p "$fake"
printf '#!/bin/sh\necho called >> "%s/dpkg-query.calls"\nexit 1\n' "$work" \
	> "$fake/dpkg-query"
chmod +x "$fake/dpkg-query"
check "the Makefile looks the guest kernel up only when a recipe needs it" \
	sh -c 'PATH="$1:$PATH" make -s -C "$2" BUILD="$3/empty-build" help \
		>/dev/null && test ! -e "$3/dpkg-query.calls"' \
	sh "$fake" "$src" "$work"

# ---------------------------------------------------------------------
# make install / uninstall.

stage=$work/stage
check "make install DESTDIR=... PREFIX=/usr" \
	make -C "$src" KDIR="$kdir" DESTDIR="$stage" PREFIX=/usr install
check "installed: stw.ko in updates/, stwctl, man pages, completion; no bench or example module" \
	sh -c 'cd "$1" && test -f lib/modules/$2/updates/stw.ko &&
	test -x usr/sbin/stwctl && test -f usr/share/man/man8/stwctl.8 &&
	test -f usr/share/man/man4/stw.4 &&
	test -f usr/share/bash-completion/completions/stwctl &&
	test -z "$(find . -name stw_bench.ko -o -name stw_bank.ko)"' \
	sh "$stage" "$kver"
check "make uninstall DESTDIR=... removes every file it installed" sh -c '
	make -C "$1" KDIR="$2" DESTDIR="$3" PREFIX=/usr uninstall &&
	test -z "$(find "$3" -type f)"' sh "$src" "$kdir" "$stage"
check "make install for real: modinfo -k $kver finds updates/stw.ko (depmod ran)" \
	sh -c 'make -C "$1" KDIR="$2" PREFIX="$3/prefix" install &&
	test "$(modinfo -k "$4" -F filename stw)" = \
		"/lib/modules/$4/updates/stw.ko"' sh "$src" "$kdir" "$work" "$kver"
check "make uninstall for real: modinfo -k $kver no longer finds stw" \
	sh -c 'make -C "$1" KDIR="$2" PREFIX="$3/prefix" uninstall &&
	! modinfo -k "$4" stw' sh "$src" "$kdir" "$work" "$kver"

# ---------------------------------------------------------------------
# Man pages and completion.

check "mandoc -T lint: stwctl.8 and stw.4 are clean" sh -c '
	out=$(mandoc -T lint -W all "$1/Documentation/stwctl.8" \
		"$1/Documentation/stw.4" 2>&1) && test -z "$out" ||
	{ echo "$out"; exit 1; }' sh "$top"

# The subcommands stwctl --help lists and the long options its sources
# declare, each named in the man page and offered by the completion.
cmds=$("$src/tools/stwctl/stwctl" --help |
	sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
longopts=$(grep -ho '{ *"[a-z-]*", *\(no\|required\|optional\)_argument' \
	"$top"/tools/stwctl/*.c | sed 's/{ *"\([a-z-]*\)".*/\1/' | sort -u)
say "subcommands: $(echo $cmds); long options: $(echo $longopts)"
check "stwctl(8) documents every subcommand and option, -V, -p and the exit codes" \
	sh -c 'm=$1/Documentation/stwctl.8; shift; [ $# -gt 5 ] || exit 1
	plain=$(sed "s/\\\\//g" "$m")
	for c in "$@"; do case $c in --*) echo "$plain" | grep -q -- "$c\b" ;;
		*) grep -q "^\.SS $c\b" "$m" ;; esac || { echo "missing: $c"; exit 1; }
	done
	grep -q "BR \\\\-V \", \" \\\\-\\\\-version" "$m" &&
	grep -q "BR \\\\-p \", \" \\\\-\\\\-pretty" "$m" &&
	for s in 0 1 2 3 4; do grep -q "^\.B $s$" "$m" || exit 1; done' \
	sh "$top" $cmds $(printf -- '--%s ' $longopts)

comp=$top/completion/stwctl.bash
# compreply WORD...: COMPREPLY, sorted, for the command line WORD... with
# the cursor on the last word.
cat > "$work/compreply.sh" <<'EOF'
. "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_stwctl
[ ${#COMPREPLY[@]} -eq 0 ] ||
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort -u | tr '\n' ' '
EOF
compreply() { bash "$work/compreply.sh" "$comp" "$@"; }
check "bash completion: complete -p stwctl after sourcing it" \
	bash -c '. "$1" && complete -p stwctl | grep -q -- "-F _stwctl stwctl$"' \
	sh "$comp"
check "completion: 'stwctl <TAB>' offers every subcommand" sh -c '
	got=$1; shift; for c in "$@"; do
	case " $got " in *" $c "*) ;; *) echo "missing $c in: $got"; exit 1;; esac
	done' sh "$(compreply stwctl '')" $cmds
check "completion: 'stwctl -<TAB>' offers -j -p -w -V -h" \
	test "$(compreply stwctl -)" = "--help --json --pretty --version --world -V -h -j -p -w "
check "completion: 'stwctl st<TAB>' offers status stop step" \
	test "$(compreply stwctl st)" = "status step stop "
check "completion: 'stwctl stop --<TAB>' offers stop's options" \
	test "$(compreply stwctl stop --)" = "--help --json --keep-waiting --lease --timeout --world "
check "completion: an abbreviation 'stwctl res -<TAB>' completes resume's options" \
	test "$(compreply stwctl res -)" = "--force --help --hold --json --world -H -f -h -j -w "
check "completion: nothing after an option that takes a value (stop --timeout)" \
	test -z "$(compreply stwctl stop --timeout '')"
check "completion: spawn's options" \
	test "$(compreply stwctl -j spawn --)" = "--active --bursty --help --idle --json --nopoll --world "
check "completion: a world before the command ('stwctl -w pool stop --<TAB>', 'stwctl -jw pool wor -<TAB>')" \
	sh -c 'test "$1" = "--help --json --keep-waiting --lease --timeout --world " &&
	test "$2" = "--help --json --world -h -j -w "' \
	sh "$(compreply stwctl -w pool stop --)" "$(compreply stwctl -jw pool wor -)"
check "completion: every long option of the sources is offered" sh -c '
	comp=$1 work=$2; shift 2; all=
	for c in status stop hold resume step spawn kill job monitor worlds; do
		all="$all $(bash "$work/compreply.sh" "$comp" stwctl "$c" --)"
	done
	for o in "$@"; do case " $all " in *" --$o "*) ;;
		*) echo "missing --$o"; exit 1 ;; esac; done' \
	sh "$comp" "$work" $longopts

# ---------------------------------------------------------------------
# Documentation.

check "world-modes.dot renders, and the committed world-modes.svg is its rendering" \
	bash -c 'dot -Tsvg "$1/Documentation/world-modes.dot" > "$2/world-modes.svg" &&
	diff <(grep -v "^<!--" "$2/world-modes.svg") \
	     <(grep -v "^<!--" "$1/Documentation/world-modes.svg")' \
	bash "$top" "$work"
check "README and Documentation point to Documentation/design.md, not outside the tree" \
	sh -c 'cd "$1" && ! grep -n "\.\./shared\|DESIGN\.md" README.md \
		Documentation/* CHANGELOG.md && test -s Documentation/design.md &&
	grep -q "Documentation/design.md" README.md' sh "$top"
check "the guest's KCSAN sorter fails a race stw made and lists one inside kernel code stw called (scripts/qemu/kcsan-test.sh)" \
	"$top/scripts/qemu/kcsan-test.sh"
check "the guest runner boots again only when its kernel died before init, fails what failed, and shows where a timed-out guest waited (scripts/qemu/run-test.sh)" \
	"$top/scripts/qemu/run-test.sh"
check "litmus tests: each forbids an outcome (Result: Never, exists), is listed in their README, and what module/ cites exists" \
	sh -c 'cd "$1/Documentation/litmus" && n=0 &&
	for f in *.litmus; do
		grep -q "Result: Never" "$f" && grep -q "^exists (" "$f" &&
		grep -q "^P1(" "$f" && grep -q "\`$f\`" README.md ||
			{ echo "$f: no Result/exists/P1, or not in README.md"; exit 1; }
		n=$((n + 1))
	done && [ "$n" -ge 2 ] &&
	for f in $(grep -oh "Documentation/litmus/[a-z-]*\.litmus" \
			"$1"/module/*.c); do
		[ -f "$1/$f" ] || { echo "module/ cites $f, which is missing"; exit 1; }
	done' sh "$top"
check "versions agree: VERSION, stw.ko, stwctl, dkms.conf, debian/changelog, CHANGELOG.md ($version)" \
	sh -c 'cd "$1" && grep -q "^PACKAGE_VERSION=\"$2\"" dkms.conf &&
	test "$(modinfo -F version "$3/module/stw.ko")" = "$2" &&
	"$3/tools/stwctl/stwctl" --version | grep -q "^stwctl $2" &&
	test "$(dpkg-parsechangelog -S Version)" = "$2" &&
	grep -q "^## $2" CHANGELOG.md' sh "$top" "$version" "$src"

# ---------------------------------------------------------------------
# DKMS, against the installed headers.

dkms_clean() {
	dkms remove "stw/$version" --all >/dev/null 2>&1
	rm -rf "/usr/src/stw-$version"
}
dkms_clean
check "dkms: the source tree (make install-dkms-src) and dkms add" sh -c '
	make -C "$1" install-dkms-src && dkms add -m stw -v "$2"' \
	sh "$src" "$version"
check "dkms build -k $kver (no -Werror)" sh -c '
	dkms build -m stw -v "$1" -k "$2" &&
	! grep -qE -- "-Werror( |\$)" /var/lib/dkms/stw/$1/build/module/.world.o.cmd' \
	sh "$version" "$kver"
check "dkms install -k $kver: modinfo finds updates/dkms/stw.ko" sh -c '
	dkms install -m stw -v "$1" -k "$2" &&
	dkms status stw | grep -q "installed" &&
	modinfo -k "$2" -F filename stw | grep -q "/updates/dkms/stw.ko"' \
	sh "$version" "$kver"
check "dkms remove --all: the module is gone" sh -c '
	dkms remove "stw/$1" --all && ! modinfo -k "$2" stw &&
	test -z "$(dkms status stw)"' sh "$version" "$kver"
dkms_clean

# ---------------------------------------------------------------------
# Debian packages.

deb=$work/deb
mkdir -p "$deb/src"
(cd "$top" && git ls-files -co --exclude-standard -z |
	xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$deb/src"
check "dpkg-buildpackage -us -uc -b builds stw-dkms and stwctl" sh -c '
	cd "$1/src" && dpkg-buildpackage -us -uc -b &&
	test -f "../stw-dkms_$2_all.deb" && ls ../stwctl_"$2"_*.deb' \
	sh "$deb" "$version"
dkms_deb=$deb/stw-dkms_${version}_all.deb
ctl_deb=$(ls "$deb"/stwctl_"${version}"_*.deb 2>/dev/null | head -n1)
check "dpkg -c stw-dkms: dkms.conf, module/ and uapi/ sources under /usr/src/stw-$version, nothing built" \
	sh -c 'c=$(dpkg -c "$1" | awk "{print \$6}") && d=./usr/src/stw-$2 &&
	for f in dkms.conf LICENSE module/Kbuild module/world.c module/stw.h \
		uapi/stw.h uapi/stw_probe.h; do
		echo "$c" | grep -qx "$d/$f" || { echo "missing $d/$f"; exit 1; }
	done
	! echo "$c" | grep -E "\.(ko|o|mod\.c)$|bench|examples|stwctl"' \
	sh "$dkms_deb" "$version"
check "dpkg -c stwctl: stwctl, its man pages, the completion; no DKMS" \
	sh -c 'c=$(dpkg -c "$1" | awk "{print \$6}") &&
	for f in usr/sbin/stwctl usr/share/man/man8/stwctl.8.gz \
		usr/share/man/man4/stw.4.gz \
		usr/share/bash-completion/completions/stwctl; do
		echo "$c" | grep -qx "./$f" || { echo "missing $f"; exit 1; }
	done
	! echo "$c" | grep -q "usr/src" &&
	! dpkg -I "$1" | grep -q "Depends:.*dkms"' sh "$ctl_deb"
check "stw-dkms depends on dkms and runs it from its maintainer scripts" \
	sh -c 'dpkg -I "$1" | grep -q "Depends:.*dkms" &&
	dpkg-deb -e "$1" "$2/dkms-control" && grep -q dkms "$2/dkms-control/postinst"' \
	sh "$dkms_deb" "$deb"

# ---------------------------------------------------------------------
# The selftests as a kernel selftest target.

linux=$work/linux
ksft=$linux/tools/testing/selftests
tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n1)
check "extract linux-source-6.1's selftests framework" sh -c '
	mkdir -p "$1" && tar -xf "$2" -C "$1" --strip-components=1 \
		--wildcards "*/tools/testing/selftests/*" \
		"*/scripts/subarch.include"' sh "$linux" "$tarball"
# What the tests take from elsewhere in the stw tree goes beside them.
mkdir -p "$ksft/stw/uapi" "$ksft/stw/lib"
cp "$src"/selftests/* "$ksft/stw/" 2>/dev/null
cp "$src"/uapi/*.h "$ksft/stw/uapi/"
[ ! -d "$src/lib" ] || cp "$src"/lib/*.[ch] "$ksft/stw/lib/"
[ ! -f "$src/Documentation/stwctl-json.md" ] ||
	cp "$src/Documentation/stwctl-json.md" "$ksft/stw/"
tests=$(cd "$src/selftests" && ls *_test.c *_test.sh | sed 's/\.c$//')
say "tests: $(echo $tests)"
check "make -C tools/testing/selftests TARGETS=stw builds every *_test" \
	sh -c 'k=$1; shift; make -C "$k" TARGETS=stw FORCE_TARGETS=1 &&
	for t in "$@"; do case $t in *.sh) ;; *)
		test -x "$k/stw/$t" || { echo "not built: $t"; exit 1; } ;;
	esac; done' sh "$ksft" $tests
check "make's '%: %.sh' rule does not shadow the kselftest run_tests" \
	sh -c '! make -n -C "$1/stw" run_tests | grep -q "run_tests.sh"' sh "$ksft"
check "make ... TARGETS=stw install: run_kselftest.sh --list names every test" \
	sh -c 'k=$1 i=$2; shift 2; make -C "$k" TARGETS=stw FORCE_TARGETS=1 \
		KSFT_INSTALL_PATH="$i" install &&
	list=$("$i/run_kselftest.sh" --list) && echo "$list" &&
	for t in "$@"; do echo "$list" | grep -qx "stw:$t" ||
		{ echo "not listed: stw:$t"; exit 1; }; done' \
	sh "$ksft" "$work/ksft-install" $tests
check "the installed target has config and settings" sh -c '
	test -f "$1/stw/settings" && grep -q "^timeout=" "$1/stw/settings" &&
	test -f "$1/stw/config" && grep -q "^CONFIG_NET=y" "$1/stw/config"' \
	sh "$work/ksft-install"
check "the selftests build with CC=clang (standalone)" sh -c '
	mkdir -p "$2/ksft-headers" &&
	cp "$3/kselftest_harness.h" "$3/kselftest.h" "$2/ksft-headers/" &&
	make -C "$1/selftests" clean &&
	make -C "$1/selftests" CC=clang KSFT_DIR="$2/ksft-headers" 2>&1 |
		tee "$2/clang.log" && ls "$1"/selftests/*_test >/dev/null' \
	sh "$src" "$work" "$ksft"
warnings=$(grep -c 'warning:' "$work/clang.log" 2>/dev/null)
say "clang warnings: ${warnings:-0} (see $work/clang.log)"
grep 'warning:' "$work/clang.log" 2>/dev/null | sed 's/^/#   /'

finish
