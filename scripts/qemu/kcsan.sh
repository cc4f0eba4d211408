#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sort the KCSAN reports of a guest's kernel log (scripts/qemu/run.sh calls
# this when the log has any): a report whose stack names stw (a frame of
# module stw, '[stw]', or of a symbol stw_*) is stw's and fails the run; a
# report only in other kernel code is listed and does not.  An access made
# by an interrupt has, under the interrupt's entry frame (asm_*), the
# frames of the code it interrupted: those are not the access's, and do
# not make the report stw's.
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
# A / B', and how many times it showed), with the accesses of each stw one.
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
function flush(   i) {
	print "R\t" (is_stw ? "stw" : "other") "\t" title
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
		inblock = 1; is_stw = 0; n = 0; want_frame = 0
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
	} else if (line == "") {
		want_frame = 0; own = 0
	} else if (own && line ~ /^ *asm_[a-z_]+\+0x/) {
		own = 0	# below: what the interrupt interrupted
	} else if (own && (line ~ /\[stw\]/ ||
			   line ~ /^ *stw_[A-Za-z0-9_.]*\+0x/)) {
		is_stw = 1
		if (want_frame) {
			sub(/^ +/, "", line)
			rec[++n] = "F\t" line; want_frame = 0
		}
	}
}
END { if (inblock) flush(); if (held != "") print held > rest }' "$console" > "$rest.records"

# Each distinct title once, in order of appearance, with its count.
declare -A count kind
order=()
while IFS=$'\t' read -r tag a b; do
	[ "$tag" = R ] || continue
	key=$b
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

nstw=0 nother=0
for key in "${order[@]}"; do
	if [ "${kind[$key]}" = stw ]; then
		nstw=$((nstw + 1))
		say "KCSAN [stw] ${count[$key]}x: $key"
		# The first occurrence's accesses and their top stw frames.
		awk -F'\t' -v key="$key" '
			$1 == "R" { if (done) exit; mine = ($3 == key); if (mine) done = 1; next }
			mine' "$rest.records" |
		while IFS=$'\t' read -r tag text; do
			if [ "$tag" = A ]; then
				say "    $text"
			else
				loc=$(faddr "$text")
				say "      ${text}${loc:+  ($loc)}"
			fi
		done
	else
		nother=$((nother + 1))
		say "KCSAN [other] ${count[$key]}x: $key"
	fi
done
rm -f "$rest.records"
say "KCSAN: ${#order[@]} distinct reports: $nstw in stw, $nother elsewhere (all: $reports)"
if [ "$nstw" -gt 0 ]; then
	if [ "${KCSAN_STW_FAIL:-1}" = 0 ]; then
		say "KCSAN: $nstw in stw, not failing the run (KCSAN_STW_FAIL=0)"
		exit 0
	fi
	exit 1
fi
exit 0
