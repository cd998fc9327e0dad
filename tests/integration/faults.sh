#!/bin/sh
# faults.sh - the database failing under us, deliveries racing each other,
# least privilege, endless input: nothing partial is stored, nothing is
# lost or stored twice, and the exit codes tell the mail system to retry.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

C=$TI_TEST_DATA/corpus
MSG=$C/mjl-__mox/example.eml
TMP=$(mktemp -d)
pg_start
trap 'rm -rf "$TMP"; pg_cleanup' EXIT

# Hold an exclusive lock on tlsrpt.report in database $1 until released
# (or killed): report inserts block behind it.
lock_reports() {
	"$PG_BINDIR/psql" -X -q -d "$1" -c "BEGIN; LOCK TABLE tlsrpt.report IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120); COMMIT" \
	    >/dev/null 2>&1 &
	LOCKER=$!
	wait_for "$1" "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'report' AND l.mode = 'AccessExclusiveLock' AND l.granted" 1
}

unlock_reports() {
	pg_q "$1" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'BEGIN; LOCK TABLE%'" >/dev/null
	wait "$LOCKER" 2>/dev/null
}

# wait_for DB QUERY WANT: poll (at most 30 s) until the query gives WANT.
wait_for() {
	_n=0
	while [ "$(pg_q "$1" "$2")" != "$3" ]; do
		_n=$((_n + 1))
		if [ $_n -gt 300 ]; then
			echo "# timed out waiting for: $2 = $3"
			return 1
		fi
		sleep 0.1
	done
}

WAITING="SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tlsrpt-ingest' AND wait_event_type = 'Lock'"

# ---- The connection dropped in the middle of storing a report.
pg_newdb f1 || exit 99
lock_reports f1
"$BIN" -d dbname=f1 <"$MSG" >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_for f1 "$WAITING" 1
pg_q f1 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tlsrpt-ingest'" >/dev/null
wait $pid
check "backend terminated mid-statement: exit 75" "$?" 75
check "backend terminated: one line" "$(wc -l <"$TMP/err" | tr -d ' ')" 1
unlock_reports f1
check "backend terminated: nothing stored" "$(pg_q f1 "SELECT (SELECT count(*) FROM tlsrpt.report) + (SELECT count(*) FROM tlsrpt.policy) + (SELECT count(*) FROM tlsrpt.rejected_message)")" 0
pipe_bin "$MSG" -d dbname=f1
check "backend terminated: the retry stores it" "$RC/$(pg_q f1 "SELECT count(*) FROM tlsrpt.report")/$(pg_q f1 "SELECT count(*) FROM tlsrpt.policy")" "0/1/1"

# ---- The server restarts during a Maildir sweep.
pg_newdb f2 || exit 99
M=$TMP/Maildir
mkdir -p "$M/new" "$M/cur" "$M/tmp"
cp "$C/YnkDK__tls_reporting/date_error.json" "$M/new/1.a"
for f in "$C"/mjl-__mox/*.eml "$C"/isseis__tlsrpt-digest/*.eml; do
	cp "$f" "$M/new/2.$(basename "$f")"
done
total=$(ls "$M/new" | wc -l | tr -d ' ')
lock_reports f2
"$BIN" -q -d dbname=f2 --maildir "$M" 2>"$TMP/err" &
pid=$!
wait_for f2 "$WAITING" 1
pg_ctl_stop fast
wait "$LOCKER" 2>/dev/null
wait $pid
check "server restart mid-sweep: exit 75" "$?" 75
pg_ctl_start
# The batch in flight was not committed: nothing of it is in the database,
# and none of its files was moved, the rejected one included.
check "server restart: nothing moved" "$(ls "$M/new" | wc -l | tr -d ' ')/$(ls "$M/.Rejected/cur" | wc -l | tr -d ' ')" "$total/0"
check "server restart: nothing partial" "$(pg_q f2 "SELECT (SELECT count(*) FROM tlsrpt.report) || '/' || (SELECT count(*) FROM tlsrpt.policy) || '/' || (SELECT count(*) FROM tlsrpt.failure_detail) || '/' || (SELECT count(*) FROM tlsrpt.rejected_message)")" "0/0/0/0"
run_bin -q -d dbname=f2 --maildir "$M"
check "server back: the sweep finishes" "$RC/$(ls "$M/new" | wc -l | tr -d ' ')" "0/0"
check "server back: each report once" "$(pg_q f2 "SELECT count(*), count(DISTINCT (organization_name, report_id)) FROM tlsrpt.report")" \
    "$((total - 1))|$((total - 1))"

# ---- The server stops while a sweep waits on its second batch: the
# files of the first, committed, are moved all the same (their moves are
# made while the second batch is sent), the second batch's stay.  The
# sweep takes new/ (one batch) before cur/, whose first report another
# transaction holds, uncommitted, so that its writer waits.
pg_newdb f10 || exit 99
M=$TMP/Moves
mkdir -p "$M/new" "$M/cur" "$M/tmp"
RFC=$C/domainaware__parsedmarc/rfc8460.json
for i in $(seq 300); do
	sed "s/\"report-id\": *\"[^\"]*\"/\"report-id\":\"new-$i\"/" "$RFC" >"$TMP/rep.json"
	report_mail "$M/new/$i.host" "$TMP/rep.json" company-y.example
done
for i in $(seq 200); do
	sed "s/\"report-id\": *\"[^\"]*\"/\"report-id\":\"cur-$i\"/" "$RFC" >"$TMP/rep.json"
	report_mail "$M/cur/$(printf '%04d' "$i").host:2,S" "$TMP/rep.json" company-y.example
done
"$PG_BINDIR/psql" -X -q -d f10 -c "BEGIN; INSERT INTO tlsrpt.report (organization_name, report_id, start_datetime, end_datetime, source, report_sha256, report) VALUES ('Company-X', 'cur-1', now(), now(), 'file', '\\x00', '{}'); SELECT pg_sleep(120); COMMIT" \
    >/dev/null 2>&1 &
LOCKER=$!
wait_for f10 "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN; INSERT%' AND wait_event = 'PgSleep'" 1
"$BIN" -q -d dbname=f10 --maildir "$M" 2>"$TMP/err" &
pid=$!
wait_for f10 "$WAITING" 1
check "second batch waits: the first committed" "$(pg_q f10 "SELECT count(*) FROM tlsrpt.report")" 300
pg_ctl_stop fast
wait "$LOCKER" 2>/dev/null
wait $pid
check "server stopped in the second batch: exit 75" "$?" 75
pg_ctl_start
check "server stopped in the second batch: the first's files all moved, the second's stay" \
    "$(ls "$M/new" | wc -l | tr -d ' ')/$(ls "$M/.Processed/cur" | wc -l | tr -d ' ')/$(ls "$M/cur" | wc -l | tr -d ' ')" "0/300/200"

# ---- 16 deliveries of the same report at once: stored once, all exit 0.
pg_newdb f3 || exit 99
lock_reports f3
for i in $(seq 1 16); do
	( "$BIN" -d dbname=f3 <"$MSG" >/dev/null 2>"$TMP/same.$i"; echo $? >"$TMP/same.$i.rc" ) &
done
wait_for f3 "$WAITING" 16
unlock_reports f3
wait
check "16 at once: all exit 0" "$(cat "$TMP"/same.*.rc | sort -u | tr '\n' ' ')" "0 "
check "16 at once: one stored" "$(cat "$TMP"/same.[0-9] "$TMP"/same.[0-9][0-9] | grep -c ' stored: ')" 1
check "16 at once: fifteen duplicates" "$(cat "$TMP"/same.[0-9] "$TMP"/same.[0-9][0-9] | grep -c ' duplicate: ')" 15
check "16 at once: one report, one policy" "$(pg_q f3 "SELECT (SELECT count(*) FROM tlsrpt.report) || '/' || (SELECT count(*) FROM tlsrpt.policy)")" "1/1"

# ---- 16 different reports at once: all land.
pg_newdb f4 || exit 99
for i in $(seq 1 16); do
	sed "s/\"report-id\": *\"[^\"]*\"/\"report-id\":\"concurrent-$i\"/" \
	    "$C/domainaware__parsedmarc/rfc8460.json" >"$TMP/r$i.json"
done
lock_reports f4
for i in $(seq 1 16); do
	( "$BIN" -d dbname=f4 <"$TMP/r$i.json" >/dev/null 2>&1; echo $? >"$TMP/diff.$i.rc" ) &
done
wait_for f4 "$WAITING" 16
unlock_reports f4
wait
check "16 different at once: all exit 0" "$(cat "$TMP"/diff.*.rc | sort -u | tr '\n' ' ')" "0 "
check "16 different at once: all stored whole" "$(pg_q f4 "SELECT count(DISTINCT r.id), count(DISTINCT p.id), count(d.id) FROM tlsrpt.report r JOIN tlsrpt.policy p ON p.report_ref = r.id JOIN tlsrpt.failure_detail d ON d.policy_ref = p.id")" \
    "16|16|48"

# ---- Least privilege: the ingester's role may insert, not change or drop.
pg_newdb f5 || exit 99
"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d f5 -f "$top_srcdir/sql/roles.sql" >/dev/null
check "roles: load" "$?" 0
"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d f5 -f "$top_srcdir/sql/roles.sql" >/dev/null
check "roles: load again" "$?" 0
pg_q f5 "CREATE ROLE ingester LOGIN IN ROLE tlsrpt_ingest; CREATE ROLE dashboard LOGIN IN ROLE tlsrpt_reader" >/dev/null
pipe_bin "$MSG" -d "dbname=f5 user=ingester"
check "ingest role: stores" "$RC/$(pg_q f5 "SELECT count(*) FROM tlsrpt.report")" "0/1"
pipe_bin "$MSG" -d "dbname=f5 user=ingester"
check_match "ingest role: sees duplicates" "$RC $ERR" "^0 .*duplicate: "
pipe_bin "$C/YnkDK__tls_reporting/truncated.gz" -d "dbname=f5 user=ingester"
check "ingest role: keeps rejected messages" "$RC/$(pg_q f5 "SELECT count(*) FROM tlsrpt.rejected_message")" "0/1"
run_bin -d "dbname=f5 user=ingester" "$C/domainaware__parsedmarc/rfc8460.json"
check "ingest role: stores failure details" "$RC/$(pg_q f5 "SELECT count(*) FROM tlsrpt.failure_detail")" "0/3"
# A batch goes through the same writer.
for i in 1 2; do
	sed "s/\"report-id\": *\"[^\"]*\"/\"report-id\":\"role-$i\"/" \
	    "$C/domainaware__parsedmarc/rfc8460.json" >"$TMP/role$i.json"
done
run_bin -d "dbname=f5 user=ingester" "$TMP/role1.json" "$TMP/role2.json" "$C/domainaware__parsedmarc/rfc8460.json"
check "ingest role: a batch, exit 0" "$RC" 0
check_match "ingest role: a batch" "$ERR" "3 files: stored 2, duplicates 1, rejected 0"
check "ingest role: a batch, whole" "$(pg_q f5 "SELECT count(*) FROM tlsrpt.failure_detail")" 9
pg_q f5 "REVOKE tlsrpt_ingest FROM ingester" >/dev/null
pipe_bin "$C/mjl-__mox/microsoft.eml" -d "dbname=f5 user=ingester"
check_match "no role granted: exit 75, says what to grant" "$RC $ERR" "^75 .*permission denied \\(grant the role tlsrpt_ingest"
pg_q f5 "GRANT tlsrpt_ingest TO ingester" >/dev/null
for sql in "DELETE FROM tlsrpt.report" "UPDATE tlsrpt.policy SET policy_type = 'x'" \
    "TRUNCATE tlsrpt.failure_detail" "DROP TABLE tlsrpt.rejected_message" \
    "CREATE TABLE tlsrpt.x (i int)" "ALTER TABLE tlsrpt.report ADD COLUMN x int" \
    "SELECT report FROM tlsrpt.report" "DELETE FROM tlsrpt.rejected_message"; do
	out=$("$PG_BINDIR/psql" -X -At -d f5 -U ingester -c "$sql" 2>&1)
	check_match "ingest role may not: $sql" "$out" "permission denied|must be owner"
done
check "reader role: reads" "$("$PG_BINDIR/psql" -X -At -d f5 -U dashboard -c "SELECT count(*) FROM tlsrpt.report" 2>&1)" 4
for sql in "INSERT INTO tlsrpt.schema_version VALUES (99)" "DELETE FROM tlsrpt.report"; do
	out=$("$PG_BINDIR/psql" -X -At -d f5 -U dashboard -c "$sql" 2>&1)
	check_match "reader role may not: $sql" "$out" "permission denied"
done
check "roles: nothing was changed by them" "$(pg_q f5 "SELECT count(*) FROM tlsrpt.report")/$(pg_q f5 "SELECT count(*) FROM tlsrpt.rejected_message")" "4/1"

# ---- A report the database refuses, alone or in the middle of a batch:
# kept as rejected with the server's reason; the rest of the batch stored.
pg_newdb f7 || exit 99
pg_q f7 "CREATE FUNCTION tlsrpt.poison() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN IF NEW.report_id LIKE 'poison%' THEN
    RAISE EXCEPTION 'poisoned report' USING ERRCODE = '22023'; END IF;
    RETURN NEW; END\$\$;
    CREATE TRIGGER poison BEFORE INSERT ON tlsrpt.report
    FOR EACH ROW EXECUTE FUNCTION tlsrpt.poison()" >/dev/null
sed 's/"report-id": *"[^"]*"/"report-id":"poison-1"/' "$C/domainaware__parsedmarc/rfc8460.json" >"$TMP/poison1.json"
pipe_bin "$TMP/poison1.json" -d dbname=f7
check "refused by the database: exit 0" "$RC" 0
check_match "refused by the database: the server's reason" "$ERR" \
    'rejected: database refused the report: \[22023\] poisoned report'
# Refused at its last row: none of it stays, and the connection goes on
# to keep the message.
pg_q f7 "CREATE FUNCTION tlsrpt.poison_detail() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN IF NEW.result_type = 'poison' THEN
    RAISE EXCEPTION 'poisoned detail' USING ERRCODE = '22023'; END IF;
    RETURN NEW; END\$\$;
    CREATE TRIGGER poison_detail BEFORE INSERT ON tlsrpt.failure_detail
    FOR EACH ROW EXECUTE FUNCTION tlsrpt.poison_detail()" >/dev/null
sed -e 's/"report-id": *"[^"]*"/"report-id":"refused-detail"/' \
    -e 's/"validation-failure"/"poison"/' \
    "$C/domainaware__parsedmarc/rfc8460.json" >"$TMP/poison3.json"
check "refused at a failure detail: the test report has one" \
    "$(grep -c '"result-type": *"poison"' "$TMP/poison3.json")" 1
pipe_bin "$TMP/poison3.json" -d dbname=f7
check "refused at a failure detail: exit 0" "$RC" 0
check_match "refused at a failure detail: the server's reason" "$ERR" \
    'rejected: database refused the report: \[22023\] poisoned detail'
check "refused at a failure detail: nothing of it stored" \
    "$(pg_q f7 "SELECT count(*) FROM tlsrpt.report WHERE report_id = 'refused-detail'")/$(pg_q f7 "SELECT count(*) FROM tlsrpt.policy")/$(pg_q f7 "SELECT count(*) FROM tlsrpt.failure_detail")" \
    "0/0/0"
check "refused at a failure detail: kept as rejected" \
    "$(pg_q f7 "SELECT count(*) FROM tlsrpt.rejected_message WHERE reason LIKE '%poisoned detail%'")" 1
pg_q f7 "DROP TRIGGER poison_detail ON tlsrpt.failure_detail" >/dev/null
rm -rf "$M" && mkdir -p "$M/new" "$M/cur" "$M/tmp"
for i in 1 2 3 4 5 6; do
	sed "s/\"report-id\": *\"[^\"]*\"/\"report-id\":\"batch-$i\"/" \
	    "$C/domainaware__parsedmarc/rfc8460.json" >"$M/new/$i.ok"
done
sed 's/"report-id": *"[^"]*"/"report-id":"poison-2"/' "$C/domainaware__parsedmarc/rfc8460.json" >"$M/new/3.poison"
# Count the calls: the seven reports must go to the server as one group.
pg_q f7 "ALTER DATABASE f7 SET track_functions = 'pl'" >/dev/null
run_bin -d dbname=f7 --maildir "$M"
check "refused in a batch: exit 0" "$RC" 0
wait_for f7 "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = 'store_reports'" 1
check "refused in a batch: one group, one call" \
    "$(pg_q f7 "SELECT funcname || '=' || calls FROM pg_stat_user_functions WHERE funcname LIKE 'store_re%' ORDER BY 1")" \
    "store_reports=1"
check "refused in a batch: the others stored in order" \
    "$(pg_q f7 "SELECT string_agg(report_id, ',' ORDER BY id) FROM tlsrpt.report WHERE report_id LIKE 'batch-%'")" \
    "batch-1,batch-2,batch-3,batch-4,batch-5,batch-6"
check "refused in a batch: the others stored whole" \
    "$(pg_q f7 "SELECT count(DISTINCT r.id), count(d.id) FROM tlsrpt.report r JOIN tlsrpt.failure_detail d ON d.report_ref = r.id")" "6|18"
check "refused in a batch: kept as rejected with the reason" \
    "$(pg_q f7 "SELECT count(*) FROM tlsrpt.rejected_message WHERE reason LIKE 'database refused the report: [22023] poisoned report%'")" 2
check "refused in a batch: files where they belong" \
    "$(ls "$M/.Processed/cur" | wc -l | tr -d ' ')/$(ls "$M/.Rejected/cur")" "6/3.poison:2,"

# ---- A slow or endless standard input is cut off by the time limit.
pg_newdb f6 || exit 99
start=$(date +%s)
(sleep 6; cat "$MSG") | { "$BIN" -d dbname=f6 -o timeout=1 >/dev/null 2>"$TMP/err"; echo $? >"$TMP/rc"; date +%s >"$TMP/end"; }
check "slow input: exit 75" "$(cat "$TMP/rc")" 75
check "slow input: cut off before it ends" "$([ $(($(cat "$TMP/end") - start)) -lt 5 ] && echo yes)" yes
check_match "slow input: says why" "$(cat "$TMP/err")" "time limit"
yes "endless line" | "$BIN" -d dbname=f6 -o timeout=2 -o max_message_size=1M >/dev/null 2>&1
check "endless input: exit 75" "$?" 75
check "slow and endless input: nothing stored" "$(pg_q f6 "SELECT count(*) FROM tlsrpt.report") $(pg_q f6 "SELECT count(*) FROM tlsrpt.rejected_message")" "0 0"

# ---- A sweep is cut off by the time limit too, here while the server
# stalls (a sweep arms it once a second, one second longer: 1 to 2 s
# here); nothing is committed or moved.
pg_newdb f9 || exit 99
pg_q f9 "CREATE FUNCTION tlsrpt.stall() RETURNS trigger LANGUAGE plpgsql AS
    \$\$BEGIN PERFORM pg_sleep(8); RETURN NEW; END\$\$;
    CREATE TRIGGER stall BEFORE INSERT ON tlsrpt.report
    FOR EACH ROW EXECUTE FUNCTION tlsrpt.stall()" >/dev/null
rm -rf "$M" && mkdir -p "$M/new" "$M/cur" "$M/tmp"
cp "$MSG" "$M/new/1.slow"
start=$(date +%s)
run_bin -d dbname=f9 -o timeout=1 --maildir "$M"
end=$(date +%s)
check "stalled sweep: exit 75" "$RC" 75
check_match "stalled sweep: says why" "$ERR" "time limit"
check "stalled sweep: cut off before the server answers" "$([ $((end - start)) -lt 6 ] && echo yes)" yes
check "stalled sweep: the message left where it was" "$(ls "$M/new")" 1.slow

# ---- A password in the conninfo never reaches a log line.
pipe_bin "$MSG" -v -d "dbname=f6 password=Sekr1tPass"
check "secret: stored with -v" "$RC" 0
check "secret: not in the log" "$(printf '%s' "$ERR" | grep -c Sekr1tPass)" 0
run_bin --print-config -d "dbname=f6 password=Sekr1tPass"
check "secret: not in --print-config" "$(printf '%s' "$OUT" | grep -c Sekr1tPass)" 0
pipe_bin "$MSG" -d "dbname=nosuchdb password=Sekr1tPass"
check "secret: not in a connection error" "$RC/$(printf '%s' "$ERR" | grep -c Sekr1tPass)" "75/0"

finish
