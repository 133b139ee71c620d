# bash completion for sesame(1)                                        -*- shell-script -*-
#
# Commands, their options and option values, and people's names: those that "sesame list"
# shows this account, asked of an agent that is already running (completion never starts one,
# and gives up after 2 s). Self-contained: it does not need bash-completion's helpers.

_sesame_commands="init enroll add unlock list lock status login pin recover remove revoke audit
export import consent history"
_sesame_audit_commands="verify show mine export checkpoint key prove check-receipt consistency report"
_sesame_audit_events="installation_created user_enrolled pin_ok pin_wrong vault_blocked
recovery_used pin_changed session_opened session_closed credential_added credential_changed
credential_removed login_started login_filled login_failed export user_withdrawn agent_started
agent_stopped log_recovered"

# The options of a command (or of "audit SUBCOMMAND").
_sesame_options()
{
	case $1 in
	init) echo "--system --json --help" ;;
	list | status) echo "--json --help" ;;
	lock) echo "--receipt --json --help" ;;
	history) echo "--html --lang --pin-fd --json --help" ;;
	remove) echo "--yes --json --help" ;;
	enroll) echo "--pin-fd --sheet --consent --json --force --help" ;;
	export) echo "--kdbx --csv --passphrase-fd --generate --pin-fd --yes --json --help" ;;
	import) echo "--csv --no-consent --yes --json --help" ;;
	consent) echo "--html --lang --help" ;;
	add)
		echo "--service --url --username --secret-fd --generate --notes --replace" \
			"--username-selector --password-selector --submit-selector" \
			"--before-click --no-consent --consent-until --consent-for --json --help"
		;;
	unlock) echo "--pin-fd --purpose --json --help" ;;
	login)
		echo "--headless --purpose --no-submit --keep-open --screenshot --pin-fd --json" \
			"--help"
		;;
	pin) echo "--pin-fd --json --help" ;;
	recover) echo "--pin-fd --sheet --json --help" ;;
	revoke) echo "--yes --json --help" ;;
	audit) echo "--dir --help" ;;
	audit:verify) echo "--checkpoint --key --json" ;;
	audit:show | audit:mine) echo "--user --worker --event --since --until --json --lang" ;;
	audit:report) echo "--html --since --until --lang --key --checkpoint --no-names" ;;
	audit:export) echo "--format --user --worker --event --since --until" ;;
	audit:check-receipt) echo "--key" ;;
	esac
}

# COMPREPLY from compgen, one word a line: no word splitting or globbing of the results.
_sesame_reply()
{
	mapfile -t COMPREPLY < <(compgen "$@")
}

# Options followed by a value, skipped when counting a command's operands.
_sesame_valued="--pin-fd --secret-fd --service --url --username --notes --purpose
--username-selector --password-selector --consent-until --consent-for --sheet --screenshot
--user --worker --since --until --format --event --checkpoint --key --dir --kdbx --csv
--passphrase-fd --consent --html --lang"

# People's names starting with $2, from the running agent (program $1); each quoted for the
# shell, since names hold spaces.
_sesame_people()
{
	local program=$1 cur=$2 name sock=${SESAME_AGENT_SOCK:-}
	[[ -z $sock && -n ${XDG_RUNTIME_DIR:-} ]] && sock=$XDG_RUNTIME_DIR/sesame/agent.sock
	[[ -S $sock || (-z ${SESAME_AGENT_SOCK:-} && -S /run/sesame/agent.sock) ]] || return 0
	cur=${cur#[\"\']}
	while IFS= read -r name; do
		[[ -n $name && $name == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$name")")
	done < <(SESAME_AGENT_PROGRAM=/bin/false timeout 2 "$program" list --json 2>/dev/null |
		grep -o '"name":"[^"\\]*"' | sed 's/^"name":"//; s/"$//')
}

_sesame_files()
{
	type compopt &>/dev/null && compopt -o filenames 2>/dev/null
	_sesame_reply -"${2:-f}" -- "$1"
}

_sesame()
{
	local cur prev cword=$COMP_CWORD i word cmd="" sub="" ctx operands=0
	local IFS=$' \t\n'

	COMPREPLY=()
	cur=${COMP_WORDS[cword]}
	prev=""
	((cword > 0)) && prev=${COMP_WORDS[cword - 1]}
	# "--format=cs": bash splits at '=' (COMP_WORDBREAKS), giving --format, =, cs.
	if [[ $cur == "=" ]]; then
		cur=""
	elif [[ $prev == "=" ]] && ((cword > 1)); then
		prev=${COMP_WORDS[cword - 2]}
	fi

	# The command, and for audit its sub-command; skip option values on the way.
	for ((i = 1; i < cword; i++)); do
		word=${COMP_WORDS[i]}
		if [[ -z $cmd ]]; then
			[[ $word == -* ]] || cmd=$word
		elif [[ $cmd != audit ]]; then
			if [[ " ${_sesame_valued//$'\n'/ } " == *" $word "* ]]; then
				((i++))
			elif [[ $word != -* ]]; then
				((operands++))
			fi
		elif [[ $cmd == audit && -z $sub ]]; then
			if [[ $word == --dir ]]; then
				((i++))
			elif [[ $word != -* ]]; then
				sub=$word
			fi
		fi
	done

	case $prev in
	--user)
		_sesame_people "${COMP_WORDS[0]}" "$cur"
		return 0
		;;
	--pin-fd | --secret-fd | --passphrase-fd | --service | --url | --username | --notes | --purpose | \
		--username-selector | --password-selector | --submit-selector | --before-click | \
		--consent-until | --worker | --since | --until)
		return 0 # free text, a number, or a person: nothing to offer
		;;
	--consent-for)
		_sesame_reply -W "1d 1m 6m 1y" -- "$cur"
		return 0
		;;
	--format)
		_sesame_reply -W "csv jsonl" -- "$cur"
		return 0
		;;
	--event)
		_sesame_reply -W "$_sesame_audit_events" -- "$cur"
		return 0
		;;
	--sheet | --checkpoint | --key | --kdbx | --csv | --consent | --html | --receipt)
		_sesame_files "$cur" f
		return 0
		;;
	--dir)
		_sesame_files "$cur" d
		return 0
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_sesame_reply -W "--help --version" -- "$cur"
		else
			_sesame_reply -W "$_sesame_commands help" -- "$cur"
		fi
		return 0
	fi

	ctx=$cmd
	if [[ $cmd == audit ]]; then
		if [[ -z $sub ]]; then
			if [[ $cur == -* ]]; then
				_sesame_reply -W "$(_sesame_options audit)" -- "$cur"
			else
				_sesame_reply -W "$_sesame_audit_commands" -- "$cur"
			fi
			return 0
		fi
		ctx=audit:$sub
		if [[ $sub == check-receipt && $cur != -* ]]; then
			_sesame_files "$cur" f
			return 0
		fi
	fi

	if [[ $cur == -* ]]; then
		_sesame_reply -W "$(_sesame_options "$ctx")" -- "$cur"
		return 0
	fi
	case $cmd in
	unlock | list | lock | add | pin | recover | remove | revoke | login | export | import | consent | history)
		((operands == 0)) && _sesame_people "${COMP_WORDS[0]}" "$cur"
		;;
	esac
	return 0
} &&
	complete -F _sesame sesame

# ex: filetype=sh
