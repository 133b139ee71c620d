#!/bin/sh
# Said plainly, in English and in French: a missing option is named with what to type, a command
# run before sesame init says so at once.
# $1 = sesame, $2 = sesame-agent, $3 = the build's message catalogs, $4 = en or fr.
. "$(dirname "$0")/lib.sh"
export SESAME_LOCALEDIR=${3:?usage: $0 SESAME SESAME_AGENT LOCALEDIR en|fr}
lang=${4:?usage: $0 SESAME SESAME_AGENT LOCALEDIR en|fr}
[ "$lang" = fr ] && export LANGUAGE=fr # under LANG=C.UTF-8, as tests/i18n does

# says NAME ENGLISH FRENCH: the command's output (stdout and stderr) holds the text in the
# test's language.
says() {
	if [ "$lang" = fr ]; then want=$3; else want=$2; fi
	cat "$tmp/out/$1.out" "$tmp/out/$1.err" | grep -qF -- "$want" ||
		fail "$1: no \"$want\" in: $(cat "$tmp/out/$1.out" "$tmp/out/$1.err")"
}

conf "kdf_passes = 1" "kdf_memory_mib = 8" "browser = $tmp/no-browser"

# Before sesame init: no agent is started to fail, the command says what to run.
export SESAME_AGENT_PROGRAM="$AGENT"
run 6 noinit "$SESAME" list
says noinit 'run "sesame init" first' 'lancez d'\''abord « sesame init »'
[ ! -e "$SESAME_AGENT_SOCK" ] || fail "an agent was started before sesame init"
export SESAME_AGENT_PROGRAM=/bin/false

install_init
start_agent

# add without one of its required options names it and shows what to type.
run 2 nouser "$SESAME" add
says nouser 'the person is missing' 'la personne manque'
run 2 noservice "$SESAME" add "Mme Martin" --url https://caf.fr/ --username 42
says noservice '--service is missing' 'il manque --service'
says noservice '--service CAF' '--service CAF'
run 2 nourl "$SESAME" add "Mme Martin" --service CAF --username 42
says nourl '--url is missing' 'il manque --url'
run 2 nousername "$SESAME" add "Mme Martin" --service CAF --url https://caf.fr/
says nousername '--username is missing' 'il manque --username'

# A login that fails: the advice in the person's language; the agent's English detail only
# to a person who reads English.
enroll "Mme Martin" 284619
unlock_with 0 unlock "Mme Martin" 284619
run 0 add sh -c 'echo "s3cret-CAF" | "$0" add "Mme Martin" --service CAF \
	--url https://www.caf.fr/ --username 42 --secret-fd 0' "$SESAME"
run 1 login "$SESAME" login "Mme Martin" CAF --headless
says login 'the browser could not be started' 'le navigateur n'\''a pas pu être lancé'
says login 'the agent says:' 'Le journal de l'\''agent'
detail=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["error"])' <<JSON
$("$SESAME" login "Mme Martin" CAF --headless --json)
JSON
) || fail "login --json has no error detail"
if [ "$lang" = fr ]; then
	! grep -qF -- "$detail" "$tmp/out/login.err" || fail "English detail in French: $(err login)"
else
	grep -qF -- "$detail" "$tmp/out/login.err" || fail "no detail in English: $(err login)"
fi

# Long waits show a progress line at a terminal, erased when done; never in a pipe or --json.
PTY="$(dirname "$0")/ptyrun.py"
# progress NAME ENGLISH FRENCH SHOWN CMD...: run CMD at a terminal; SHOWN=1: the line was shown
# then erased, 0: never shown.
progress() {
	name=$1 en=$2 fr=$3 shown=$4
	shift 4
	if [ "$lang" = fr ]; then want=$fr; else want=$en; fi
	python3 "$PTY" "$tmp/out/$name.screen" '[]' "$@" >/dev/null 2>&1
	python3 -c 'import sys
screen = open(sys.argv[1], "rb").read()
at = screen.find(sys.argv[2].encode())
shown = at >= 0 and screen.find(b"\r\x1b[K", at) > at
sys.exit(0 if shown == (sys.argv[3] == "1") else 1)' "$tmp/out/$name.screen" "$want" "$shown" ||
		fail "$name: progress \"$want\" shown-and-erased should be $shown: $(cat -v "$tmp/out/$name.screen")"
}
run 0 lock "$SESAME" lock "Mme Martin"
progress p-unlock 'Checking the PIN' 'Vérification du code secret' 1 \
	sh -c 'echo 284619 | "$0" unlock "Mme Martin" --pin-fd 0' "$SESAME"
progress p-enroll 'Making the vault' 'Création du coffre' 1 \
	sh -c 'echo 730512 | "$0" enroll "M. Diallo" --pin-fd 0' "$SESAME"
progress p-login 'Starting the browser' 'Lancement du navigateur' 1 \
	"$SESAME" login "Mme Martin" CAF --headless
progress p-json 'Starting the browser' 'Lancement du navigateur' 0 \
	"$SESAME" login "Mme Martin" CAF --headless --json
run 0 lock2 "$SESAME" lock "Mme Martin"
unlock_with 0 unlock-pipe "Mme Martin" 284619
! grep -qF -e 'Checking the PIN' -e 'Vérification du code' "$tmp/out/unlock-pipe.err" ||
	fail "a progress line went to a pipe: $(err unlock-pipe)"

# audit verify says what was altered, and where, in the auditor's language.
sed -i '2s/"user"/"usex"/' "$SESAME_HOME/audit/audit.log"
grep -q '"usex"' "$SESAME_HOME/audit/audit.log" || fail "the test could not alter line 2"
run 10 tampered "$SESAME" audit verify
says tampered 'line 2 was altered' 'la ligne 2 a été modifiée'
says tampered 'TAMPERED' 'ALTÉRÉ'
run 11 nodir "$SESAME" audit --dir "$tmp/nowhere" verify
says nodir 'cannot open the log directory' 'impossible d'\''ouvrir le dossier du journal'

# Unsafe permissions name the file or directory, and the remedy: in the agent's reply (a link
# stands where a vault must be), at the agent's start, and before the CLI starts an agent.
vault="$SESAME_HOME/vaults/$USER_ID.vault"
[ -f "$vault" ] || fail "no vault $vault"
run 0 perm-lock "$SESAME" lock "Mme Martin"
mv "$vault" "$vault.real" && ln -s "$vault.real" "$vault"
run 0 perm-link python3 "$(dirname "$0")/agentproto.py" "$SESAME_AGENT_SOCK" \
	"{\"v\":1,\"op\":\"unlock\",\"user\":\"$USER_ID\",\"pin\":\"284619\"}"
expect_eq "code for a link" "$(jget perm-link 'j["code"]')" -37
expect_eq "path in the reply" "$(jget perm-link 'j.get("path")')" "$vault"
rm "$vault" && mv "$vault.real" "$vault"
stop_agent
chmod 0750 "$SESAME_HOME/vaults"
"$AGENT" >/dev/null 2>"$tmp/out/perm-agent.err" && fail "the agent started with an unsafe directory"
# (in French, a space comes before the colon)
grep -qF -e "$SESAME_HOME/vaults: " -e "$SESAME_HOME/vaults : " "$tmp/out/perm-agent.err" ||
	fail "the agent does not name the directory: $(cat "$tmp/out/perm-agent.err")"
SESAME_AGENT_PROGRAM="$AGENT" run 6 perm-start "$SESAME" list
says perm-start "$SESAME_HOME/vaults has unsafe permissions" \
	"$SESAME_HOME/vaults a des droits d'accès dangereux"
[ ! -e "$SESAME_AGENT_SOCK" ] || fail "an agent was started with an unsafe directory"
chmod 0700 "$SESAME_HOME/vaults"
echo "plain ($lang): ok"
