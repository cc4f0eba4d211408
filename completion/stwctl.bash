# SPDX-License-Identifier: GPL-2.0
# bash completion for stwctl(8)

_stwctl_commands="status stop hold resume step spawn kill job monitor help"

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

# VM ids from the running module, if it is loaded.
_stwctl_vm_ids()
{
	local cmd=${COMP_WORDS[0]}
	"$cmd" -j status 2>/dev/null | tr '{,' '\n\n' |
		sed -n 's/^[[:space:]]*"id":[[:space:]]*\([0-9][0-9]*\).*/\1/p'
}

_stwctl()
{
	local cur prev i word cmd= opts= takes_vm=
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()

	# Find the subcommand: the first word after the global options.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		-*) ;;
		*) cmd=$(_stwctl_resolve "$word"); break ;;
		esac
	done

	if [[ -z $cmd && $i -ge $COMP_CWORD ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '-j --json -p --pretty -V --version -h --help' -- "$cur"))
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
	status|monitor) opts='-j --json -h --help' ;;
	stop) opts='-t --timeout -k --keep-waiting -l --lease -j --json -h --help' ;;
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
		opts='-t --timeout -k --keep-waiting -j --json -h --help --' ;;
	resume) opts='-f --force -H --hold -j --json -h --help' ;;
	step) opts='-p --polls -t --timeout -j --json -h --help'; takes_vm=1 ;;
	spawn) opts='--active --idle --bursty --nopoll -j --json -h --help' ;;
	kill) opts='-a --all -j --json -h --help'; takes_vm=1 ;;
	job) opts='-n --jobs -p --polls -j --json -h --help'; takes_vm=1 ;;
	help)
		COMPREPLY=($(compgen -W "${_stwctl_commands% help}" -- "$cur"))
		return 0 ;;
	*) return 0 ;;
	esac

	if [[ $cur == -* || -z $takes_vm ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$(_stwctl_vm_ids)" -- "$cur"))
	fi
	return 0
} &&
complete -F _stwctl stwctl
