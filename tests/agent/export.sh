#!/bin/sh
# The person takes their logins away: the real keepassxc-cli opens the KDBX 4 file with the
# passphrase and gives every password exactly, non-ASCII ones too, and refuses a wrong
# passphrase; the CSV holds the browsers' columns; the export needs the PIN and is recorded
# before the file is written; a refused export leaves no file; nothing is ever overwritten.
#   export.sh SESAME SESAME_AGENT KAT_FILE WORDS_FILE
. "$(dirname "$0")/lib.sh"
KAT=${3:-} WORDS=${4:-}

command -v keepassxc-cli >/dev/null || { echo "SKIP: no keepassxc-cli (tools/deps.sh test)"; exit 77; }

PIN=482916 WRONG=000000 PHRASE='cheval agrafe pile été'
P1='Caf-Secret-9f3Kq!zz' P2='Ünïcödé € 🔑 "quoted", <tag> & more' P3='mdp;virgule,guillemet"'
conf 'kdf_passes = 1' 'kdf_memory_mib = 8' 'pin_retries = 5'
install_init
start_agent
enroll Alice "$PIN"
unlock_with 0 unlock Alice "$PIN"
add() { # NAME SERVICE URL USERNAME PASSWORD [NOTES]
	printf '%s\n' "$5" >"$tmp/secret"
	run 0 "add-$1" "$SESAME" add Alice --service "$2" --url "$3" --username "$4" \
		--secret-fd 3 ${6:+--notes "$6"} 3<"$tmp/secret"
}
add caf CAF https://www.caf.fr/ 1234567 "$P1" 'rendez-vous le mardi'
add ameli 'Ameli été' https://assure.ameli.fr/ '2 85 07 75' "$P2"
add impots impots.gouv https://cfspart.impots.gouv.fr/ 'jean&dupont' "$P3"
run 0 lock "$SESAME" lock Alice # an export needs the PIN, not a session
rm -f "$tmp/secret"

printf '%s\n' "$PIN" >"$tmp/pin"
printf '%s\n' "$PHRASE" >"$tmp/phrase"
KDBX="$tmp/out/alice.kdbx"
run 0 export "$SESAME" export Alice --kdbx "$KDBX" --pin-fd 3 --passphrase-fd 4 \
	3<"$tmp/pin" 4<"$tmp/phrase"
out export | grep -q '^3 logins of Alice are in ' || fail "export says: $(out export)"
expect_eq "mode of the file" "$(stat -c %a "$KDBX")" 600

# keepassxc-cli, the passphrase on its standard input
kx() { printf '%s\n' "$PHRASE" | keepassxc-cli "$@" 2>"$tmp/out/kx.err"; }
titles=$(kx ls -q "$KDBX") || fail "keepassxc-cli cannot open the export: $(cat "$tmp/out/kx.err")"
expect_eq "entries" "$(echo "$titles" | sort | tr '\n' '|')" "Ameli été|CAF|impots.gouv|"
expect_eq "CAF password" "$(kx show -q -a Password "$KDBX" CAF)" "$P1"
expect_eq "Ameli password" "$(kx show -q -a Password "$KDBX" 'Ameli été')" "$P2"
expect_eq "impots password" "$(kx show -q -a Password "$KDBX" impots.gouv)" "$P3"
expect_eq "impots username" "$(kx show -q -a UserName "$KDBX" impots.gouv)" 'jean&dupont'
expect_eq "CAF url" "$(kx show -q -a URL "$KDBX" CAF)" https://www.caf.fr/
expect_eq "CAF notes" "$(kx show -q -a Notes "$KDBX" CAF)" 'rendez-vous le mardi'
kx show -q -s "$KDBX" 'Ameli été' | grep -qxF "Password: $P2" || fail "show -s lacks the password"
printf 'wrong passphrase\n' | keepassxc-cli ls -q "$KDBX" >/dev/null 2>&1 &&
	fail "keepassxc-cli opened the export with a wrong passphrase"

# A generated passphrase: five words of the bundled list, shown once on the terminal only,
# never on standard output nor in --json; it opens the file.
GEN="$tmp/out/gen.kdbx"
python3 "$(dirname "$0")/ptyrun.py" "$tmp/out/gen.screen" '[]' \
	sh -c '"$0" export Alice --kdbx "$1" --generate --json --pin-fd 3 3<"$2" >"$3"' \
	"$SESAME" "$GEN" "$tmp/pin" "$tmp/out/gen.json" || fail "export --generate: $(cat "$tmp/out/gen.screen")"
words=$(tr -d '\r' <"$tmp/out/gen.screen" | sed -n 's/^    \([a-z]\{4,8\}\( [a-z]\{4,8\}\)\{4\}\)$/\1/p')
[ -n "$words" ] || fail "no passphrase of five words on the terminal: $(cat "$tmp/out/gen.screen")"
for w in $words; do
	grep -qx "$w" "$WORDS" || fail "'$w' is not in the bundled list"
done
grep -qF "$words" "$tmp/out/gen.json" && fail "the generated passphrase reached standard output"
got=$(printf '%s\n' "$words" | keepassxc-cli show -q -a Password "$GEN" CAF 2>&1)
expect_eq "generated passphrase opens the file" "$got" "$P1"
run 2 generate-csv "$SESAME" export Alice --csv "$tmp/out/g.csv" --generate --yes
setsid -w "$SESAME" export Alice --kdbx "$tmp/out/notty.kdbx" --generate --pin-fd 3 \
	3<"$tmp/pin" >/dev/null 2>"$tmp/out/notty.err" </dev/null &&
	fail "--generate without a terminal was not refused"
grep -q 'no terminal here' "$tmp/out/notty.err" || fail "notty: $(cat "$tmp/out/notty.err")"
[ -e "$tmp/out/notty.kdbx" ] && fail "a refused export left its file"

# The known answer of the writer's unit test is a database keepassxc-cli opens too.
if [ -n "$KAT" ]; then
	got=$(printf 'cheval agrafe pile correct\n' | keepassxc-cli show -q -a Password "$KAT" ameli 2>&1)
	expect_eq "known answer's password" "$got" 'Ünïcödé€ 🔑'
fi

# Recorded before the file: pin_ok, the export's intent with format and count, its outcome.
expect_eq "export records" "$(audit_field export outcome | tr '\n' ' ')" "intent ok intent ok "
expect_eq "export reason" "$(audit_field export reason | sed -n 1p)" "kdbx 3"
"$SESAME" audit export --format jsonl | grep -qF "$P1" && fail "a password reached the log"

# Never overwritten; the file is left as it was.
run 1 export-exists "$SESAME" export Alice --kdbx "$KDBX" --pin-fd 3 --passphrase-fd 4 \
	3<"$tmp/pin" 4<"$tmp/phrase"
err export-exists | grep -q 'already exists' || fail "export-exists: $(err export-exists)"
kx ls -q "$KDBX" >/dev/null || fail "the refused export touched the existing file"

# A wrong PIN: counted, recorded, and no file left behind.
printf '%s\n' "$WRONG" >"$tmp/wrong"
run 3 export-wrong "$SESAME" export Alice --kdbx "$tmp/out/wrong.kdbx" --pin-fd 3 \
	--passphrase-fd 4 3<"$tmp/wrong" 4<"$tmp/phrase"
[ -e "$tmp/out/wrong.kdbx" ] && fail "a refused export left its file"
expect_eq "pin_wrong recorded" "$(events | tail -n 1)" pin_wrong

# A passphrase too short is refused before the PIN is asked.
printf 'court\n' >"$tmp/short"
run 2 export-short "$SESAME" export Alice --kdbx "$tmp/out/short.kdbx" --pin-fd 3 \
	--passphrase-fd 4 3<"$tmp/pin" 4<"$tmp/short"
[ -e "$tmp/out/short.kdbx" ] && fail "a refused export left its file"

# CSV: confirmed only with --yes away from a terminal; the browsers' columns, RFC 4180.
run 7 csv-unconfirmed "$SESAME" export Alice --csv "$tmp/out/a.csv" --pin-fd 3 3<"$tmp/pin"
[ -e "$tmp/out/a.csv" ] && fail "an unconfirmed CSV export left a file"
run 0 csv "$SESAME" export Alice --csv "$tmp/out/a.csv" --yes --pin-fd 3 3<"$tmp/pin"
out csv | grep -q 'NOT encrypted' || fail "the CSV export does not warn: $(out csv)"
expect_eq "mode of the CSV" "$(stat -c %a "$tmp/out/a.csv")" 600
printf 'name,url,username,password\r\n"CAF","https://www.caf.fr/","1234567","%s"\r\n"Ameli été","https://assure.ameli.fr/","2 85 07 75","%s"\r\n"impots.gouv","https://cfspart.impots.gouv.fr/","jean&dupont","%s"\r\n' \
	"$P1" "$(printf '%s' "$P2" | sed 's/"/""/g')" "$(printf '%s' "$P3" | sed 's/"/""/g')" >"$tmp/want.csv"
cmp -s "$tmp/want.csv" "$tmp/out/a.csv" || fail "the CSV differs: $(cat "$tmp/out/a.csv")"
expect_eq "csv reason" "$(audit_field export reason | tail -n 1)" "csv 3"

# --json
run 0 export-json "$SESAME" export Alice --kdbx "$tmp/out/b.kdbx" --json --pin-fd 3 \
	--passphrase-fd 4 3<"$tmp/pin" 4<"$tmp/phrase"
is_json export-json
expect_eq "json count" "$(jget export-json 'j["count"]')" 3
expect_eq "json format" "$(jget export-json 'j["format"]')" kdbx

# The one descriptor an export carries is refused, and closed, on any other request; an export
# without one, or with a file that is not new and empty, is refused before the PIN is checked.
python3 - "$SESAME_AGENT_SOCK" "$KDBX" <<'EOF' || fail "descriptors: see above"
import json, os, socket, struct, sys
def call(req, fds=()):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    body = json.dumps(dict(req, v=1)).encode()
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i" * len(fds), *fds))]
    s.sendmsg([struct.pack(">I", len(body)) + body], anc if fds else [])
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    r = json.loads(s.recv(n, socket.MSG_WAITALL))
    s.close()
    return r
r, w = os.pipe()
rep = call({"op": "status"}, [w])
os.close(w)
assert rep.get("code") == -101, rep
os.set_blocking(r, False)
assert os.read(r, 1) == b"", "the agent kept the descriptor"
ask = {"op": "export", "user": "Alice", "pin": "482916", "format": "csv"}
rep = call(ask)
assert rep.get("reason") == "export_file", rep
fd = os.open(sys.argv[2], os.O_RDWR)  # not empty
rep = call(ask, [fd])
assert rep.get("reason") == "export_file", rep
rep = call(dict(ask, format="kdbx", passphrase="court"), [fd])
assert rep.get("reason") == "passphrase_short", rep
os.close(fd)
EOF
expect_eq "PINs counted" "$(audit_field pin_wrong outcome | wc -l)" 1

run 0 verify "$SESAME" audit verify
stop_agent
echo "export: ok"
