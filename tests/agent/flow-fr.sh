#!/bin/sh
# The contract's flow in French, as a French worker's desktop runs it (LANG=fr_FR.UTF-8): every
# step answers in French, none in English, and the same audit trail is written.
# $1 = sesame, $2 = sesame-agent, $3 = the build's message catalogs (SESAME_LOCALEDIR).
. "$(dirname "$0")/lib.sh"
export SESAME_LOCALEDIR=${3:?usage: $0 SESAME SESAME_AGENT LOCALEDIR}
locale -a 2>/dev/null | grep -qix 'fr_FR\.utf-\{0,1\}8' || { echo "no fr_FR.UTF-8 locale"; exit 77; }
unset LC_ALL LANGUAGE
export LANG=fr_FR.UTF-8

# says NAME TEXT: the command's output (stdout and stderr) holds TEXT.
says() {
	cat "$tmp/out/$1.out" "$tmp/out/$1.err" | grep -qF -- "$2" ||
		fail "$1: no \"$2\" in: $(cat "$tmp/out/$1.out" "$tmp/out/$1.err")"
}

conf "kdf_passes = 1" "kdf_memory_mib = 8"
run 0 init "$SESAME" init
says init "Installation"
says init "créée dans"
start_agent
run 0 enroll sh -c 'echo 284619 | "$0" enroll "Mme Martin" --pin-fd 0' "$SESAME"
says enroll "Inscription terminée pour Mme Martin"
says enroll "FEUILLE DE SECOURS"
sheet=$(grep -Eo '([0-9A-Z]{4}-){7}[0-9A-Z]{4}' "$tmp/out/enroll.out") || fail "no sheet"
run 5 nosession sh -c 'echo secret | "$0" add "Mme Martin" --service CAF --url https://caf.fr \
	--username 42 --secret-fd 0' "$SESAME"
says nosession "aucune session ouverte pour cette personne"
run 3 wrong sh -c 'echo 501738 | "$0" unlock "Mme Martin" --pin-fd 0' "$SESAME"
says wrong "code secret incorrect"
says wrong "Il vous reste 4 essais."
run 0 right sh -c 'echo 284619 | "$0" unlock "Mme Martin" --pin-fd 0' "$SESAME"
says right "Session ouverte pour Mme Martin."
run 0 add sh -c 'echo mdp-caf | "$0" add "Mme Martin" --service CAF \
	--url https://wwwd.caf.fr --username 1234567 --secret-fd 0' "$SESAME"
says add "Compte CAF enregistré."
# refused before a secret is typed, in French, naming the thing and the remedy
run 2 dup-name "$SESAME" enroll "mme  MARTIN"
says dup-name "une personne est déjà inscrite sous le nom « Mme Martin »"
run 2 bad-url "$SESAME" add "Mme Martin" --service Ameli --url caf.fr --username 42
says bad-url "« caf.fr » n'est pas une adresse web complète"
run 2 dup-service "$SESAME" add "Mme Martin" --service caf --url https://caf.fr/ --username 42
says dup-service "un compte « CAF » est déjà enregistré : pour le modifier, ajoutez --replace"
run 1 unknown "$SESAME" lock "Mme Personne"
says unknown "aucune personne inscrite ne s'appelle « Mme Personne »"
run 1 no-service "$SESAME" remove "Mme Martin" Impots --yes
says no-service "aucun compte « Impots »"
run 2 empty-pass sh -c 'echo "" | "$0" add "Mme Martin" --service Ameli \
	--url https://ameli.fr/ --username 42 --secret-fd 0' "$SESAME"
says empty-pass "le mot de passe est vide"
run 1 closed-fd "$SESAME" unlock "Mme Martin" --pin-fd 9
says closed-fd "impossible de lire le descripteur 9"
run 2 short-pin sh -c 'echo 123 | "$0" enroll "Mme Durand" --pin-fd 0' "$SESAME"
says short-pin "le code secret doit avoir de 6 à 12 chiffres"
run 0 status "$SESAME" status
says status "pour ce compte (mode utilisateur), processus"
says status "dossier des données : $SESAME_HOME"
# French as people write it: d'Aïcha, « 30 mai 2027 », the PIN rules in plain words
run 0 aicha sh -c 'echo 284619 | "$0" enroll "Aïcha" --pin-fd 0' "$SESAME"
says aicha "FEUILLE DE SECOURS d'Aïcha"
run 2 seq-pin sh -c 'echo 123456 | "$0" enroll "Mme Durand" --pin-fd 0' "$SESAME"
says seq-pin "chiffres qui se suivent (comme 123456)"
run 0 dated sh -c 'echo mdp | "$0" add "Mme Martin" --service Ameli --url https://ameli.fr/ \
	--username 42 --consent-until 2027-05-30 --notes "dossier APL" --secret-fd 0' "$SESAME"
run 0 dated-list "$SESAME" list "Mme Martin"
says dated-list "connexion assistée autorisée jusqu'au 30 mai 2027"
says dated-list "notes : dossier APL"
# the log keeps the consent's last day, in the intent and in the outcome, and no day for a
# consent without an end (CAF's)
run 0 dated-log "$SESAME" audit show --event credential_added
[ "$(grep -c 'service="Ameli" .*consent_until="2027-05-30"' "$tmp/out/dated-log.out")" = 2 ] ||
	fail "the consent's last day is not in Ameli's two records: $(cat "$tmp/out/dated-log.out")"
grep 'service="CAF"' "$tmp/out/dated-log.out" | grep -q consent_until &&
	fail "a consent without an end has a last day: $(cat "$tmp/out/dated-log.out")"
# the pinentry's buttons speak French too
rm -f "$tmp/spy.log"
echo 284619 >"$tmp/spy.answers"
SESAME_PINENTRY="$(cd "$(dirname "$0")" && pwd)/pinentry-spy.sh" SPY_LOG="$tmp/spy.log" \
	SPY_ANSWERS="$tmp/spy.answers" run 0 spy-unlock "$SESAME" unlock "Mme Martin"
grep -qx 'SETOK _Valider' "$tmp/spy.log" || fail "OK button: $(cat "$tmp/spy.log")"
grep -qx 'SETCANCEL _Annuler' "$tmp/spy.log" || fail "Cancel button: $(cat "$tmp/spy.log")"
run 0 list "$SESAME" list "Mme Martin"
says list "Services de Mme Martin"
run 0 lock "$SESAME" lock
says lock "Sessions fermées : 1."
run 5 locked "$SESAME" list "Mme Martin"
says locked "aucune session ouverte"
run 0 pin sh -c 'printf "284619\n730512\n" | "$0" pin "Mme Martin" --pin-fd 0' "$SESAME"
says pin "Code secret changé pour Mme Martin."
run 0 recover sh -c 'printf "%s\n135792\n" "$1" | "$0" recover "Mme Martin" --pin-fd 0' \
	"$SESAME" "$sheet"
says recover "Le coffre de Mme Martin est débloqué"
run 0 again sh -c 'echo 135792 | "$0" unlock "Mme Martin" --pin-fd 0' "$SESAME"
run 0 revoke "$SESAME" revoke "Mme Martin" --yes
says revoke "Le coffre de Mme Martin est détruit."
run 0 verify "$SESAME" audit verify
says verify "intact :"
for f in "$tmp"/out/*.out "$tmp"/out/*.err; do
	grep -qE "wrong PIN|attempts left|Session open|recorded\.|is destroyed|enrolled\.|already|not found|malformed|mode user|data directory" "$f" &&
		fail "English in $(basename "$f"): $(cat "$f")"
done
events >"$tmp/events"
for e in user_enrolled pin_wrong pin_ok session_opened credential_added session_closed \
	pin_changed recovery_used user_withdrawn; do
	grep -qx "$e" "$tmp/events" || fail "no $e record"
done
stop_agent
# The agent's own start-up messages are French too, with LANG or with LANGUAGE alone: a key file
# damaged in place (one character of the base64 made '!'), said by the agent and by a command
# that starts it.
KEY=$(ls "$XDG_CONFIG_HOME"/sesame/device-secret-*)
cp "$KEY" "$KEY.kept"
printf '!' | dd of="$KEY" bs=1 seek=30 conv=notrunc 2>/dev/null
run 1 agent-key timeout -k 1 20 "$AGENT"
says agent-key "$KEY : le fichier de clé est abîmé : restaurez-le depuis une sauvegarde"
run 1 agent-key-language env LANG=C.UTF-8 LANGUAGE=fr timeout -k 1 20 "$AGENT"
says agent-key-language "le fichier de clé est abîmé"
run 6 agent-key-cli env SESAME_AGENT_PROGRAM="$AGENT" timeout -k 1 20 "$SESAME" status
says agent-key-cli "le fichier de clé est abîmé"
grep -q "key file" "$tmp/out/agent-key-cli.err" && fail "English from the agent: $(err agent-key-cli)"
mv "$KEY.kept" "$KEY"
echo "flow-fr: ok"
