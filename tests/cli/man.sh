#!/bin/sh
# The man pages render at 80 columns without a word from groff: a table too wide for the line
# comes out garbled in a terminal, and the sections after it with it.
#   man.sh PAGE...
set -u
groff=$(command -v groff) || { echo "SKIP: no groff"; exit 77; }
fail=0
for page in "$@"; do
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 "$groff" -k -t -man -Tutf8 -ww -z -rLL=78n "$page" 2>&1)
	if [ -n "$warnings" ]; then
		echo "FAIL: $page: $warnings"
		fail=1
	fi
done
[ "$fail" -eq 0 ] && echo PASS
exit "$fail"
