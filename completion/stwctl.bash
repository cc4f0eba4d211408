# SPDX-License-Identifier: GPL-2.0
# bash completion for stwctl(8)

_stwctl_commands="status stop hold resume step spawn kill job monitor worlds help"

# The subcommand a word names: itself, or the one command it is a unique
# prefix of (stwctl accepts those); empty if none.
_stwctl_resolve()
{
	local c match=
	for c in $_stwctl_commands; do
		[[ $c == "$1" ]] && { echo "$c"; return; }
		if [[ $c == "$1"* ]]; then
			[[ -n $match ]] && return
			match=$c
		fi
	done
	echo "$match"
}

# VM ids from the running module, if it is loaded: of the world $1 (the
# -w given on the command line), else of the default world.
_stwctl_vm_ids()
{
	local cmd=${COMP_WORDS[0]}
	"$cmd" ${1:+-w "$1"} -j status 2>/dev/null | tr '{,' '\n\n' |
		sed -n 's/^[[:space:]]*"id":[[:space:]]*\([0-9][0-9]*\).*/\1/p'
}

# World names from the running module: the first column of 'stwctl
# worlds' when it does not print to a terminal.
_stwctl_worlds()
{
	local cmd=${COMP_WORDS[0]}
	"$cmd" worlds 2>/dev/null | cut -f1
}

# Whether option word $1 takes the next word as a world's name: -w,
# --world, or short options together that end in w (-jw).
_stwctl_takes_world()
{
	[[ $1 == --world || $1 == -w || $1 == -[a-zA-Z]*w ]]
}

_stwctl()
{
	local cur prev i word cmd= opts= takes_vm= world=
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()

	# The value of -w: world names, before or after the subcommand (not
	# in the command 'hold --' runs).
	if _stwctl_takes_world "$prev" &&
	   [[ " ${COMP_WORDS[*]:1:COMP_CWORD-1} " != *" -- "* ]]; then
		COMPREPLY=($(compgen -W "$(_stwctl_worlds)" -- "$cur"))
		return 0
	fi

	# The world given, for the VM ids: the last -w NAME or --world=NAME.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if _stwctl_takes_world "$word" && ((i + 1 < COMP_CWORD)); then
			world=${COMP_WORDS[i+1]}
		elif [[ $word == --world=* ]]; then
			world=${word#--world=}
		fi
	done

	# Find the subcommand: the first word after the global options and
	# the value of a -w among them.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		-*) _stwctl_takes_world "$word" && ((i++)) ;;
		*) cmd=$(_stwctl_resolve "$word"); break ;;
		esac
	done

	if [[ -z $cmd && $i -ge $COMP_CWORD ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-j --json -p --pretty -w --world -V --version -h --help' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_stwctl_commands" -- "$cur"))
		fi
		return 0
	fi

	# A value for an option: nothing to offer.
	case $prev in
	-t|--timeout|-l|--lease|-H|--hold|-n|--jobs|--active|--idle|--bursty|--nopoll)
		return 0 ;;
	-p|--polls)
		[[ $cmd == step || $cmd == job ]] && return 0 ;;
	esac

	case $cmd in
	status|monitor|worlds) opts='-w --world -j --json -h --help' ;;
	stop) opts='-t --timeout -k --keep-waiting -l --lease -w --world -j --json -h --help' ;;
	hold)
		# After '--', complete the command to run.
		for ((i = 2; i < COMP_CWORD; i++)); do
			if [[ ${COMP_WORDS[i]} == -- ]]; then
				if ((COMP_CWORD == i + 1)); then
					COMPREPLY=($(compgen -c -- "$cur"))
				else
					COMPREPLY=($(compgen -f -- "$cur"))
				fi
				return 0
			fi
		done
		opts='-t --timeout -k --keep-waiting -w --world -j --json -h --help --' ;;
	resume) opts='-f --force -H --hold -w --world -j --json -h --help' ;;
	step) opts='-p --polls -t --timeout -w --world -j --json -h --help'; takes_vm=1 ;;
	spawn) opts='--active --idle --bursty --nopoll -w --world -j --json -h --help' ;;
	kill) opts='-a --all -w --world -j --json -h --help'; takes_vm=1 ;;
	job) opts='-n --jobs -p --polls -w --world -j --json -h --help'; takes_vm=1 ;;
	help)
		COMPREPLY=($(compgen -W "${_stwctl_commands% help}" -- "$cur"))
		return 0 ;;
	*) return 0 ;;
	esac

	if [[ $cur == -* || -z $takes_vm ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$(_stwctl_vm_ids "$world")" -- "$cur"))
	fi
	return 0
} &&
complete -F _stwctl stwctl
