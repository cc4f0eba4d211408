#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sort the KCSAN reports of a guest's kernel log (scripts/qemu/run.sh calls
# this when the log has any).  A frame is stw's if it is of module stw
# ('[stw]') or of a symbol stw_*.  Each access of a report has a stack; its
# top frame is the code that made the access.
#
#   stw     an access was made by stw (its top frame is stw's), or every
#           access's stack names stw (stw racing with itself, through
#           kernel code it called): fails the run.
#   kernel  the accesses were made by other kernel code, one of them on
#           behalf of stw (a caller is stw's), the other not at all: a race
#           inside that code, which stw only used.  The known one is the
#           workqueue's: queue_work_on() sets the PENDING bit atomically
#           while process_one_work() of the same, still pending, work reads
#           the word plainly (6.1 and 6.12 alike).  Listed; does not fail.
#   other   no stack names stw: listed; does not fail.
#
# An access made by an interrupt has, under the interrupt's entry frame
# (asm_*), the frames of the code it interrupted: those are not the
# access's, and do not count.
#
#   scripts/qemu/kcsan.sh CONSOLE REST REPORTS [KO [KSRC]]
#
# CONSOLE  the kernel log
# REST     written: the log without the KCSAN reports, for run.sh's other
#          rules (a line of a report that matches STW_VM_FATAL_RE, e.g. a
#          WARNING printed by another CPU in its middle, stays in REST)
# REPORTS  written: every KCSAN report, whole
# KO, KSRC stw.ko and the kernel's source tree: the top stw frames of each
#          distinct stw report get their file:line (scripts/faddr2line; the
#          module needs debug info, which the Makefile gives it for
#          KERNEL=kcsan)
#
# Prints, on stderr, one line per distinct report (its title, 'data-race in
# A / B', its kind and how many times it showed), with the accesses of each
# stw and kernel one.
# Exits 1 if any report is stw's, unless KCSAN_STW_FAIL=0 (for a trial run
# that wants to see what else happens: the default is to fail).
set -euo pipefail

console=$1 rest=$2 reports=$3 ko=${4:-} ksrc=${5:-}
: > "$rest"
fatal=${STW_VM_FATAL_RE:-}

say() { echo "stw-vm: $*" >&2; }

# One pass: REST and REPORTS, and on stdout one record per report:
#   R<TAB>stw|other<TAB>title
#   A<TAB>access line        (each 'read/write ... by task N on cpu C:')
#   F<TAB>frame              (the first stw frame under that access)
awk -v rest="$rest" -v reports="$reports" -v fatal="$fatal" '
function strip(s) { sub(/\r$/, "", s); sub(/^\[ *[0-9]+\.[0-9]+\] /, "", s); return s }
function isstw(l) { return l ~ /\[stw\]/ || l ~ /^ *stw_[A-Za-z0-9_.]*\+0x/ }
function flush(   i, kind) {
	# naccess accesses; ntop of them made by stw; nnamed name stw at all
	if (ntop > 0 || (nnamed > 0 && nnamed == naccess)) kind = "stw"
	else if (nnamed > 0) kind = "kernel"
	else kind = "other"
	print "R\t" kind "\t" title
	for (i = 1; i <= n; i++) print rec[i]
	inblock = 0; n = 0
}
{
	line = strip($0)
	# A report starts with a line of "=" before its title: hold it back.
	if (!inblock && line ~ /^=+$/) {
		if (held != "") print held > rest
		held = $0; next
	}
	if (!inblock && line ~ /^BUG: KCSAN: /) {
		held = ""
		inblock = 1; n = 0; want_frame = 0
		naccess = 0; ntop = 0; nnamed = 0; named = 0
		title = line; sub(/^BUG: KCSAN: /, "", title)
		print "==================================================================" > reports
		print $0 > reports
		next
	}
	if (held != "") { print held > rest; held = "" }
	if (!inblock) { print $0 > rest; next }
	print $0 > reports
	if (line ~ /^=+$/) { flush(); print "" > reports; next }
	if (fatal != "" && line ~ fatal) print $0 > rest
	if (line ~ /^(read|write|race).* on cpu [0-9]+:$/) {
		rec[++n] = "A\t" line; want_frame = 1; own = 1
		naccess++; top = 1; named = 0
	} else if (line == "") {
		want_frame = 0; own = 0; top = 0
	} else if (own && line ~ /^ *asm_[a-z_]+\+0x/) {
		own = 0	# below: what the interrupt interrupted
	} else if (own && line ~ /^ *[A-Za-z_][A-Za-z0-9_.]*\+0x/) {
		if (isstw(line)) {
			if (top) ntop++
			if (!named) { nnamed++; named = 1 }
			if (want_frame) {
				sub(/^ +/, "", line)
				rec[++n] = "F\t" line; want_frame = 0
			}
		}
		top = 0
	}
}
END { if (inblock) flush(); if (held != "") print held > rest }' "$console" > "$rest.records"

# Each distinct (kind, title) once, in order of appearance, with its count:
# a title seen as stw's once is stw's, whatever its other occurrences were.
declare -A count kind
order=()
while IFS=$'\t' read -r tag a b; do
	[ "$tag" = R ] || continue
	key="$a $b"
	[ -n "${count[$key]:-}" ] || { order+=("$key"); count[$key]=0; kind[$key]=$a; }
	count[$key]=$((count[$key] + 1))
done < "$rest.records"

faddr() {	# faddr FRAME: its file:line in stw.ko, or nothing
	local f=$1 sym
	[ -n "$ko" ] && [ -x "$ksrc/scripts/faddr2line" ] || return 0
	case $f in *"[stw]"*) ;; *) return 0 ;; esac
	sym=${f%% *}
	"$ksrc/scripts/faddr2line" "$ko" "$sym" 2>/dev/null |
		sed -n 's|^.* at \(.*\)$|\1|p' | sed 's|^.*/module/|module/|' |
		paste -sd ';' -
}

# accesses KIND TITLE: the first such report's accesses, each with its
# first stw frame (and that frame's file:line in stw.ko).
accesses() {
	awk -F'\t' -v kind="$1" -v title="$2" '
		$1 == "R" { if (done) exit; mine = ($2 == kind && $3 == title)
			    if (mine) done = 1; next }
		mine' "$rest.records" |
	while IFS=$'\t' read -r tag text; do
		if [ "$tag" = A ]; then
			say "    $text"
		else
			loc=$(faddr "$text")
			say "      ${text}${loc:+  ($loc)}"
		fi
	done
}

nstw=0 nkernel=0 nother=0
for key in "${order[@]}"; do
	k=${kind[$key]} title=${key#* }
	case $k in
	stw)	nstw=$((nstw + 1))
		say "KCSAN [stw] ${count[$key]}x: $title"
		accesses "$k" "$title" ;;
	kernel)	nkernel=$((nkernel + 1))
		say "KCSAN [kernel, called by stw] ${count[$key]}x: $title"
		accesses "$k" "$title" ;;
	*)	nother=$((nother + 1))
		say "KCSAN [other] ${count[$key]}x: $title" ;;
	esac
done
rm -f "$rest.records"
say "KCSAN: ${#order[@]} distinct reports: $nstw in stw, $nkernel in kernel code stw called, $nother elsewhere (all: $reports)"
if [ "$nstw" -gt 0 ]; then
	if [ "${KCSAN_STW_FAIL:-1}" = 0 ]; then
		say "KCSAN: $nstw in stw, not failing the run (KCSAN_STW_FAIL=0)"
		exit 0
	fi
	exit 1
fi
exit 0
