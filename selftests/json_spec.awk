# SPDX-License-Identifier: GPL-2.0
#
# Documentation/stwctl-json.md's tables as C rows, for stwctl_test:
#	{ "SECTION", "KEY", "TYPE" },
# SECTION is the "### " heading above the table; a "\|" in a cell is a "|".

/^### / { section = substr($0, 5); next }

/^\| `/ {
	line = $0
	gsub(/\\\|/, "\001", line)
	split(line, cell, "|")
	key = cell[2]
	type = cell[3]
	gsub(/[ `]/, "", key)
	gsub(/ /, "", type)
	gsub(/\001/, "|", type)
	printf "\t{ \"%s\", \"%s\", \"%s\" },\n", section, key, type
}
