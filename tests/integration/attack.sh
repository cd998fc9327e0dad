#!/bin/sh
# attack.sh - the program against someone who can mail the report
# address: forged reports that claim a genuine reporter's key, in either
# order, in one batch and at the same time, and forged verdicts; poison
# among good messages; and all of it at once against a resident server
# held by slow clients, pipe mode and Maildir sweeps.  The genuine,
# authenticated report must win every time, and nothing may be lost:
# what it displaces is kept aside.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

C=$TI_TEST_DATA/corpus
TMP=$(mktemp -d)
pg_start
# The resident server's socket and output (serve_start, lib.sh).
W=$TMP/serve
S=$W/socket
SPID=
cleanup() {
	[ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
	rm -rf "$TMP"
	pg_cleanup
}
trap cleanup EXIT

# Our MTA, as the operator configured it.
AUTHSERV=mx.receiver.example
RID=2026-12-05T00:00:00Z_receiver.example

# report FILE FAILURES [ID]: a Google-like report for receiver.example
# with the predictable report-id (or ID) and FAILURES failed sessions.
report() {
	sed -e 's/"organization-name": *"[^"]*"/"organization-name": "Google Inc."/' \
	    -e "s/\"report-id\": *\"[^\"]*\"/\"report-id\": \"${3:-$RID}\"/" \
	    -e 's/"contact-info": *"[^"]*"/"contact-info": "smtp-tls-reporting@google.com"/' \
	    -e "s/\"total-failure-session-count\": *[0-9]*/\"total-failure-session-count\": $2/" \
	    "$C/domainaware__parsedmarc/rfc8460.json" >"$1"
}

report "$TMP/forged.json" 999
report "$TMP/genuine.json" 303
PASS="$AUTHSERV; dkim=pass header.d=google.com header.s=20230601"
# The forger's own verdict sits below ours, or stands alone.
report_mail "$TMP/forged.eml" "$TMP/forged.json" receiver.example \
    "$AUTHSERV; dkim=none" "mx.forger.example; dkim=pass header.d=google.com"
report_mail "$TMP/forged-alone.eml" "$TMP/forged.json" receiver.example \
    "mx.forger.example; dkim=pass header.d=google.com"
report_mail "$TMP/genuine.eml" "$TMP/genuine.json" receiver.example "$PASS"

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

# ---- Counts at the largest integer.  A report may claim 2^63 - 1
# sessions in every count; two such reports and a genuine one for the
# same domain and day are all stored, and what adds them up (the daily
# totals, readiness, check) stops at the largest integer instead of
# failing.
YDAY=$(date -u -d yesterday +%Y-%m-%d)
MAX=9223372036854775807
# big NAME COUNT: a report of yesterday with COUNT in both summary counts
big() {
	report "$TMP/$1.json" "$2" "$1"
	sed -i -e "s/\"total-successful-session-count\": *[0-9]*/\"total-successful-session-count\": $2/" \
	    -e "s/\"start-datetime\": *\"[^\"]*\"/\"start-datetime\": \"${YDAY}T00:00:00Z\"/" \
	    -e "s/\"end-datetime\": *\"[^\"]*\"/\"end-datetime\": \"${YDAY}T23:59:59Z\"/" \
	    "$TMP/$1.json"
	report_mail "$TMP/$1.eml" "$TMP/$1.json" receiver.example
}
big max-1 $MAX
big max-2 $MAX
big small 7
pg_newdb mx || exit 99
for m in max-1 max-2 small; do
	pipe_bin "$TMP/$m.eml" -d dbname=mx
	check "largest counts: $m stored" "$RC" 0
done
check "largest counts: the three reports" \
    "$(pg_q mx "SELECT count(*) FROM tlsrpt.report")" 3
check "largest counts: the day's totals stop at the largest integer" \
    "$(pg_q mx "SELECT policies, successful, failed FROM tlsrpt.daily_policy")" \
    "3|$MAX|$MAX"
run_adm -d dbname=mx readiness --domain company-y.example
check_match "largest counts: readiness answers" "$RC $OUT" \
    "^0 company-y\\.example	sts	"
run_adm -d dbname=mx check --domain company-y.example
check_match "largest counts: check answers" "$RC $OUT" "^2 TLSRPT CRITICAL - "
check_match "largest counts: check's sums, whole" "$OUT" \
    "'sessions'=36893488147419103242;;;0 'failed_sessions'=18446744073709551621;;;0 "
for f in text html; do
	run_adm -d dbname=mx summary --since 7d --format $f
	check "largest counts: the $f summary answers" "$RC" 0
	check_match "largest counts: the $f summary names the domain" \
	    "$OUT" "company-y\\.example"
done

# ---- All at once, as an attacker would do it: a resident server whose
# readers six slow clients hold (three idle, three trickling, each
# connecting again whenever it is dropped), and meanwhile, as Postfix
# delivers them, good and poison messages and a forged report then the
# genuine one handed to it by pipe mode, and two Maildir sweeps: one of
# good messages, poison, a sparse file, a forged copy of a report that
# pipe mode delivers genuine at the same time, and a message that is a
# symbolic link to a private report; one whose cur is a symbolic link to
# a private directory.  Every delivery exits 0 within a few seconds,
# every good report is stored once, every poison kept once, the genuine
# reports win, and nothing private is read.
pg_newdb all || exit 99
mkdir -p "$W" "$TMP/private" "$TMP/all"
R=$C/domainaware__parsedmarc/rfc8460.json
# withid ID: the sample report with report-id ID
withid() {
	sed "s/\"report-id\": *\"[^\"]*\"/\"report-id\":\"$1\"/" "$R"
}
# dashes NAME: 64 KiB of boundary lines, more than mimescan.c allows
dashes() {
	{
		printf 'From: x@sender.example\nMessage-ID: <%s@sender.example>\n' "$1"
		printf 'Content-Type: multipart/mixed; boundary="b"\n\n'
		yes -- '--b'
	} | head -c 65536
}
A=$TMP/all
for id in pipe-1 pipe-2 pipe-3 shared; do
	withid "$id" >"$A/$id.json"
	report_mail "$A/$id.eml" "$A/$id.json" receiver.example
done
sed -e "s/\"organization-name\": *\"[^\"]*\"/\"organization-name\": \"$long\"/" \
    "$R" >"$A/long.json"
report_mail "$A/long.eml" "$A/long.json" receiver.example
sed 's/"total-failure-session-count": *[0-9]*/"total-failure-session-count": -1/' \
    "$R" | sed 's/"report-id": *"[^"]*"/"report-id":"negative-pipe"/' >"$A/neg.json"
report_mail "$A/neg.eml" "$A/neg.json" receiver.example
dashes pipe >"$A/dashes.eml"
head -c $((80 * 1048576)) /dev/zero | tr '\0' ' ' >"$A/bomb.json"
report_mail "$A/bomb.eml" "$A/bomb.json" receiver.example
rm -f "$A/bomb.json"
RID2=2026-12-05T00:00:00Z_second.example
report "$A/forged2.json" 999 "$RID2"
report "$A/genuine2.json" 303 "$RID2"
report_mail "$A/forged2.eml" "$A/forged2.json" receiver.example \
    "mx.forger.example; dkim=pass header.d=google.com"
report_mail "$A/genuine2.eml" "$A/genuine2.json" receiver.example "$PASS"
withid secret-1 >"$TMP/private/secret.json"
chmod 600 "$TMP/private/secret.json"

M=$TMP/AllMaildir
mkdir -p "$M/new" "$M/cur" "$M/tmp"
for i in 1 2 3; do withid "maildir-$i" >"$M/new/$i.good"; done
cp "$A/shared.eml" "$M/new/4.shared"
cp "$A/forged2.eml" "$M/new/5.forged"
sed -e "s/\"organization-name\": *\"[^\"]*\"/\"organization-name\": \"$long\"/" \
    "$R" >"$M/new/6.long-org"
sed 's/"total-failure-session-count": *[0-9]*/"total-failure-session-count": -1/' \
    "$R" >"$M/new/7.negative"
dashes maildir >"$M/new/8.dashes"
truncate -s 1T "$M/new/9.sparse"
ln -s "$TMP/private/secret.json" "$M/new/10.link"
# The poison's SHA-256, as the rows that keep it will say (the sparse
# file's cut at the message size limit).
sums=
for f in "$A/long.eml" "$A/neg.eml" "$A/dashes.eml" "$A/bomb.eml" \
    "$M/new/6.long-org" "$M/new/7.negative" "$M/new/8.dashes"; do
	sums="$sums $(sha256sum <"$f" | cut -c1-64)"
done
sums="$sums $(head -c 33554432 "$M/new/9.sparse" | sha256sum | cut -c1-64)"
M2=$TMP/LinkedMaildir
mkdir -p "$M2/new" "$M2/tmp"
withid m2-1 >"$M2/new/1.good"
ln -s "$TMP/private" "$M2/cur"

# The server refuses the gzip bomb at 8 MiB, so that its own work on it
# (mimescan.sh measures the default 64 MiB) stays well inside the time
# each delivery is allowed here, even under a sanitizer.
serve_start all --authserv-id "$AUTHSERV" -o max_inflated_size=8M || exit 99
for a in 1:idle 2:idle 3:idle 4:trickle 5:trickle 6:trickle; do
	attack "${a%%:*}" "${a#*:}" again
done
wait_until attackers_up 6 || not_ok "all at once: the slow clients connect"
sleep 0.5
# sweep M OUT: a sweep in the background; its exit code in OUT.rc
sweep() {
	"$BIN" -d dbname=all --authserv-id "$AUTHSERV" --maildir "$1" \
	    >/dev/null 2>"$2.err"
	echo $? >"$2.rc"
}
sweep "$M" "$TMP/sweep1" &
P1=$!
sweep "$M2" "$TMP/sweep2" &
P2=$!
# The deliveries, one after another as a queue runner makes them, each
# with its queue id, so that the server's log shows it handed over.
rcs=
slow=
n=0
t1=$(date +%s%N)
for f in pipe-1 long pipe-2 neg forged shared dashes genuine bomb \
    genuine2 pipe-3 pipe-1; do
	n=$((n + 1))
	case $f in
	forged|genuine) file=$TMP/$f.eml ;;
	*) file=$A/$f.eml ;;
	esac
	t0=$(date +%s%N)
	"$BIN" --socket "$S" -d dbname=all --authserv-id "$AUTHSERV" \
	    --queue-id "Q${n}X" <"$file" >/dev/null 2>&1
	rcs="$rcs$? "
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "# delivery $n ($f): $ms ms"
	[ "$ms" -lt 5000 ] || slow="$slow $f:${ms}ms"
done
check "all at once: every delivery exits 0" "$rcs" \
    "0 0 0 0 0 0 0 0 0 0 0 0 "
ms=$((($(date +%s%N) - t1) / 1000000))
check "all at once: every delivery within 5 s (all $n in $ms ms)" "$slow" ""
check "all at once: every delivery handed to the server" \
    "$(grep -c 'Q[0-9]*X' "$W/serve.err")" "$n"
wait "$P1" "$P2"
check "all at once: a message a symbolic link: the sweep exits 74" \
    "$(cat "$TMP/sweep1.rc")" 74
check_match "all at once: a message a symbolic link: one line naming it" \
    "$(grep -c 'symbolic link' "$TMP/sweep1.err") $(cat "$TMP/sweep1.err")" \
    "^1 .*10\.link: a symbolic link; refused, left in place"
check "all at once: the link stays, the rest moved" \
    "$(ls "$M/new")/$(ls "$M/.Processed/cur" | wc -l | tr -d ' ')/$(ls "$M/.Rejected/cur" | wc -l | tr -d ' ')" \
    "10.link/5/4"
check "all at once: cur a symbolic link: refused, exit 74, one line" \
    "$(cat "$TMP/sweep2.rc") $(wc -l <"$TMP/sweep2.err" | tr -d ' ')" "74 1"
check_match "all at once: cur a symbolic link: named" \
    "$(cat "$TMP/sweep2.err")" "maildir $M2: cur is a symbolic link; refused"
check "all at once: cur a symbolic link: nothing moved" \
    "$(ls "$M2" "$M2/new" | tr '\n' ' ')" "$(printf '%s:\ncur\nnew\ntmp\n\n%s:\n1.good\n' "$M2" "$M2/new" | tr '\n' ' ')"
check "all at once: the private report not moved" "$(ls "$TMP/private")" \
    secret.json
check "all at once: every good report stored once, the genuine ones" \
    "$(pg_q all "SELECT string_agg(report_id || ':' || authenticated, ' ' ORDER BY report_id) FROM tlsrpt.report")" \
    "$RID:true $RID2:true maildir-1:false maildir-2:false maildir-3:false pipe-1:false pipe-2:false pipe-3:false shared:false"
check "all at once: the genuine rows" \
    "$(pg_q all "SELECT string_agg(p.total_failure_session_count::text, ',' ORDER BY r.report_id) FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id WHERE r.report_id LIKE '2026-%'")" \
    "303,303"
kept=
for sum in $sums; do
	kept="$kept $(pg_q all "SELECT count(*) FROM tlsrpt.rejected_message
	    WHERE raw_sha256 = decode('$sum', 'hex')")"
done
check "all at once: every poison kept once" "$kept" " 1 1 1 1 1 1 1 1"
check "all at once: and nothing else but what was displaced" \
    "$(pg_q all "SELECT count(*) FROM tlsrpt.rejected_message
    WHERE reason NOT LIKE 'displaced%'")" 8
check_match "all at once: the forged ones displaced, kept aside" "$(displaced all)" '^[12]$'
touch "$W/attack.stop"
wait_until attackers_gone 6 || not_ok "all at once: the slow clients dropped"
check "all at once: each slow client answered retry, too slow" \
    "$(cat "$W"/attack.[0-9] | sort -u)" \
    "$(printf 'retry\t0\t\t\trequest cut short: too slow')"
check "all at once: each slow client dropped at least once" \
    "$(for f in "$W"/attack.[0-9]; do grep -c . "$f"; done | grep -c '^[1-9]')" 6
drops=$(cat "$W"/attack.[0-9] | wc -l | tr -d ' ')
check "all at once: each drop logged ($drops)" \
    "$(grep -c 'hand-off refused: request cut short: too slow' "$W/serve.err")" \
    "$drops"
pipe_bin "$A/pipe-1.eml" --socket "$S" -d dbname=all
check_match "all at once: still serving after" "$RC $ERR" '^0 .*duplicate: '
serve_stop
check "all at once: the server stops, exit 0" "$SRC" 0

finish
