#!/bin/sh
# corpus.sh - every file of the corpus of real reports (tests/data/corpus,
# and ../shared/corpus for the ones kept out of the tree) goes through the
# built program, as a file argument and on standard input, into a private
# PostgreSQL: each is stored (or recognised as a duplicate of a report
# stored before) or refused with the expected reason and kept.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

pg_start
pg_newdb corpus || exit 99
export TLSRPT_DB="dbname=corpus"

table=$TI_TEST_DATA/corpus-expected.txt
seen=$(mktemp)
n_files=0
n_rejected=0
n_policies=0
n_details=0

while IFS='	' read -r path want reason; do
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
		check "$path: dry run exits 65" "$RC" 65
		check_match "$path: dry run names the reason" "$ERR" "invalid: $reason"
		pipe_bin "$file"
		check "$path: exit 0 (kept)" "$RC" 0
		check_match "$path: rejected with reason" "$ERR" "rejected: $reason"
		n_rejected=$((n_rejected + 1))
		continue
	fi
	check "$path: dry run exits 0" "$RC" 0
	key=$(printf '%s\n' "$ERR" | sed -n 's/.*valid: organization="\(.*\)" report-id="\(.*\)" policies=.*/\1|\2/p')
	npol=$(printf '%s\n' "$ERR" | sed -n 's/.*policies=\([0-9]*\) .*/\1/p')
	check_match "$path: --json prints the report" "$OUT" '^\{.*"report-id"'

	if grep -qxF -- "$key" "$seen"; then
		expect=duplicate
	else
		expect=stored
		echo "$key" >>"$seen"
		n_policies=$((n_policies + npol))
		nd=$(printf '%s\n' "$OUT" | grep -o '"result-type"' | wc -l)
		n_details=$((n_details + nd))
	fi
	pipe_bin "$file"
	check "$path: exit 0" "$RC" 0
	check_match "$path: $expect" "$ERR" "$expect: organization="
	# Again, as a file argument: now always a duplicate.
	run_bin "$file"
	check "$path: second delivery exits 0" "$RC" 0
	check_match "$path: second delivery is a duplicate" "$ERR" "duplicate: "
done <"$table"

check "every corpus file was tried" "$( [ "$n_files" -ge 44 ] && echo yes)" yes
check "distinct reports stored" "$(pg_q corpus 'SELECT count(*) FROM tlsrpt.report')" \
    "$(wc -l <"$seen" | tr -d ' ')"
check "policies stored" "$(pg_q corpus 'SELECT count(*) FROM tlsrpt.policy')" \
    "$n_policies"
check "failure details stored" \
    "$(pg_q corpus 'SELECT count(*) FROM tlsrpt.failure_detail')" "$n_details"
check "rejected messages kept once each" \
    "$(pg_q corpus 'SELECT count(*) FROM tlsrpt.rejected_message')" "$n_rejected"
check "rejected messages keep their bytes" \
    "$(pg_q corpus "SELECT count(*) FROM tlsrpt.rejected_message WHERE length(raw) = raw_size AND raw_sha256 = sha256(raw) AND NOT raw_truncated")" \
    "$n_rejected"
rm -f "$seen"
finish
