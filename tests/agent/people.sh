#!/bin/sh
# What the people at the desk see and can use: a generated password shown once, notes in the
# list, a confirmation before a removal, the recovery key typed in the open and a new sheet to
# print, dates as people write them, columns that stay aligned with accents and long
# addresses, and an empty list that says so.
#   people.sh SESAME SESAME_AGENT
. "$(dirname "$0")/lib.sh"

PIN1=482916 NEWPIN=615283
PTY="$(dirname "$0")/ptyrun.py"
conf 'kdf_passes = 1' 'kdf_memory_mib = 8'
install_init
start_agent
export SESAME_PINENTRY="$(cd "$(dirname "$0")" && pwd)/pinentry-spy.sh"
export SPY_LOG="$tmp/spy.log" SPY_ANSWERS="$tmp/spy.answers"
spy() { rm -f "$SPY_LOG" "$SPY_LOG.count"; printf '%s\n' "$@" >"$SPY_ANSWERS"; }
screen() { tr -d '\r' <"$tmp/out/$1.screen"; }
pty() { # EXPECTED_EXIT NAME STEPS_JSON CMD...
	want=$1 name=$2 steps=$3
	shift 3
	python3 "$PTY" "$tmp/out/$name.screen" "$steps" "$@"
	got=$?
	[ "$got" = "$want" ] || fail "$name: exit $got, expected $want: $(screen "$name")"
}

# --- empty lists say so
run 0 nobody "$SESAME" list
out nobody | grep -qF 'No one is enrolled yet' || fail "empty list of people: $(out nobody)"
enroll "Aïcha Benali" "$PIN1"
unlock_with 0 unlock "Aïcha Benali" "$PIN1"
run 0 noservice "$SESAME" list "Aïcha Benali"
out noservice | grep -qF 'None recorded yet' || fail "empty list of services: $(out noservice)"

# --- a generated password is shown once, on the terminal, and only there
pty 0 generate '[]' "$SESAME" add "Aïcha Benali" --service Impôts --url https://impots.gouv.fr/ \
	--username aicha --generate
screen generate | grep -qF 'New password for Impôts, shown only this once' ||
	fail "--generate shows nothing: $(screen generate)"
screen generate | grep -Eq '^    [A-Za-z0-9._!?-]{20}$' || fail "no password shown: $(screen generate)"
run 2 generate-notty setsid -w "$SESAME" add "Aïcha Benali" --service Ameli \
	--url https://ameli.fr/ --username aicha --generate
err generate-notty | grep -qF 'no terminal here' || fail "--generate without a terminal: $(err generate-notty)"

# --- notes are shown; dates as people write them; columns by what the terminal shows
run 0 add-notes sh -c 'echo pw | "$0" add "Aïcha Benali" --service CAF --url https://caf.fr/ \
	--username 1234567 --notes "RDV le mardi" --consent-until 2027-05-30 --secret-fd 0' "$SESAME"
long=https://wwwd.caf.fr/wps/portal/caffr/login/a/very/long/path/that/goes/on/and/on
run 0 add-long sh -c 'echo pw | "$0" add "Aïcha Benali" --service Sécu --url "$1" \
	--username 1234567 --secret-fd 0' "$SESAME" "$long"
run 0 list "$SESAME" list "Aïcha Benali"
out list | grep -qF 'notes: RDV le mardi' || fail "notes not shown: $(out list)"
out list | grep -qF 'assisted login allowed until 30 May 2027' || fail "date: $(out list)"
out list | grep -qF 'Services of Aïcha Benali:' || fail "list header: $(out list)"
out list | python3 -c '
import sys
lines = [l.rstrip("\n") for l in sys.stdin if l.startswith("  ") and not l.startswith("    ")]
cols = {l[2:].split()[0]: l.rindex(" ", 0, l.index("  assisted")) for l in lines}
assert len(set(cols.values())) == 1, "columns differ: %r" % cols
assert any("…" in l for l in lines), "the long address is not cut"
' || fail "columns: $(out list)"

# --- remove asks at a terminal; "no" keeps the credential
pty 7 remove-no '[["Type \"yes\"", "no"]]' "$SESAME" remove "Aïcha Benali" CAF
screen remove-no | grep -qF 'Remove the credential for CAF from the vault of Aïcha Benali?' ||
	fail "remove question: $(screen remove-no)"
run 0 still "$SESAME" list "Aïcha Benali" --json
expect_eq "kept after no" "$(jget still 'len(j["services"])')" 3
pty 0 remove-yes '[["Type \"yes\"", "yes"]]' "$SESAME" remove "Aïcha Benali" CAF
run 0 gone "$SESAME" list "Aïcha Benali" --json
expect_eq "removed after yes" "$(jget gone 'len(j["services"])')" 2

# --- recover at a terminal: the key typed in the open, the new sheet written to print
spy "$NEWPIN" "$NEWPIN"
pty 0 recover "[[\"Recovery key:\", \"$SHEET\"]]" "$SESAME" recover "Aïcha Benali" \
	--sheet "$tmp/new-sheet.html"
screen recover | grep -qF "$SHEET" || fail "the key typed is not shown: $(screen recover)"
expect_eq "secrets asked through pinentry (the new PIN, twice)" \
	"$(grep -c '^GETPIN' "$SPY_LOG")" 2
new=$(screen recover | grep -Eo '([0-9A-Z]{4}-){7}[0-9A-Z]{4}' | grep -v "$SHEET" | head -n 1)
[ -n "$new" ] || fail "no new key: $(screen recover)"
grep -qF "$new" "$tmp/new-sheet.html" || fail "the new sheet does not hold the new key"
expect_eq "sheet mode" "$(stat -c %a "$tmp/new-sheet.html")" 600
run 2 recover-exists "$SESAME" recover "Aïcha Benali" --sheet "$tmp/new-sheet.html" --pin-fd 0
err recover-exists | grep -qF "cannot create the new sheet" || fail "sheet over a file: $(err recover-exists)"
unlock_with 0 unlock-new "Aïcha Benali" "$NEWPIN"

# --- bash completion offers the people this account sees, quoted for the shell
COMPLETION="$(dirname "$0")/../../completion/sesame.bash"
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}; _sesame "$1" "${COMP_WORDS[COMP_CWORD]}" \
			"${COMP_WORDS[COMP_CWORD - 1]}"; printf "%s\n" "${COMPREPLY[@]}"' sh \
		"$COMPLETION" "$@"
}
expect_eq "complete a person" "$(complete_words "$SESAME" unlock Aï)" 'Aïcha\ Benali'
expect_eq "complete --user" "$(complete_words "$SESAME" audit show --user A)" 'Aïcha\ Benali'
expect_eq "no person as a service" "$(complete_words "$SESAME" remove "Aïcha Benali" A)" ""
stop_agent
expect_eq "no agent, no names (none is started)" "$(complete_words "$SESAME" unlock A)" ""
[ ! -S "$SESAME_AGENT_SOCK" ] || fail "completion started an agent"
echo PASS
