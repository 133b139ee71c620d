#!/bin/sh
# A pinentry for the scenarios: speaks enough Assuan for sesame, refuses SETREPEAT (so sesame
# asks twice itself), answers each GETPIN with the next line of $SPY_ANSWERS, and writes what it
# was asked to $SPY_LOG: "start" when it starts, then each command with its text.
: "${SPY_LOG:?}" "${SPY_ANSWERS:?}"
count_file="$SPY_LOG.count"
echo start >>"$SPY_LOG"
echo "OK Pleased to meet you"
while IFS= read -r line; do
	printf '%s\n' "$line" >>"$SPY_LOG"
	case $line in
	SETREPEAT*) echo "ERR 536871187 Unknown IPC command" ;;
	GETPIN*)
		n=$(($(cat "$count_file" 2>/dev/null || echo 0) + 1))
		echo "$n" >"$count_file"
		answer=$(sed -n "${n}p" "$SPY_ANSWERS")
		[ -n "$answer" ] && echo "D $answer"
		echo OK
		;;
	BYE*)
		echo OK
		exit 0
		;;
	*) echo OK ;;
	esac
done
