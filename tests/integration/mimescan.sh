#!/bin/sh
# mimescan.sh - a message built to make GMime's tree huge: 4 MiB of
# "--b" lines under a multipart header.  Piped in as an MTA does, it must
# be kept as rejected with the reason, exit 0, and peak within
# 16 x its size + 64 MiB (GNU time's maximum resident set size; 1.1 GB
# before mimescan.c, 18 MB after).

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

TMP=$(mktemp -d)
pg_start
trap 'rm -rf "$TMP"; pg_cleanup' EXIT

MSG=$TMP/dashes.eml
SIZE=$((4 * 1024 * 1024))
BOUND_KB=$(((16 * SIZE + 64 * 1024 * 1024) / 1024))

{
	printf 'From: reporter@sender.example\nSubject: dashes\n'
	printf 'Message-ID: <dashes@sender.example>\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
	# 5 bytes a unit: "--b", an empty line.
	awk -v n=$((SIZE / 5)) 'BEGIN { for (i = 0; i < n; i++) printf "--b\n\n" }'
} | head -c "$SIZE" >"$MSG"
check "message size" "$(wc -c <"$MSG" | tr -d ' ')" "$SIZE"

pg_newdb bomb || exit 99
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f '%M' -o "$TMP/rss" "$BIN" -d dbname=bomb \
	    <"$MSG" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	RSS_KB=$(tail -n 1 "$TMP/rss")
	ERR=$(cat "$TMP/err")
else
	pipe_bin "$MSG" -d dbname=bomb
	RSS_KB=
fi
check "exit 0" "$RC" 0
check_match "rejected with the reason" "$ERR" \
    'rejected: more than 512 MIME boundary lines'
check "kept in rejected_message" "$(pg_q bomb "SELECT count(*), min(reason),
    min(raw_size), bool_and(length(raw) = raw_size)
    FROM tlsrpt.rejected_message")" \
    "1|more than 512 MIME boundary lines|$SIZE|t"
check "report tables untouched" \
    "$(pg_q bomb "SELECT count(*) FROM tlsrpt.report")" 0

if [ -n "$RSS_KB" ]; then
	if [ "$RSS_KB" -le "$BOUND_KB" ]; then
		ok "peak RSS $RSS_KB KB <= $BOUND_KB KB"
	else
		not_ok "peak RSS" "got:  $RSS_KB KB" "want: <= $BOUND_KB KB"
	fi
elif [ "${CI:-}" = true ]; then
	not_ok "peak RSS" "/usr/bin/time (GNU time) is missing"
else
	echo "SKIP peak RSS: no /usr/bin/time (GNU time)"
fi

finish
