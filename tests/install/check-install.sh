#!/bin/sh
# Checks what `meson install` would install, from the build tree: see meson.build. Prints one
# line per check; exits 1 on the first failure, 77 (skipped) if there was nothing to check.
set -u

main_c='' completion='' bindir='' mans='' units=''
while [ $# -gt 0 ]; do
	case $1 in
	--main-c) main_c=$2 ;;
	--completion) completion=$2 ;;
	--bindir) bindir=$2 ;;
	--man) mans="$mans $2" ;;
	--unit) units="$units $2" ;;
	*) echo "usage: $0 --main-c FILE --completion FILE --bindir DIR [--man PAGE]... [--unit FILE]..." >&2
	   exit 2 ;;
	esac
	shift 2
done

fail() {
	echo "FAIL: $*"
	exit 1
}
ok() {
	echo "ok: $*"
}

# The commands of sesame, from the table in cli/main.c: {"name", cmd_name, ...}.
commands=$(sed -n 's/^[[:space:]]*{"\([a-z-]*\)", cmd_[a-z_]*,.*/\1/p' "$main_c")
[ -n "$commands" ] || fail "no command table found in $main_c"
ok "commands in cli/main.c: $(echo "$commands" | tr '\n' ' ')"

# Man pages: a .TH header for the right section, every command of the table in sesame(1).
if [ -z "$mans" ]; then
	echo "skip: man pages not built (scdoc not found, or -Dman=disabled)"
fi
for page in $mans; do
	[ -s "$page" ] || fail "$page is missing or empty"
	name=$(basename "$page")
	title=${name%.*} section=${name##*.}
	grep -q "^\.TH \"$title\" \"$section\"" "$page" || fail "$name: no .TH \"$title\" \"$section\" header"
	ok "$name: .TH header"
	if command -v man >/dev/null 2>&1; then
		LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" >/dev/null 2>&1 || fail "$name: man -l cannot render it"
		ok "$name: renders with man -l"
	fi
	case $title in
	sesame)
		for cmd in $commands; do
			grep -q "^\\\\fB$cmd\\\\fR" "$page" || fail "$name: command \"$cmd\" is not documented"
		done
		ok "$name: documents every command"
		for word in SESAME_HOME SESAME_AGENT_SOCK SESAME_CONFIG SESAME_PINENTRY \
			SESAME_AGENT_PROGRAM SESAME_LOCALEDIR "EXIT STATUS" pin-fd secret-fd; do
			grep -q -- "$word" "$page" || fail "$name: $word is not documented"
		done
		ok "$name: environment, exit status and secret descriptors documented"
		;;
	sesame-agent)
		for word in --system SIGTERM worker_group session_idle_seconds; do
			grep -q -- "$word" "$page" || fail "$name: $word is not documented"
		done
		ok "$name: system mode, signals and sessions documented"
		;;
	esac
done

# Bash completion: it loads, registers for sesame, and completes.
command -v bash >/dev/null 2>&1 || fail "no bash"
bash -c '. "$1" && complete -p sesame' sh "$completion" | grep -q -- '-F _sesame sesame' ||
	fail "$completion does not register a completion for sesame"
ok "completion loads and registers _sesame"

# complete WORDS...: what _sesame offers for the last word, space-separated.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}; _sesame sesame "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD - 1]}"; echo "${COMPREPLY[*]}"' sh "$completion" "$@"
}
expect() {
	want=$1
	shift
	got=$(complete_words "$@")
	[ "$got" = "$want" ] || fail "completing \"$*\": got \"$got\", want \"$want\""
	ok "completing \"$*\" gives \"$want\""
}
expect audit sesame au
expect "verify" sesame audit ver
expect "csv jsonl" sesame audit export --format ""
expect "--pin-fd --purpose" sesame unlock X --p
expect "" sesame enroll ""
all=$(complete_words sesame "")
for cmd in $commands; do
	case " $all " in
	*" $cmd "*) ;;
	*) fail "completion does not offer the command \"$cmd\"" ;;
	esac
done
ok "completion offers every command"

# Units: @bindir@ substituted with the installed bindir.
if [ -z "$units" ]; then
	echo "skip: systemd units not configured (-Dsystemd=disabled)"
fi
for unit in $units; do
	name=$(basename "$unit")
	! grep -q '@[a-z_]*@' "$unit" || fail "$name: a @variable@ is left"
	case $name in
	*.service)
		grep -q "^ExecStart=$bindir/sesame-agent\( --system\)\{0,1\}\$" "$unit" ||
			fail "$name: ExecStart is not $bindir/sesame-agent"
		ok "$name: ExecStart=$bindir/sesame-agent"
		;;
	*.socket)
		grep -q '^ListenStream=' "$unit" || fail "$name: no ListenStream="
		ok "$name: ListenStream"
		;;
	esac
done
exit 0
