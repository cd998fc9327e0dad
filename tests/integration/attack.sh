#!/bin/sh
# attack.sh - the program against someone who can mail the report
# address: forged reports that claim a genuine reporter's key, in either
# order, in one batch and at the same time, and forged verdicts.  The
# genuine, authenticated report must win every time, and nothing may be
# lost: what it displaces is kept aside.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

C=$TI_TEST_DATA/corpus
TMP=$(mktemp -d)
pg_start
trap 'rm -rf "$TMP"; pg_cleanup' EXIT

# Our MTA, as the operator configured it.
AUTHSERV=mx.receiver.example
RID=2026-12-05T00:00:00Z_receiver.example

# report FILE FAILURES: a Google-like report for receiver.example with
# the predictable report-id and FAILURES failed sessions.
report() {
	sed -e 's/"organization-name": *"[^"]*"/"organization-name": "Google Inc."/' \
	    -e "s/\"report-id\": *\"[^\"]*\"/\"report-id\": \"$RID\"/" \
	    -e 's/"contact-info": *"[^"]*"/"contact-info": "smtp-tls-reporting@google.com"/' \
	    -e "s/\"total-failure-session-count\": *[0-9]*/\"total-failure-session-count\": $2/" \
	    "$C/domainaware__parsedmarc/rfc8460.json" >"$1"
}

# message OUT REPORT [AUTHRES...]: a multipart/report message from
# google.com carrying REPORT, with the Authentication-Results lines
# given, topmost first.
message() {
	_out=$1 _rep=$2
	shift 2
	{
		for _ar in "$@"; do
			printf 'Authentication-Results: %s\n' "$_ar"
		done
		cat <<MSG
From: noreply-smtp-tls-reporting@google.com
To: tlsrpt@receiver.example
Subject: Report Domain: receiver.example Submitter: google.com
Message-ID: <$(basename "$_out")@google.com>
Date: Sat, 05 Dec 2026 10:00:00 +0000
TLS-Report-Domain: receiver.example
TLS-Report-Submitter: google.com
MIME-Version: 1.0
Content-Type: multipart/report; report-type="tlsrpt"; boundary="b1"

--b1
Content-Type: text/plain

A report.
--b1
Content-Type: application/tlsrpt+gzip; name="google.com!receiver.example!1!2.json.gz"
Content-Transfer-Encoding: base64

$(gzip -c <"$_rep" | base64)
--b1--
MSG
	} >"$_out"
}

report "$TMP/forged.json" 999
report "$TMP/genuine.json" 303
PASS="$AUTHSERV; dkim=pass header.d=google.com header.s=20230601"
# The forger's own verdict sits below ours, or stands alone.
message "$TMP/forged.eml" "$TMP/forged.json" \
    "$AUTHSERV; dkim=none" "mx.forger.example; dkim=pass header.d=google.com"
message "$TMP/forged-alone.eml" "$TMP/forged.json" \
    "mx.forger.example; dkim=pass header.d=google.com"
message "$TMP/genuine.eml" "$TMP/genuine.json" "$PASS"

stored_failures() {
	pg_q "$1" "SELECT coalesce(string_agg(p.total_failure_session_count::text || ':' || r.authenticated, ','), 'none')
	    FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id"
}
displaced() {
	pg_q "$1" "SELECT count(*) FROM tlsrpt.rejected_message WHERE reason LIKE 'displaced by a report with the same organization-name and report-id%'"
}

# ---- Forged first, then the genuine one.
pg_newdb fg || exit 99
pipe_bin "$TMP/forged.eml" -d dbname=fg --authserv-id "$AUTHSERV"
check "forged first: stored for now" "$RC $(stored_failures fg)" "0 999:false"
pipe_bin "$TMP/genuine.eml" -d dbname=fg --authserv-id "$AUTHSERV"
check "then genuine: exit 0" "$RC" 0
check_match "then genuine: stored, not a duplicate" "$ERR" 'stored: organization="Google Inc\."'
check "then genuine: its rows replace the forged ones" "$(stored_failures fg)" "303:true"
check "then genuine: the forged one kept aside" "$(displaced fg)" 1
check "then genuine: nothing of the forged one left below report" \
    "$(pg_q fg "SELECT count(*) FROM tlsrpt.policy")/$(pg_q fg "SELECT count(*) FROM tlsrpt.failure_detail")" 1/3
pipe_bin "$TMP/genuine.eml" -d dbname=fg --authserv-id "$AUTHSERV"
check_match "the genuine one again: a duplicate" "$RC $ERR" '^0 .*duplicate: '

# ---- Genuine first, then the forged one: a duplicate, nothing changes.
pg_newdb gf || exit 99
pipe_bin "$TMP/genuine.eml" -d dbname=gf --authserv-id "$AUTHSERV"
pipe_bin "$TMP/forged.eml" -d dbname=gf --authserv-id "$AUTHSERV"
check_match "genuine first, then forged: a duplicate" "$RC $ERR" '^0 .*duplicate: '
check "genuine first, then forged: the genuine rows stay" "$(stored_failures gf)" "303:true"
# A second unauthenticated copy of a stored unauthenticated report stays
# a duplicate.
pg_newdb ff || exit 99
pipe_bin "$TMP/forged.eml" -d dbname=ff --authserv-id "$AUTHSERV"
pipe_bin "$TMP/forged-alone.eml" -d dbname=ff --authserv-id "$AUTHSERV"
check_match "two unauthenticated: the second a duplicate" "$RC $ERR" '^0 .*duplicate: '
check "two unauthenticated: nothing displaced" "$(displaced ff)" 0

# ---- Both in one batch, in either order: the genuine one is stored.
for order in "forged genuine" "genuine forged"; do
	db=b$(echo "$order" | tr -d ' ')
	pg_newdb "$db" || exit 99
	set --
	for w in $order; do set -- "$@" "$TMP/$w.eml"; done
	run_bin -d "dbname=$db" --authserv-id "$AUTHSERV" "$@"
	check "one batch, $order: exit 0" "$RC" 0
	check "one batch, $order: the genuine rows" "$(stored_failures "$db")" "303:true"
done

# ---- At the same time: eight forged and one genuine delivery at once.
pg_newdb cc || exit 99
for i in 1 2 3 4 5 6 7 8; do
	printf 'X-Copy: %s\n' "$i" | cat - "$TMP/forged.eml" >"$TMP/f$i.eml"
	( "$BIN" -d dbname=cc --authserv-id "$AUTHSERV" <"$TMP/f$i.eml" >/dev/null 2>&1; echo $? >"$TMP/cc.$i.rc" ) &
done
( "$BIN" -d dbname=cc --authserv-id "$AUTHSERV" <"$TMP/genuine.eml" >/dev/null 2>&1; echo $? >"$TMP/cc.g.rc" ) &
wait
check "at the same time: all exit 0" "$(cat "$TMP"/cc.*.rc | sort -u | tr '\n' ' ')" "0 "
check "at the same time: the genuine rows" "$(stored_failures cc)" "303:true"

# ---- A verdict counts only from our own MTA's header.
pg_newdb fv || exit 99
pipe_bin "$TMP/forged-alone.eml" -d dbname=fv --authserv-id "$AUTHSERV"
check "a forged dkim=pass under another authserv-id: not authenticated" \
    "$(stored_failures fv)" "999:false"
check "a forged dkim=pass: its verdict not recorded" \
    "$(pg_q fv "SELECT coalesce(dkim_result, 'NULL') FROM tlsrpt.report")" NULL
pipe_bin "$TMP/forged-alone.eml" -d dbname=fv --authserv-id "$AUTHSERV" --require-dkim
check_match "a forged dkim=pass, require_dkim: kept aside" "$RC $ERR" \
    '^0 .*rejected: no passing DKIM signature from the reporting domain \(dkim=none'
pg_newdb nv || exit 99
pipe_bin "$TMP/genuine.eml" -d dbname=nv
check "no authserv_id set: stored" "$RC" 0
check "no authserv_id set: no verdict trusted" "$(stored_failures nv)" "303:false"
check "no authserv_id set: none recorded" \
    "$(pg_q nv "SELECT coalesce(dkim_result, 'NULL') FROM tlsrpt.report")" NULL
pipe_bin "$TMP/genuine.eml" -d dbname=nv --require-dkim
check_match "no authserv_id set, require_dkim: kept aside, says why" "$ERR" \
    'rejected: no passing DKIM signature from the reporting domain \(authserv_id not set'

# ---- Poison among good messages: a 3,000-byte organization-name (once
# too large for the key's index), a report the server refuses, and a
# sparse file of a terabyte.  Every good message is stored, every poison
# kept aside with its reason against its own name, the sweep exits 0,
# and a second sweep has nothing left to do.
pg_newdb ps || exit 99
M=$TMP/Maildir
mkdir -p "$M/new" "$M/cur" "$M/tmp"
long=$(head -c 3000 /dev/zero | tr '\0' o)
for i in 1 2 3 4 5 6; do
	sed "s/\"report-id\": *\"[^\"]*\"/\"report-id\":\"good-$i\"/" \
	    "$C/domainaware__parsedmarc/rfc8460.json" >"$M/new/$i.good"
done
sed -e "s/\"organization-name\": *\"[^\"]*\"/\"organization-name\": \"$long\"/" \
    "$C/domainaware__parsedmarc/rfc8460.json" >"$M/new/3.long-org"
sed 's/"total-failure-session-count": *[0-9]*/"total-failure-session-count": -1/' \
    "$C/domainaware__parsedmarc/rfc8460.json" >"$M/new/4.negative"
truncate -s 1T "$M/new/5.sparse"
run_bin -d dbname=ps --maildir "$M"
check "poison in a sweep: exit 0" "$RC" 0
check "poison in a sweep: every good report stored" \
    "$(pg_q ps "SELECT count(*) FROM tlsrpt.report WHERE report_id LIKE 'good-%'")" 6
check "poison in a sweep: every poison kept aside" \
    "$(pg_q ps "SELECT count(*) FROM tlsrpt.rejected_message")" 3
check_match "poison in a sweep: the long name, against its own file" "$ERR" \
    'source=3\.long-org: rejected: organization-name: longer than 1024 bytes'
check_match "poison in a sweep: the sparse file, against its own file" "$ERR" \
    'source=5\.sparse: rejected: message larger than'
check "poison in a sweep: the sparse file kept truncated" \
    "$(pg_q ps "SELECT raw_truncated, raw_size FROM tlsrpt.rejected_message WHERE raw_size > 1000000")" \
    "t|33554432"
check "poison in a sweep: files where they belong" \
    "$(ls "$M/.Processed/cur" | wc -l | tr -d ' ')/$(ls "$M/.Rejected/cur" | wc -l | tr -d ' ')/$(ls "$M/new" | wc -l | tr -d ' ')" \
    "6/3/0"
run_bin -d dbname=ps --maildir "$M"
check "poison in a sweep: the next sweep has nothing to do" "$RC $(pg_q ps "SELECT count(*) FROM tlsrpt.report")" "0 6"

finish
