#!/bin/sh
# Checks what `meson install` would install, from the build tree, then installs it into a
# temporary DESTDIR and checks the browser launcher and its units there: see meson.build. Prints
# one line per check; exits 1 on the first failure, 77 (skipped) if there was nothing to check.
set -u

main_c='' completion='' bindir='' mans='' units=''
meson='' build_root='' libexecdir='' user_unit_dir='' system_unit_dir=''
while [ $# -gt 0 ]; do
	case $1 in
	--main-c) main_c=$2 ;;
	--completion) completion=$2 ;;
	--bindir) bindir=$2 ;;
	--man) mans="$mans $2" ;;
	--unit) units="$units $2" ;;
	--meson) meson=$2 ;;
	--build-root) build_root=$2 ;;
	--libexecdir) libexecdir=$2 ;;
	--user-unit-dir) user_unit_dir=$2 ;;
	--system-unit-dir) system_unit_dir=$2 ;;
	*) echo "usage: $0 --main-c FILE --completion FILE --bindir DIR [--man PAGE]... [--unit FILE]..." \
		"[--meson PROG --build-root DIR --libexecdir DIR [--user-unit-dir DIR --system-unit-dir DIR]]" >&2
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
expect "--system" sesame init --s
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

# The installed tree: `meson install` into a temporary DESTDIR, keeping the build directory's
# install log (`ninja uninstall` reads it) as it was.
if [ -z "$meson" ] || [ -z "$build_root" ] || [ -z "$libexecdir" ]; then
	echo "skip: meson install not checked (no meson, build root or libexecdir given)"
	exit 0
fi
tmp=$(mktemp -d) || fail "cannot make a temporary directory"
trap 'rm -rf "$tmp"' EXIT
log=$build_root/meson-logs/install-log.txt
[ ! -e "$log" ] || cp -p "$log" "$tmp/install-log.txt" || fail "cannot save $log"
"$meson" install -C "$build_root" --destdir "$tmp/root" --no-rebuild --quiet >"$tmp/out" 2>&1
status=$?
if [ -e "$tmp/install-log.txt" ]; then
	cp -p "$tmp/install-log.txt" "$log" || fail "cannot restore $log"
else
	rm -f "$log"
fi
[ $status -eq 0 ] || { cat "$tmp/out"; fail "meson install --destdir failed"; }
root=$tmp/root
ok "meson install --destdir"

# The launcher: installed, executable, and it is sesame-browser.
launcher=$libexecdir/sesame/sesame-browser
[ -f "$root$launcher" ] && [ -x "$root$launcher" ] || fail "$launcher is not installed or not executable"
"$root$launcher" --help 2>&1 | grep -q '^Usage: sesame-browser ' || fail "$launcher --help gives no usage"
ok "$launcher installed and executable"

if [ -z "$user_unit_dir" ] || [ -z "$system_unit_dir" ]; then
	echo "skip: systemd units not installed (-Dsystemd=disabled)"
	exit 0
fi
# Where systemd/meson.build puts them: the agent's and the per-user launcher's units in the user
# unit directory, the system mode's in the system unit directory.
for unit in "$user_unit_dir/sesame-agent.socket" "$user_unit_dir/sesame-agent.service" \
	"$user_unit_dir/sesame-browser.socket" "$user_unit_dir/sesame-browser.service" \
	"$system_unit_dir/sesame-agent-system.socket" "$system_unit_dir/sesame-agent-system.service" \
	"$system_unit_dir/sesame-browser-system.socket" "$system_unit_dir/sesame-browser-system.service"; do
	[ -s "$root$unit" ] || fail "$unit is not installed"
	! grep -q '@[a-z_]*@' "$root$unit" || fail "$unit: a @variable@ is left"
done
ok "units installed in $user_unit_dir and $system_unit_dir"

# value FILE KEY: the value of the last KEY= line of FILE.
value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}
# launcher_units SOCKET SERVICE AGENT: the service runs the installed launcher with --serve on
# the socket's path, and the agent's service wants the socket.
launcher_units() {
	start=$(value "$root$2" ExecStart)
	case $start in
	"$launcher --serve "*) ;;
	*) fail "$(basename "$2"): ExecStart is not $launcher --serve: $start" ;;
	esac
	listen=$(value "$root$1" ListenStream)
	[ -n "$listen" ] || fail "$(basename "$1"): no ListenStream="
	case " $start " in
	*" --socket $listen "*) ;;
	*) fail "$(basename "$2"): --socket is not $listen, the ListenStream of $(basename "$1")" ;;
	esac
	sed -n 's/^Wants=//p' "$root$3" | tr ' ' '\n' | grep -qx "$(basename "$1")" ||
		fail "$(basename "$3") does not want $(basename "$1")"
	ok "$(basename "$2"): ExecStart=$launcher --serve --socket $listen, wanted by $(basename "$3")"
}
launcher_units "$user_unit_dir/sesame-browser.socket" "$user_unit_dir/sesame-browser.service" \
	"$user_unit_dir/sesame-agent.service"
launcher_units "$system_unit_dir/sesame-browser-system.socket" \
	"$system_unit_dir/sesame-browser-system.service" "$system_unit_dir/sesame-agent-system.service"

# Per-user, the launcher serves its own uid (no --agent-user, no User=); in system mode it runs
# as sesame-browser and serves sesame.
unit=$user_unit_dir/sesame-browser.service
! grep -q -- '--agent-user' "$root$unit" || fail "$(basename "$unit"): --agent-user in a user unit"
[ -z "$(value "$root$unit" User)" ] || fail "$(basename "$unit"): User= in a user unit"
ok "$(basename "$unit"): serves the user's own uid"
unit=$system_unit_dir/sesame-browser-system.service
case " $(value "$root$unit" ExecStart) " in
*" --agent-user sesame "*) ;;
*) fail "$(basename "$unit"): ExecStart has no --agent-user sesame" ;;
esac
[ "$(value "$root$unit" User)" = sesame-browser ] || fail "$(basename "$unit"): User= is not sesame-browser"
ok "$(basename "$unit"): --agent-user sesame, User=sesame-browser"
exit 0
