#!/bin/sh
# The sesame command speaks French to the people who use it.
# Usage: test-fr.sh SESAME LOCALEDIR locale|language
#   locale:   LANG=fr_FR.UTF-8 (skipped, exit 77, when that locale is not generated here)
#   language: LANG=C.UTF-8 LANGUAGE=fr (glibc honours LANGUAGE when the locale is not "C")
# LOCALEDIR is the build's <build>/po, which holds fr/LC_MESSAGES/sesame.mo. Nothing real is
# touched: SESAME_HOME, XDG_*, the agent's socket and the session bus point into a temp dir.
set -u

sesame=$1
localedir=$2
mode=$3
fail=0

say() { printf '%s\n' "$*"; }
bad() { say "FAIL: $*"; fail=1; }

if [ ! -s "$localedir/fr/LC_MESSAGES/sesame.mo" ]; then
	say "FAIL: $localedir/fr/LC_MESSAGES/sesame.mo is missing (is gettext installed?)"
	exit 1
fi

unset LC_ALL LC_MESSAGES LC_CTYPE LANGUAGE
case $mode in
locale)
	if ! locale -a 2>/dev/null | grep -qix 'fr_FR\.utf-\{0,1\}8'; then
		say "SKIP: the fr_FR.UTF-8 locale is not generated on this machine"
		exit 77
	fi
	LANG=fr_FR.UTF-8
	;;
language)
	LANG=C.UTF-8
	LANGUAGE=fr
	export LANGUAGE
	;;
*)
	say "usage: $0 SESAME LOCALEDIR locale|language" >&2
	exit 2
	;;
esac
export LANG

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/config" "$tmp/data" "$tmp/run" "$tmp/home"
chmod 700 "$tmp/run"
export SESAME_LOCALEDIR="$localedir"
export SESAME_HOME="$tmp/home/sesame"
export SESAME_AGENT_SOCK="$tmp/run/agent.sock"
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run"
export HOME="$tmp/home"
export DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent

# run NAME EXPECTED-STATUS ARGS...: output (stdout and stderr) in $tmp/NAME.
run() {
	name=$1 want=$2
	shift 2
	"$sesame" "$@" >"$tmp/$name" 2>&1
	got=$?
	if [ "$got" != "$want" ]; then
		bad "sesame $*: exit status $got, expected $want"
	fi
	say "--- sesame $* (exit $got)"
	cat "$tmp/$name"
}

# has NAME TEXT / hasnt NAME TEXT: fixed strings, so that punctuation needs no escaping.
has() { grep -qF -- "$2" "$tmp/$1" || bad "$1: \"$2\" is missing"; }
hasnt() { ! grep -qF -- "$2" "$tmp/$1" || bad "$1: \"$2\" should not appear"; }

run help 0 --help
has help "Utilisation : sesame COMMANDE [OPTIONS]"
has help "Commandes :"
has help "ouvrir une session avec le code secret de la personne"
has help "Chaque commande accepte --help et --json."
hasnt help "Usage"
hasnt help "Commands:"
hasnt help "Every command"
hasnt help "open a session"

run unlock 2 unlock
has unlock "Utilisation : sesame unlock PERSONNE"
has unlock "la personne tape son code secret"
hasnt unlock "Usage"
hasnt unlock "the person types"

run unknown 2 foo
has unknown "commande inconnue : « foo »"
has unknown "Utilisation : sesame COMMANDE"
hasnt unknown "unknown command"
hasnt unknown "Usage"

run init1 0 init
has init1 "Installation "
has init1 "créée dans"
hasnt init1 "created in"
run init2 1 init
has init2 "Sesame est déjà installé dans $SESAME_HOME (installation "
hasnt init2 "already initialised"

# The same command without the catalogue speaks English: the French above came from the .mo.
SESAME_LOCALEDIR="$tmp/nowhere" run english 2 foo
has english "unknown command"

[ "$fail" -eq 0 ] && say "PASS ($mode)"
exit "$fail"
