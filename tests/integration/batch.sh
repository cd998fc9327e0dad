#!/bin/sh
# batch.sh - Maildir sweeps and mbox imports of the whole corpus: every
# message handled and moved, nothing lost, a second sweep a no-op, the
# same rows whichever way the corpus arrives, a database outage leaving
# everything in place, overlapping sweeps storing each report once, odd
# values stored exactly whichever way a report goes to the database.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

C=$TI_TEST_DATA/corpus
TMP=$(mktemp -d)
pg_start
trap 'rm -rf "$TMP"; pg_cleanup' EXIT

# Every corpus file as a message: .eml as it is, a bare report wrapped in
# a multipart/report message (gzip, base64).
mkdir -p "$TMP/msgs"
i=0
for f in $(find "$C" -type f ! -name '*.md' | sort); do
	i=$((i + 1))
	out=$TMP/msgs/$(printf '%03d' "$i").eml
	case $f in
	*.eml) cp "$f" "$out" ;;
	*)	{
		printf 'From: reports@sender.example\nTo: tlsrpt@receiver.example\n'
		printf 'Subject: TLS report %s\nMessage-ID: <%s@sender.example>\n' "$i" "$i"
		printf 'Date: Tue, 02 Jan 2024 03:04:05 +0000\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/report; report-type=tlsrpt; boundary="zz"\n\n'
		printf -- '--zz\nContent-Type: text/plain\n\nreport\n--zz\n'
		printf 'Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\n'
		case $f in
		*.gz) base64 <"$f" ;;
		*) gzip -c <"$f" | base64 ;;
		esac
		printf -- '--zz--\n'
		} >"$out" ;;
	esac
done
N=$i
N_REJECTED=$(grep -c '	rejected' "$TI_TEST_DATA/corpus-expected.txt")

newmaildir() {
	rm -rf "$1"
	mkdir -p "$1/new" "$1/cur" "$1/tmp"
	for m in "$TMP"/msgs/*.eml; do
		cp "$m" "$1/new/$(basename "$m" .eml).$$.host"
	done
	# Two already seen by a mail reader, in cur/ with flags: the two
	# from mox, whose reports are stored by no other message (a sweep
	# takes new/ before cur/, so which copy of a duplicate comes first
	# must not depend on it).
	for m in $(grep -l 'test\.xmox\.nl' "$TMP"/msgs/*.eml | head -2); do
		m=$(basename "$m" .eml)
		mv "$1/new/$m.$$.host" "$1/cur/$m.$$.host:2,S"
	done
}

count() { find "$1" -type f | wc -l | tr -d ' '; }

# The rows of a database, without ids, times of arrival or source.
rows() {
	pg_q "$1" "SELECT r.organization_name, r.report_id, r.contact_info,
	    r.start_datetime, r.end_datetime, encode(r.report_sha256, 'hex'),
	    p.policy_index, p.policy_type, p.policy_domain, p.policy_string,
	    p.mx_host, p.total_successful_session_count,
	    p.total_failure_session_count,
	    (SELECT string_agg(concat_ws('/', d.detail_index, d.result_type,
	        d.sending_mta_ip, d.receiving_ip, d.receiving_mx_hostname,
	        d.failed_session_count, d.failure_reason_code), ';'
	        ORDER BY d.detail_index) FROM tlsrpt.failure_detail d
	        WHERE d.policy_ref = p.id)
	    FROM tlsrpt.report r LEFT JOIN tlsrpt.policy p ON p.report_ref = r.id
	    ORDER BY 1, 2, 7" | sha256sum | cut -d' ' -f1
}

# ---- The reference: every message on its own, one process each, as a
# mail system delivers them (one report per statement, no batch).
pg_newdb ref || exit 99
rcs=
for m in "$TMP"/msgs/*.eml; do
	"$BIN" -q -d dbname=ref <"$m" >/dev/null 2>&1
	rcs="$rcs$?"
done
check "one by one: all exit 0" "$(echo "$rcs" | tr -d 0)" ""
REF=$(rows ref)
NREP=$(pg_q ref "SELECT count(*) FROM tlsrpt.report")
check "one by one: rejected kept" "$(pg_q ref "SELECT count(*) FROM tlsrpt.rejected_message")" "$N_REJECTED"

# ---- Every message as a FILE argument: a batch.
pg_newdb files || exit 99
run_bin -q -d dbname=files "$TMP"/msgs/*.eml
check "files: exit 0" "$RC" 0
check "files: the same rows as one by one" "$(rows files)" "$REF"

# ---- A Maildir sweep.
pg_newdb md || exit 99
M=$TMP/Maildir
newmaildir "$M"
run_bin -d dbname=md --maildir "$M"
check "sweep: exit 0" "$RC" 0
check "sweep: new/ is empty" "$(count "$M/new")" 0
check "sweep: cur/ is empty" "$(count "$M/cur")" 0
check "sweep: handled messages in .Processed/cur" "$(count "$M/.Processed/cur")" \
    $((N - N_REJECTED))
check "sweep: rejected messages in .Rejected/cur" "$(count "$M/.Rejected/cur")" "$N_REJECTED"
check "sweep: Maildir++ folders" "$(ls -d "$M/.Processed/new" "$M/.Processed/tmp" "$M/.Processed/maildirfolder" | wc -l | tr -d ' ')" 3
check "sweep: names from new/ get :2," "$(ls "$M/.Processed/cur" | grep -c ':2,$')" $((N - N_REJECTED - 2))
check "sweep: names from cur/ keep their flags" "$(ls "$M/.Processed/cur" | grep -c ':2,S$')" 2
check_match "sweep: summary line" "$ERR" \
    "maildir .*: stored $NREP, duplicates $((N - N_REJECTED - NREP)), rejected $N_REJECTED, left for retry 0, [0-9]+ ms"
check "sweep: the same rows as file by file" "$(rows md)" "$REF"
# Lines are written after the commit, yet each names its own message.
bad=0
for src in $(printf '%s\n' "$ERR" | sed -n 's/.*source=\([^:]*\): rejected: .*/\1/p'); do
	[ -e "$M/.Rejected/cur/$src" ] || [ -e "$M/.Rejected/cur/$src:2," ] || bad=$((bad + 1))
done
check "sweep: a rejected line names its message" \
    "$(printf '%s\n' "$ERR" | sed -n 's/.*source=\([^:]*\): rejected: .*/\1/p' | sort -u | wc -l | tr -d ' ') $bad" \
    "$N_REJECTED 0"
check "sweep: rejected kept" "$(pg_q md "SELECT count(*) FROM tlsrpt.rejected_message")" "$N_REJECTED"

run_bin -d dbname=md --maildir "$M"
check "second sweep: exit 0" "$RC" 0
check_match "second sweep: nothing to do" "$ERR" "stored 0, duplicates 0, rejected 0, left for retry 0"
check "second sweep: rows unchanged" "$(rows md)" "$REF"
check "second sweep: files unchanged" "$(count "$M/.Processed/cur")/$(count "$M/.Rejected/cur")" \
    "$((N - N_REJECTED))/$N_REJECTED"

# ---- The database goes down: everything stays where it was.
pg_newdb down || exit 99
newmaildir "$M"
pg_ctl_stop fast
run_bin -q -d dbname=down --maildir "$M"
check "database down: exit 75" "$RC" 75
check "database down: nothing moved" "$(count "$M/new")/$(count "$M/cur")" "$((N - 2))/2"
check "database down: no folders filled" "$(count "$M/.Processed/cur")/$(count "$M/.Rejected/cur")" 0/0
pg_ctl_start
run_bin -q -d dbname=down --maildir "$M"
check "database back: exit 0" "$RC" 0
check "database back: all handled" "$(count "$M/new")/$(count "$M/cur")" "0/0"
check "database back: the same rows" "$(rows down)" "$REF"

# ---- Two sweeps at once, while more mail is being delivered.
pg_newdb ov || exit 99
newmaildir "$M"
"$BIN" -q -d dbname=ov --maildir "$M" 2>"$TMP/s1" &
p1=$!
"$BIN" -q -d dbname=ov --maildir "$M" 2>"$TMP/s2" &
p2=$!
for m in "$TMP"/msgs/0[1-3]*.eml; do
	cp "$m" "$M/tmp/late.$(basename "$m")"
	mv "$M/tmp/late.$(basename "$m")" "$M/new/late.$(basename "$m")"
done
wait $p1; r1=$?
wait $p2; r2=$?
check "overlap: both exit 0" "$r1/$r2" "0/0"
run_bin -q -d dbname=ov --maildir "$M"
check "overlap: a last sweep exits 0" "$RC" 0
check "overlap: nothing left" "$(count "$M/new")/$(count "$M/cur")" "0/0"
late=$(ls "$TMP"/msgs/0[1-3]*.eml | wc -l | tr -d ' ')
check "overlap: nothing lost" "$(($(count "$M/.Processed/cur") + $(count "$M/.Rejected/cur")))" $((N + late))
check "overlap: each report stored once" "$(rows ov)" "$REF"

# ---- --delete, --done-folder, --dry-run.
pg_newdb del || exit 99
newmaildir "$M"
run_bin -q -d dbname=del --maildir "$M" --dry-run
check "dry-run sweep: nothing moved" "$(count "$M/new")/$(count "$M/cur")" "$((N - 2))/2"
check "dry-run sweep: nothing written" "$(pg_q del "SELECT count(*) FROM tlsrpt.report")" 0
run_bin -q -d dbname=del --maildir "$M" --delete
check "delete: exit 0" "$RC" 0
check "delete: handled messages deleted, rejected kept" \
    "$(count "$M/new")/$(count "$M/cur")/$(count "$M/.Rejected/cur")/$(ls -d "$M/.Processed" 2>/dev/null | wc -l | tr -d ' ')" \
    "0/0/$N_REJECTED/0"
newmaildir "$M"
run_bin -q -d dbname=del --maildir "$M" --done-folder Archive.TLS
check "done-folder: used" "$(count "$M/.Archive.TLS/cur")" $((N - N_REJECTED))
run_bin -q -d dbname=del --maildir "$M" --done-folder ../x
check "done-folder: a path is refused" "$RC" 64
run_bin -q -d dbname=del --maildir "$TMP/nonexistent"
check "not a Maildir: exit 74" "$RC" 74

# ---- A message that cannot be moved is named, the others are moved, and
# it stays where it was, to be a duplicate next time.
pg_newdb mv || exit 99
newmaildir "$M"
stuck=$(ls "$M/cur" | head -1)
mkdir -p "$M/.Processed/cur/$stuck/in-the-way"
run_bin -q -d dbname=mv --maildir "$M"
check "move fails: exit 74" "$RC" 74
check_match "move fails: named" "$ERR" "$stuck: cannot move: Is a directory"
check "move fails: it stays, the others moved" \
    "$(count "$M/new")/$(count "$M/cur")/$(($(count "$M/.Processed/cur") + $(count "$M/.Rejected/cur")))" "0/1/$((N - 1))"
rm -r "$M/.Processed/cur/$stuck"
run_bin -d dbname=mv --maildir "$M"
check "move fails: the next sweep exits 0" "$RC" 0
check_match "move fails: and finds a duplicate" "$ERR" "stored 0, duplicates 1, rejected 0"
check "move fails: the same rows" "$(rows mv)" "$REF"

# ---- A FIFO among the messages: refused at once, without waiting for a
# writer; the others are stored and moved, it stays, and the sweep
# exits 74.
pg_newdb fifo || exit 99
F=$TMP/Fifo
mkdir -p "$F/new" "$F/cur" "$F/tmp"
sed 's/"report-id": *"[^"]*"/"report-id":"fifo-1"/' "$C/domainaware__parsedmarc/rfc8460.json" >"$F/new/1.msg"
mkfifo "$F/new/2.fifo"
sed 's/"report-id": *"[^"]*"/"report-id":"fifo-3"/' "$C/domainaware__parsedmarc/rfc8460.json" >"$F/new/3.msg"
run_bin -d dbname=fifo -o timeout=5 --maildir "$F"
check "fifo: exit 74" "$RC" 74
check_match "fifo: named" "$ERR" "2.fifo: not a regular file"
check "fifo: the others stored and moved, it stays" \
    "$(pg_q fifo "SELECT string_agg(report_id, ',' ORDER BY report_id) FROM tlsrpt.report")/$(ls "$F/new")/$(count "$F/.Processed/cur")" \
    "fifo-1,fifo-3/2.fifo/2"

# ---- Symbolic links where a sweep expects a directory (new/, cur/, the
# folders and theirs, the Maildir itself), each pointing outside at a
# directory with a private file: refused with one line naming it before
# a message is read; nothing stored, moved, or written where it points.
RFC=$C/domainaware__parsedmarc/rfc8460.json
L=$TMP/Links
O=$TMP/outside
linkmaildir() {
	rm -rf "$L" "$O"
	mkdir -p "$L/new" "$L/cur" "$L/tmp" "$O"
	printf 'Subject: private\n\nnot for the database\n' >"$O/secret"
	chmod 600 "$O/secret"
	sed 's/"report-id": *"[^"]*"/"report-id":"link-1"/' "$RFC" >"$L/new/1.msg"
	sed 's/"report-id": *"[^"]*"/"report-id":"link-2"/' "$RFC" >"$L/cur/2.msg:2,S"
}
# The messages waiting, and what is where the links point.
snap() {
	(cd "$L" && ls new/ cur/)
	find "$O" -printf '%P %m %y\n' | sort
}
stored() {
	pg_q "$1" "SELECT (SELECT coalesce(string_agg(report_id, ',' ORDER BY report_id), '-') FROM tlsrpt.report) || '/' || (SELECT count(*) FROM tlsrpt.rejected_message)"
}
i=0
for d in new cur .Processed .Processed/tmp .Rejected .Rejected/cur; do
	i=$((i + 1))
	pg_newdb "ln$i" || exit 99
	linkmaildir
	case $d in
	new) mv "$L/new/1.msg" "$O/" ;;
	cur) mv "$L/cur/2.msg:2,S" "$O/" ;;
	esac
	rm -rf "${L:?}/$d"
	mkdir -p "$(dirname "$L/$d")"
	ln -s "$O" "$L/$d"
	before=$(snap)
	run_bin -q -d "dbname=ln$i" --maildir "$L"
	check "$d a symbolic link: exit 74" "$RC" 74
	check_match "$d a symbolic link: one line naming it" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ') $ERR" \
	    "^1 .*maildir $L: $d is a symbolic link; refused"
	check "$d a symbolic link: nothing stored" "$(stored "ln$i")" "-/0"
	check "$d a symbolic link: nothing moved, nothing written where it points" "$(snap)" "$before"
done
pg_newdb lnmd || exit 99
linkmaildir
ln -s "$L" "$TMP/LinkToMaildir"
before=$(snap)
for m in "$TMP/LinkToMaildir" "$TMP/LinkToMaildir/"; do
	run_bin -q -d dbname=lnmd --maildir "$m"
	check "the Maildir a symbolic link ($m): exit 74, one line" \
	    "$RC $(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" "74 1"
	check_match "the Maildir a symbolic link ($m): named" "$ERR" \
	    "maildir $TMP/LinkToMaildir/?: the Maildir is a symbolic link; refused"
	check "the Maildir a symbolic link ($m): nothing stored or moved" \
	    "$(stored lnmd) $(snap)" "-/0 $before"
done
# A message that is a symbolic link to a private file: refused by name
# and left in place; the others stored and moved.
pg_newdb lnmsg || exit 99
linkmaildir
ln -s "$O/secret" "$L/new/3.link"
run_bin -q -d dbname=lnmsg --maildir "$L"
check "a message a symbolic link: exit 74" "$RC" 74
check_match "a message a symbolic link: one line naming it" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ') $ERR" \
    "^1 .*3\.link: a symbolic link; refused, left in place"
check "a message a symbolic link: the others stored, it not" "$(stored lnmsg)" "link-1,link-2/0"
check "a message a symbolic link: it stays, the others moved" \
    "$(ls "$L/new")/$(ls "$L/cur" | wc -l | tr -d ' ')/$(count "$L/.Processed/cur")/$(ls "$O")" "3.link/0/2/secret"

# ---- A sweep killed once it has moved some files: whatever it did not
# move stays, and the next sweep stores each report once and moves the
# rest.
# The kill must land while the files are being moved, which takes a few
# milliseconds: on a busy machine it can come too late, so up to three
# tries (each from scratch).
K=$TMP/Kill
killed= tries=0
while [ "$tries" -lt 3 ]; do
	tries=$((tries + 1))
	rm -rf "$K"
	"$PG_BINDIR/dropdb" --if-exists kill && pg_newdb kill || exit 99
	mkdir -p "$K/new" "$K/cur" "$K/tmp"
	for r in $(seq 60); do
		for m in "$TMP"/msgs/*.eml; do
			cp "$m" "$K/new/$r.$(basename "$m" .eml).host"
		done
	done
	"$BIN" -q -d dbname=kill --maildir "$K" 2>"$TMP/kill.err" &
	p=$!
	killed=
	while [ -z "$killed" ] && kill -0 "$p" 2>/dev/null; do
		if [ -n "$(ls "$K/.Processed/cur" 2>/dev/null | head -1)" ]; then
			kill -9 "$p" && killed=yes
		fi
	done
	{ wait "$p"; } 2>/dev/null
	[ -n "$killed" ] && [ "$(count "$K/new")" -gt 0 ] && break
done
check "sweep killed: killed while running" "${killed:-no}" yes
check "sweep killed: some left" "$(count "$K/new" | sed 's/^[1-9][0-9]*$/some/')" some
run_bin -q -d dbname=kill --maildir "$K"
check "sweep killed: the next sweep exits 0" "$RC" 0
check "sweep killed: nothing left, nothing lost" \
    "$(count "$K/new")/$(($(count "$K/.Processed/cur") + $(count "$K/.Rejected/cur")))" "0/$((60 * N))"
# (Which of two messages carrying one report comes first depends here on
# the order the directory lists names in: counts, not rows.)
check "sweep killed: each report stored once, each rejection kept once" \
    "$(pg_q kill "SELECT (SELECT count(*) FROM tlsrpt.report) || '/' || (SELECT count(*) FROM tlsrpt.rejected_message)")" \
    "$NREP/$N_REJECTED"

# ---- The same report more than once in a sweep, in the same group of
# reports and in a later one: the first copy is stored, whole and once,
# the others are duplicates, and no policy or failure detail of theirs is
# attached to it.
pg_newdb tw || exit 99
T=$TMP/Twice
mkdir -p "$T/new" "$T/cur" "$T/tmp"
RFC=$C/domainaware__parsedmarc/rfc8460.json
sed 's/"report-id": *"[^"]*"/"report-id":"twice"/' "$RFC" >"$T/new/001.a"
sed -e 's/"report-id": *"[^"]*"/"report-id":"twice"/' -e 's/5326/1/' "$RFC" >"$T/new/002.b"
for i in $(seq 3 80); do
	sed "s/\"report-id\": *\"[^\"]*\"/\"report-id\":\"fill-$i\"/" "$RFC" >"$T/new/$(printf '%03d' "$i").f"
done
sed -e 's/"report-id": *"[^"]*"/"report-id":"twice"/' -e 's/"policy-type": *"sts"/"policy-type":"tlsa"/' "$RFC" >"$T/new/081.c"
run_bin -d dbname=tw --maildir "$T"
check "twice: exit 0" "$RC" 0
check_match "twice: summary" "$ERR" "stored 79, duplicates 2, rejected 0, left for retry 0"
check "twice: the first copy stored" "$(pg_q tw "SELECT count(*), string_agg(encode(report_sha256, 'hex'), ',') FROM tlsrpt.report WHERE report_id = 'twice'")" \
    "1|$(sha256sum <"$T/.Processed/cur/001.a:2," | cut -d' ' -f1)"
check "twice: its policy and failure details, once" "$(pg_q tw "SELECT p.policy_type, p.total_successful_session_count, count(d.id)
    FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id
    LEFT JOIN tlsrpt.failure_detail d ON d.policy_ref = p.id AND d.report_ref = r.id
    WHERE r.report_id = 'twice' GROUP BY p.id")" "sts|5326|3"
check "twice: every report whole" "$(pg_q tw "SELECT count(DISTINCT r.id), count(DISTINCT p.id), count(d.id) FROM tlsrpt.report r
    JOIN tlsrpt.policy p ON p.report_ref = r.id JOIN tlsrpt.failure_detail d ON d.policy_ref = p.id AND d.report_ref = r.id")" "79|79|237"
check "twice: stored in the order of the messages" "$(pg_q tw "SELECT string_agg(report_id, ',' ORDER BY id) FROM (SELECT id, report_id FROM tlsrpt.report ORDER BY id LIMIT 3) x")" \
    "twice,fill-3,fill-4"
# A group the server refuses is rolled back, which leaves a gap in the ids.
check "twice: stored as groups, none refused" "$(pg_q tw "SELECT max(id) - count(*) FROM tlsrpt.policy")" 0
check "twice: all moved" "$(count "$T/new")/$(count "$T/.Processed/cur")" "0/81"

# ---- More messages than one chunk of names (4000) and one batch: 4500
# reports, each with its own report-id.
pg_newdb many || exit 99
B=$TMP/Many
mkdir -p "$B/new" "$B/cur" "$B/tmp"
awk -v dir="$B/new" 'BEGIN { getline tpl < ARGV[1]; close(ARGV[1]);
    for (i = 1; i <= 4500; i++) { r = tpl;
	sub(/"report-id":"[^"]*"/, "\"report-id\":\"many-" i "\"", r);
	f = dir "/" i ".many"; print r > f; close(f) } }' \
    "$C/aldy505__mailweave/google.com_example.com_1747094400_1747180799_001.json"
run_bin -d dbname=many --maildir "$B"
check "4500 messages: exit 0" "$RC" 0
check "4500 messages: all stored, all moved" \
    "$(pg_q many "SELECT count(DISTINCT report_id) FROM tlsrpt.report")/$(count "$B/new")/$(count "$B/.Processed/cur")" \
    "4500/0/4500"
check_match "4500 messages: summary" "$ERR" "stored 4500, duplicates 0, rejected 0, left for retry 0"

# ---- A report of 10,000 policies and 90,000 failure details at the end of
# a sweep, when the server has long reused its plan for groups of small
# reports: stored in seconds, not stopped by the statement time limit.
pg_newdb huge || exit 99
H=$TMP/Huge
mkdir -p "$H/new" "$H/cur" "$H/tmp"
for f in $(ls "$B/.Processed/cur" | head -400); do
	cp "$B/.Processed/cur/$f" "$H/new/${f%%:*}"
done
awk 'BEGIN {
	printf "{\"organization-name\":\"Huge\",\"report-id\":\"huge\","
	printf "\"date-range\":{\"start-datetime\":\"2024-01-01T00:00:00Z\","
	printf "\"end-datetime\":\"2024-01-01T23:59:59Z\"},\"policies\":["
	for (i = 0; i < 10000; i++) {
		printf "%s{\"policy\":{\"policy-type\":\"sts\",", i ? "," : ""
		printf "\"policy-domain\":\"d%d.example\"},\"summary\":", i
		printf "{\"total-successful-session-count\":1,"
		printf "\"total-failure-session-count\":9},\"failure-details\":["
		for (j = 0; j < 9; j++)
			printf "%s{\"result-type\":\"certificate-expired\",\"failed-session-count\":1}", j ? "," : ""
		printf "]}"
	}
	printf "]}\n"
}' >"$H/new/zzzz.huge"
run_bin -q -d dbname=huge -o statement_timeout=20 --maildir "$H"
check "huge report after many groups: exit 0" "$RC" 0
check "huge report after many groups: stored whole" \
    "$(pg_q huge "SELECT count(*) FROM tlsrpt.report")/$(pg_q huge "SELECT count(*) FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref WHERE r.report_id = 'huge'")/$(pg_q huge "SELECT count(*) FROM tlsrpt.failure_detail d JOIN tlsrpt.report r ON r.id = d.report_ref WHERE r.report_id = 'huge'")" \
    "401/10000/90000"

# ---- Values as they are sent, stored exactly both ways: one report on
# its own (pipe mode's three statements) and in a group of a sweep among
# others (tlsrpt.ingest_reports).  Quotes, backslashes, commas, braces, "NULL",
# empty and non-ASCII text; addresses of both families and ones no inet
# takes (NULL); times either side of 2000-01-01; the largest bigint.
cat >"$TMP/esc.json" <<'JSON'
{"organization-name":"Quote \" Back \\ Org, {x}","report-id":"esc \"1\" \\ {a,b}","contact-info":"mailto:\"a\\b\"@x.example","date-range":{"start-datetime":"1999-12-31T23:59:59.999999Z","end-datetime":"2000-01-01T00:00:00.5Z"},"policies":[
{"policy":{"policy-type":"sts","policy-domain":"caf\u00e9.example","policy-string":["version: STSv1","NULL","","a,b","{c}","\"d\"","e\\f","\u65e5\u672c"],"mx-host":["mx,1","NULL"]},"summary":{"total-successful-session-count":9223372036854775807,"total-failure-session-count":10},"failure-details":[
{"result-type":"certificate-expired","sending-mta-ip":"192.0.2.1","receiving-ip":"2001:db8::1","receiving-mx-hostname":"mx \"1\"","receiving-mx-helo":"h\\1","additional-information":"{\"x\"}","failure-reason-code":"NULL","failed-session-count":3},
{"result-type":"t\u00e4st","sending-mta-ip":"::ffff:192.0.2.1","receiving-ip":"x.x.x.x","failed-session-count":7},
{"result-type":"","sending-mta-ip":"192.0.2.1/24","receiving-ip":"fe80::1%eth0","failed-session-count":0},
{"result-type":"{}","sending-mta-ip":"2001:DB8:0:0:0:0:0:2","receiving-ip":"0.0.0.0","failed-session-count":0}]},
{"policy":{"policy-type":"no-policy-found","policy-domain":"b.example"},"summary":{"total-successful-session-count":0,"total-failure-session-count":0},"failure-details":[]}]}
JSON
{
	printf 'From: reports@sender.example\nTo: tlsrpt@receiver.example\n'
	printf 'Subject: =?UTF-8?B?Q2Fmw6kgInEiIFwge2EsYn0sIE5VTEw=?=\n'
	printf 'Message-ID: <esc@sender.example>\nDate: Fri, 31 Dec 1999 22:59:59 -0100\n'
	printf 'TLS-Report-Domain: receiver.example\nTLS-Report-Submitter: sender.example\n'
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: multipart/report; report-type=tlsrpt; boundary="zz"\n\n'
	printf -- '--zz\nContent-Type: text/plain\n\nreport\n--zz\n'
	printf 'Content-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\n'
	gzip -c <"$TMP/esc.json" | base64
	printf -- '--zz--\n'
} >"$TMP/esc.eml"
# Text quoted, its bytes escaped (\ooo beyond ASCII, \\), NULL as -.
esc_text() {
	echo "coalesce('\"' || encode(convert_to($1, 'UTF8'), 'escape') || '\"', '-')"
}
esc_rows() {
	pg_q "$1" "SELECT $(esc_text r.organization_name),
	    $(esc_text r.report_id), $(esc_text r.contact_info),
	    r.start_datetime AT TIME ZONE 'UTC',
	    r.end_datetime AT TIME ZONE 'UTC', r.source,
	    $(esc_text r.message_id), $(esc_text r.message_from),
	    r.message_date AT TIME ZONE 'UTC', $(esc_text r.message_subject),
	    $(esc_text r.tls_report_domain),
	    $(esc_text r.tls_report_submitter), $(esc_text r.dkim_result),
	    coalesce(r.submitter_match::text, '-'),
	    r.report->>'report-id' = r.report_id
	    FROM tlsrpt.report r WHERE r.organization_name LIKE 'Quote%'"
	pg_q "$1" "SELECT p.policy_index, $(esc_text p.policy_type),
	    $(esc_text p.policy_domain), $(esc_text p.policy_string::text),
	    $(esc_text p.mx_host::text), p.total_successful_session_count,
	    p.total_failure_session_count
	    FROM tlsrpt.policy p JOIN tlsrpt.report r ON r.id = p.report_ref
	    WHERE r.organization_name LIKE 'Quote%' ORDER BY p.policy_index"
	pg_q "$1" "SELECT p.policy_index, d.detail_index,
	    $(esc_text d.result_type), coalesce(d.sending_mta_ip::text, '-'),
	    coalesce(d.receiving_ip::text, '-'),
	    $(esc_text d.receiving_mx_hostname), $(esc_text d.receiving_mx_helo),
	    d.failed_session_count, $(esc_text d.additional_information),
	    $(esc_text d.failure_reason_code)
	    FROM tlsrpt.failure_detail d
	    JOIN tlsrpt.policy p ON p.id = d.policy_ref
	    JOIN tlsrpt.report r ON r.id = d.report_ref
	    WHERE r.organization_name LIKE 'Quote%'
	    ORDER BY p.policy_index, d.detail_index"
}
cat >"$TMP/esc.want" <<'EXPECT'
"Quote " Back \\ Org, {x}"|"esc "1" \\ {a,b}"|"mailto:"a\\b"@x.example"|1999-12-31 23:59:59.999999|2000-01-01 00:00:00.5|mail|"esc@sender.example"|"reports@sender.example"|1999-12-31 23:59:59|"Caf\303\251 "q" \\ {a,b}, NULL"|"receiver.example"|"sender.example"|-|false|t
0|"sts"|"caf\303\251.example"|"{"version: STSv1","NULL","","a,b","{c}","\\"d\\"","e\\\\f",\346\227\245\346\234\254}"|"{"mx,1","NULL"}"|9223372036854775807|10
1|"no-policy-found"|"b.example"|-|-|0|0
0|0|"certificate-expired"|192.0.2.1/32|2001:db8::1/128|"mx "1""|"h\\1"|3|"{"x"}"|"NULL"
0|1|"t\303\244st"|::ffff:192.0.2.1/128|-|-|-|7|-|-
0|2|""|-|-|-|-|0|-|-
0|3|"{}"|2001:db8::2/128|0.0.0.0/32|-|-|0|-|-
EXPECT
pg_newdb esc1 || exit 99
pipe_bin "$TMP/esc.eml" -d dbname=esc1
check "exact values, one report: exit 0" "$RC" 0
check "exact values, one report" "$(esc_rows esc1)" "$(cat "$TMP/esc.want")"
check "exact values, one report: the hash of the report" "$(pg_q esc1 "SELECT encode(report_sha256, 'hex') FROM tlsrpt.report")" \
    "$(sha256sum <"$TMP/esc.json" | cut -d' ' -f1)"
pg_newdb esc2 || exit 99
E=$TMP/Esc
mkdir -p "$E/new" "$E/cur" "$E/tmp"
for i in 1 2 3 4 6 7 8 9 10 11; do
	sed "s/\"report-id\": *\"[^\"]*\"/\"report-id\":\"esc-$i\"/" "$RFC" >"$E/new/$(printf '%03d' "$i")"
done
cp "$TMP/esc.eml" "$E/new/005"
cp "$C/YnkDK__tls_reporting/no-policies.json" "$E/new/012"
run_bin -d dbname=esc2 --maildir "$E"
check_match "exact values, in a sweep: all stored" "$ERR" "stored 12, duplicates 0, rejected 0"
check "exact values, in a sweep" "$(esc_rows esc2)" "$(cat "$TMP/esc.want")"
check "exact values: the hash of the report" "$(pg_q esc2 "SELECT encode(report_sha256, 'hex') FROM tlsrpt.report WHERE organization_name LIKE 'Quote%'")" \
    "$(sha256sum <"$TMP/esc.json" | cut -d' ' -f1)"

# ---- The same corpus as an mbox (mboxrd).
for m in "$TMP"/msgs/*.eml; do
	echo "From reports@sender.example Tue Jan  2 03:04:05 2024"
	tr -d '\r' <"$m" | sed 's/^\(>*From \)/>\1/'
	echo
done >"$TMP/corpus.mbox"
pg_newdb mb || exit 99
run_bin -d dbname=mb --mbox "$TMP/corpus.mbox"
check "mbox: exit 0" "$RC" 0
check_match "mbox: summary" "$ERR" "mbox .*: stored $NREP, duplicates $((N - N_REJECTED - NREP)), rejected $N_REJECTED, left for retry 0"
check "mbox: the same rows" "$(rows mb)" "$REF"
check "mbox: left untouched" "$(wc -c <"$TMP/corpus.mbox" | tr -d ' ')" "$(for m in "$TMP"/msgs/*.eml; do echo "From reports@sender.example Tue Jan  2 03:04:05 2024"; tr -d '\r' <"$m" | sed 's/^\(>*From \)/>\1/'; echo; done | wc -c | tr -d ' ')"
run_bin -q -d dbname=mb --mbox "$TMP/corpus.mbox"
check "mbox again: exit 0, no change" "$RC/$(rows mb)" "0/$REF"
pg_ctl_stop fast
run_bin -q -d dbname=mb --mbox "$TMP/corpus.mbox"
check "mbox, database down: exit 75" "$RC" 75
pg_ctl_start
run_bin -q --mbox "$TMP/nonexistent.mbox"
check "mbox missing: exit 74" "$RC" 74

# ---- An mbox cut to half while it is imported (a mail reader rewrote
# it): no signal, exit 74 with a line naming it, the batch in progress
# not committed and nothing cut stored (as rejected); the messages
# committed before stay, each report whole, the first ones of the file.
# The import is held on a lock of the report table, long enough for its
# batch to be due, while the file is cut.
pg_newdb cut || exit 99
python3 "$top_srcdir/tests/bench/gen.py" 3000 "$TMP/gen" 11
awk 'FNR == 1 { if (NR > 1) print ""; print "From reports@sender.example Tue Jan  2 03:04:05 2024" }
    { sub(/^>*From /, ">&"); print } END { print "" }' "$TMP"/gen/new/* >"$TMP/big.mbox"
locks() {
	pg_q cut "SELECT count(*) FROM pg_locks WHERE relation = 'tlsrpt.report'::regclass AND $1"
}
locked() { [ "$(locks "granted AND mode = 'ExclusiveLock'")" = 1 ]; }
waiting() { [ "$(locks "NOT granted")" -ge 1 ]; }
"$PG_BINDIR/psql" -X -q -d cut -c "BEGIN; LOCK TABLE tlsrpt.report IN EXCLUSIVE MODE; SELECT pg_sleep(100)" >/dev/null 2>&1 &
locker=$!
wait_until locked
"$BIN" -d dbname=cut --mbox "$TMP/big.mbox" >/dev/null 2>"$TMP/cut.err" &
imp=$!
wait_until waiting
truncate -s $(($(wc -c <"$TMP/big.mbox") / 2)) "$TMP/big.mbox"
sleep 2
pg_q cut "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(100)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$imp"
rc=$?
{ wait "$locker"; } 2>/dev/null
ERR=$(cat "$TMP/cut.err")
check "mbox cut while imported: exit 74, no signal" "$rc" 74
check_match "mbox cut while imported: named" "$ERR" \
    "error: $TMP/big.mbox: message [0-9]+: the file changed while it was read"
check "mbox cut while imported: some committed before, nothing rejected" \
    "$(pg_q cut "SELECT count(*) > 0, (SELECT count(*) FROM tlsrpt.rejected_message) FROM tlsrpt.report")" "t|0"
check "mbox cut while imported: each report whole" "$(pg_q cut "SELECT count(*) FROM tlsrpt.report r
    WHERE (SELECT count(*) FROM tlsrpt.policy p WHERE p.report_ref = r.id) <> jsonb_array_length(r.report->'policies')
    OR (SELECT count(*) FROM tlsrpt.failure_detail d WHERE d.report_ref = r.id) <>
    (SELECT coalesce(sum(jsonb_array_length(coalesce(x->'failure-details', '[]'))), 0) FROM jsonb_array_elements(r.report->'policies') x)")" 0
before_cut=$(grep -c "^From " "$TMP/big.mbox")
check "mbox cut while imported: the first messages of the file, none past the cut" \
    "$(pg_q cut "SELECT count(*) = max(substring(report_id from '-([0-9]{8})-')::int) + 1 AND count(*) < $before_cut FROM tlsrpt.report")" t

finish
