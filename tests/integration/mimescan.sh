#!/bin/sh
# mimescan.sh - messages built to make the program hold as much memory as
# they can, each at 4 MiB and at the default message size limit (32 MiB):
# boundary lines, thousands of tiny parts, deep message/rfc822 nesting,
# many header fields, one huge folded header field, one long unfolded
# header line, a huge base64 part (one JSON string), a gzip bomb past
# max_inflated_size, one that inflates to a 63 MiB JSON string (the
# most the JSON stage can be made to hold, about four times the string:
# the inflated text, the parser's growing buffer and the string it
# makes), and a multipart with no closing boundary.  Piped in as an MTA does, each must be kept whole as
# rejected with its reason, exit 0, and peak (GNU time's maximum
# resident set size) within one bound for all of them:
#     4 x the message size + 4 x max_inflated_size (64 MiB) + 32 MiB
# The figures are printed as "# rss" lines in the log.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

TMP=$(mktemp -d)
pg_start
trap 'rm -rf "$TMP"; pg_cleanup' EXIT

MIB=1048576
INFLATED=$((64 * MIB))
nl='
'

# head_block SHAPE SIZE: the top header fields every message has.
head_block() {
	printf 'From: reporter@sender.example\nTo: tlsrpt@receiver.example\n'
	printf 'Subject: Report Domain: receiver.example\n'
	printf 'Message-ID: <%s-%s@sender.example>\n' "$1" "$2"
	printf 'Date: Sat, 05 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\n'
}

# report_part TYPE: a multipart/report up to the report part's body.
report_part() {
	printf 'Content-Type: multipart/report; report-type="tlsrpt"; boundary="b"\n\n'
	printf -- '--b\nContent-Type: %s\nContent-Transfer-Encoding: base64\n\n' "$1"
}

# The gzip bombs, made once: 80 MiB of spaces (80 KB), more than
# max_inflated_size, and one JSON string of 63 MiB (64 KB), less.
head -c $((80 * MIB)) /dev/zero | tr '\0' ' ' | gzip -9 >"$TMP/spaces.gz"
{ printf '{"organization-name": "'; head -c $((63 * MIB)) /dev/zero |
    tr '\0' a; printf '"}'; } | gzip -9 >"$TMP/string.gz"

# shape SHAPE SIZE: the message, SIZE bytes exactly, on stdout.  Each
# repeats its unit (yes) until head cuts it at SIZE; a part that must end
# whole leaves room for itself and is followed by an epilogue.
shape() {
	# Base64 lines are 77 bytes for 57: the most raw bytes that fit.
	_raw=$((($2 - 4096) / 77 * 57))
	{
		head_block "$1" "$2"
		case $1 in
		boundaries)
			printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
			yes -- "--b$nl" ;;
		parts)
			printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
			yes -- "--b${nl}Content-Type: text/plain$nl${nl}x" ;;
		nesting)
			yes -- "Content-Type: message/rfc822$nl" ;;
		fields)
			yes -- "X-Field: 1" ;;
		field)
			printf 'X-Huge: x\n'
			yes -- "	folded folded folded folded folded folded" ;;
		line)
			printf 'X-Long: '
			head -c "$2" /dev/zero | tr '\0' x ;;
		base64)
			report_part application/tlsrpt+json
			{ printf '{"organization-name": "'
			  head -c $((_raw - 25)) /dev/zero | tr '\0' a
			  printf '"}'; } | base64
			printf -- '--b--\n\n'
			yes -- "epilogue" ;;
		bomb)
			report_part application/tlsrpt+gzip
			base64 "$TMP/spaces.gz"
			printf -- '--b--\n\n'
			yes -- "epilogue" ;;
		string)
			report_part application/tlsrpt+gzip
			base64 "$TMP/string.gz"
			printf -- '--b--\n\n'
			yes -- "epilogue" ;;
		unclosed)
			printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
			printf -- '--b\nContent-Type: text/plain\n\n'
			yes -- "no closing boundary follows" ;;
		esac
	} | head -c "$2"
}

# What each shape is refused for.
reason() {
	case $1 in
	boundaries|parts) echo 'more than 512 MIME boundary lines' ;;
	nesting) echo 'MIME nesting deeper than 8' ;;
	fields) echo 'more than 2000 header fields in one header block' ;;
	field|line) echo 'header block larger than 2097152 bytes' ;;
	base64|string) echo 'organization-name: longer than 1024 bytes' ;;
	bomb) echo "decompressed report exceeds $INFLATED bytes" ;;
	unclosed) echo 'no TLS-RPT report part found \(2 MIME parts\)' ;;
	esac
}

# Under AddressSanitizer the resident set is mostly its shadow memory
# and the quarantine of freed blocks, not the program's: figures only.
SANITIZED=
grep -q __asan_init "$BIN" && SANITIZED=yes
if [ ! -x /usr/bin/time ]; then
	if [ "${CI:-}" = true ]; then
		not_ok "peak RSS" "/usr/bin/time (GNU time) is missing"
	else
		echo "SKIP peak RSS: no /usr/bin/time (GNU time)"
	fi
fi

# deliver SHAPE MIB: the message piped in, in the background; its exit
# code, standard error and peak RSS (KiB) in $TMP/SHAPE.MIB.*
deliver() {
	_m=$TMP/$1.$2
	shape "$1" $(($2 * MIB)) >"$_m.eml"
	sha256sum <"$_m.eml" | cut -c1-64 >"$_m.sum"
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%M' -o "$_m.rss" "$BIN" -d dbname=bomb \
		    <"$_m.eml" >/dev/null 2>"$_m.err"
	else
		"$BIN" -d dbname=bomb <"$_m.eml" >/dev/null 2>"$_m.err"
	fi
	echo $? >"$_m.rc"
	rm -f "$_m.eml"
}

# Each shape at both sizes at once, the two sizes' checks after.
pg_newdb bomb || exit 99
for s in boundaries parts nesting fields field line base64 bomb string \
    unclosed; do
	deliver "$s" 4 &
	deliver "$s" 32 &
	wait
	for mib in 4 32; do
		_m=$TMP/$s.$mib
		SIZE=$((mib * MIB))
		name="$s, $mib MiB"
		check "$name: exit 0" "$(cat "$_m.rc")" 0
		check_match "$name: rejected with the reason" "$(cat "$_m.err")" \
		    "rejected: $(reason "$s") \(kept in tlsrpt.rejected_message\)"
		check "$name: kept whole" "$(pg_q bomb "SELECT raw_size,
		    length(raw) = raw_size, raw_truncated
		    FROM tlsrpt.rejected_message
		    WHERE raw_sha256 = decode('$(cat "$_m.sum")', 'hex')")" \
		    "$SIZE|t|f"
		[ -s "$_m.rss" ] || continue
		RSS_KB=$(tail -n 1 "$_m.rss")
		BOUND_KB=$(((4 * SIZE + 4 * INFLATED + 32 * MIB) / 1024))
		printf '# rss %-10s %2s MiB %6s KiB (bound %s KiB) %s\n' \
		    "$s" "$mib" "$RSS_KB" "$BOUND_KB" \
		    "$(sed -n 's/.* \(ms=[0-9]*\)$/\1/p' "$_m.err")"
		if [ -n "$SANITIZED" ]; then
			continue
		elif [ "$RSS_KB" -le "$BOUND_KB" ]; then
			ok "$name: peak RSS $RSS_KB KiB <= $BOUND_KB KiB"
		else
			not_ok "$name: peak RSS" "got:  $RSS_KB KiB" \
			    "want: <= $BOUND_KB KiB (4 x size + 288 MiB)"
		fi
	done
done
[ -n "$SANITIZED" ] &&
	echo "# peak RSS not asserted: built with AddressSanitizer"
check "report tables untouched" \
    "$(pg_q bomb "SELECT count(*) FROM tlsrpt.report")" 0

finish
