#!/bin/sh
# corpus.sh - every file of the corpus of real reports (tests/data/corpus,
# and ../shared/corpus for the ones kept out of the tree) goes through the
# built program, as a file argument and on standard input, into a private
# PostgreSQL: each is stored (or recognised as a duplicate of a report
# stored before) or refused with the expected reason and kept.
#
# What each report holds (organization-name, report-id, how many policies
# and failure details, the session counts) is written down in
# corpus-expected.txt, read from the files by another tool; the rows in
# the database are checked against it, report by report and in total.
# The program's own output only has to agree with it.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

pg_start
pg_newdb corpus || exit 99
export TLSRPT_DB="dbname=corpus"

table=$TI_TEST_DATA/corpus-expected.txt
seen=$(mktemp)
n_files=0
n_rejected=0
n_reports=0
n_policies=0
n_details=0
n_ok=0
n_failed=0

# check_has NAME GOT STRING: GOT contains STRING as it is.
check_has() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) not_ok "$1" "got:  $2" "want: ...$3..." ;;
	esac
}

# report_rows ORGANIZATION REPORT-ID: for the report stored under that
# key, "reports|policies|details|successful|failed"; a failure detail
# counts only when it hangs off a policy of the same report.
report_rows() {
	"$PG_BINDIR/psql" -X -At -v ON_ERROR_STOP=1 -d corpus \
	    -v org="$1" -v rid="$2" <<'EOF'
SELECT count(*),
    coalesce(sum((SELECT count(*) FROM tlsrpt.policy p
	WHERE p.report_ref = r.id)), 0),
    coalesce(sum((SELECT count(*) FROM tlsrpt.failure_detail d
	JOIN tlsrpt.policy p ON p.id = d.policy_ref
	WHERE p.report_ref = r.id AND d.report_ref = r.id)), 0),
    coalesce(sum((SELECT sum(p.total_successful_session_count)
	FROM tlsrpt.policy p WHERE p.report_ref = r.id)), 0),
    coalesce(sum((SELECT sum(p.total_failure_session_count)
	FROM tlsrpt.policy p WHERE p.report_ref = r.id)), 0)
FROM tlsrpt.report r
WHERE r.organization_name = :'org' AND r.report_id = :'rid';
EOF
}

while IFS='	' read -r path want f3 f4 f5 f6 f7 f8; do
	case $path in
	'#'*|'') continue ;;
	shared/*)
		file=$SHARED_CORPUS/${path#shared/}
		if [ ! -f "$file" ]; then
			if [ "${CI:-}" = true ]; then
				not_ok "$path: present" "missing $file"
			else
				echo "# skip $path: $file not present"
			fi
			continue
		fi ;;
	*)	file=$TI_TEST_DATA/corpus/$path ;;
	esac
	n_files=$((n_files + 1))

	# What the report says, without a database.
	run_bin --dry-run --json "$file"
	if [ "$want" = rejected ]; then
		reason=$f3
		check "$path: dry run exits 65" "$RC" 65
		check_match "$path: dry run names the reason" "$ERR" "invalid: $reason"
		pipe_bin "$file"
		check "$path: exit 0 (kept)" "$RC" 0
		check_match "$path: rejected with reason" "$ERR" "rejected: $reason"
		n_rejected=$((n_rejected + 1))
		continue
	fi
	if [ -z "$f8" ]; then
		not_ok "$path: expected line has all eight fields"
		continue
	fi
	org=$f3 rid=$f4 npol=$f5 ndet=$f6 nok=$f7 nfail=$f8
	rows="1|$npol|$ndet|$nok|$nfail"
	check "$path: dry run exits 0" "$RC" 0
	check_has "$path: dry run names the report" "$ERR" \
	    "valid: organization=\"$org\" report-id=\"$rid\" policies=$npol "
	check_match "$path: --json prints the report" "$OUT" '^\{.*"report-id"'

	# The rows stored from the first file of this key, if any.
	first=$(ORG="$org" RID="$rid" awk -F '\t' \
	    '$1 == ENVIRON["ORG"] && $2 == ENVIRON["RID"] { print $3; exit }' \
	    "$seen")
	if [ -n "$first" ]; then
		expect=duplicate
		rows=$first
	else
		expect=stored
		printf '%s\t%s\t%s\n' "$org" "$rid" "$rows" >>"$seen"
		n_reports=$((n_reports + 1))
		n_policies=$((n_policies + npol))
		n_details=$((n_details + ndet))
		n_ok=$((n_ok + nok))
		n_failed=$((n_failed + nfail))
	fi
	pipe_bin "$file"
	check "$path: exit 0" "$RC" 0
	check_match "$path: $expect" "$ERR" "$expect: organization="
	check "$path: rows of the report ($expect)" \
	    "$(report_rows "$org" "$rid")" "$rows"
	# Again, as a file argument: now always a duplicate.
	run_bin "$file"
	check "$path: second delivery exits 0" "$RC" 0
	check_match "$path: second delivery is a duplicate" "$ERR" "duplicate: "
done <"$table"

check "every corpus file was tried" "$( [ "$n_files" -ge 44 ] && echo yes)" yes
check "distinct reports stored" \
    "$(pg_q corpus 'SELECT count(*) FROM tlsrpt.report')" "$n_reports"
check "policies stored" \
    "$(pg_q corpus 'SELECT count(*) FROM tlsrpt.policy')" "$n_policies"
check "failure details stored" \
    "$(pg_q corpus 'SELECT count(*) FROM tlsrpt.failure_detail')" "$n_details"
check "successful sessions stored" \
    "$(pg_q corpus 'SELECT coalesce(sum(total_successful_session_count), 0) FROM tlsrpt.policy')" \
    "$n_ok"
check "failed sessions stored" \
    "$(pg_q corpus 'SELECT coalesce(sum(total_failure_session_count), 0) FROM tlsrpt.policy')" \
    "$n_failed"
check "rejected messages kept once each" \
    "$(pg_q corpus 'SELECT count(*) FROM tlsrpt.rejected_message')" "$n_rejected"
check "rejected messages keep their bytes" \
    "$(pg_q corpus "SELECT count(*) FROM tlsrpt.rejected_message WHERE length(raw) = raw_size AND raw_sha256 = sha256(raw) AND NOT raw_truncated")" \
    "$n_rejected"
rm -f "$seen"
finish
