#!/bin/sh
# grafana.sh - the Grafana dashboard's queries against a real
# PostgreSQL.  Grafana is not needed: grafana-expand.py expands each
# panel's and variable's SQL as Grafana would (its macros, the time range,
# the domain variable), and the query runs as a login of tlsrpt_reader.
# A known history is written first; each panel must answer with the
# columns its visualization needs and the figures that history implies,
# follow the domain variable and the time range, and every panel and
# query variable must have its expectations here.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

DASH=$top_srcdir/contrib/grafana/tlsrpt.json
EXPAND="python3 $top_srcdir/tests/integration/grafana-expand.py"
W=$(mktemp -d "${TMPDIR:-/tmp}/tlsrpt-grafana.XXXXXX")
pg_start
trap 'rm -rf "$W"; pg_cleanup' EXIT

pg_newdb g || exit 99
"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d g \
    -f "$top_srcdir/sql/roles.sql" >/dev/null || exit 99
# As the README has it: JIT compiling costs a dashboard more than it saves.
pg_q g "CREATE ROLE grafana LOGIN IN ROLE tlsrpt_reader;
    ALTER ROLE grafana SET jit = off" >/dev/null

# ---- The history.  Day k is the UTC day that began k days before
# today; each report covers one day.
T=$(date -u -d 'today 00:00' +%s)
day() { echo $((T - $1 * 86400)); }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
NOW=$(iso "$(date +%s)")
FROM10=$(iso "$(day 10)")
FROM30=$(iso "$(day 30)")
PAST_FROM=$(iso "$(day 400)")
PAST_TO=$(iso "$(day 300)")

"$PG_BINDIR/psql" -q -X -v ON_ERROR_STOP=1 -d g >/dev/null <<SQL || exit 99
INSERT INTO tlsrpt.report (id, organization_name, report_id,
    start_datetime, end_datetime, source, report_sha256, report)
OVERRIDING SYSTEM VALUE
SELECT id, org, 'r' || id, to_timestamp($T - k * 86400),
    to_timestamp($T - (k - 1) * 86400 - 1), 'mail', '\\x00', '{}'
FROM (VALUES (1, 'Google LLC', 2), (2, 'Microsoft Corporation', 2),
    (3, 'Google LLC', 3), (4, 'Google LLC', 2),
    (5, 'Microsoft Corporation', 5), (6, 'Google LLC', 40),
    (7, 'Yahoo Inc.', 4), (8, 'Google LLC', 3), (9, 'Google LLC', 7),
    (10, 'Mimecast', 28), (11, 'Mimecast', 26), (12, 'Mimecast', 24))
    AS v(id, org, k);
INSERT INTO tlsrpt.policy (id, report_ref, policy_index, policy_type,
    policy_domain, policy_string, total_successful_session_count,
    total_failure_session_count)
OVERRIDING SYSTEM VALUE
SELECT id, r, i, 'sts', d, CASE s
    WHEN 'a' THEN ARRAY['version: STSv1', 'mode: testing',
	'mx: *.a.example', 'max_age: 86400']
    WHEN 'b' THEN ARRAY['version: STSv1', 'mode: enforce',
	'mx: mx1.b.example', 'max_age: 86400'] END, ok, nf
FROM (VALUES (1, 1, 0, 'a.example', 'a', 900, 100),
    (2, 2, 0, 'a.example', 'a', 500, 0), (3, 3, 0, 'a.example', 'a', 1000, 0),
    (4, 4, 0, 'b.example', 'b', 200, 50), (5, 5, 0, 'b.example', 'b', 300, 30),
    (6, 6, 0, 'c.example', NULL, 100, 5), (7, 7, 0, 'a.example', 'a', 100, 7),
    (8, 7, 1, 'B.Example.', 'b', 10, 0),
    (9, 8, 0, '\$__timeFrom()', NULL, 1, 0),
    (10, 9, 0, 'a.example', 'a', 800, 0),
    (11, 10, 0, 'c.example', NULL, 50, 0),
    (12, 11, 0, 'c.example', NULL, 50, 0),
    (13, 12, 0, 'c.example', NULL, 50, 0))
    AS v(id, r, i, d, s, ok, nf);
INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref, detail_index,
    result_type, receiving_mx_hostname, receiving_ip, sending_mta_ip,
    failed_session_count, failure_reason_code)
VALUES (1, 1, 0, 'certificate-expired', 'mx1.a.example', '192.0.2.1',
	'203.0.113.5', 60, 'X509_V_ERR_CERT_HAS_EXPIRED'),
    (1, 1, 1, 'starttls-not-supported', 'mx2.a.example', '192.0.2.2',
	'203.0.113.6', 40, NULL),
    (4, 4, 0, 'sts-policy-fetch-error', NULL, NULL, '203.0.113.5', 50,
	NULL),
    (5, 5, 0, 'certificate-expired', 'mx1.b.example', '192.0.2.11',
	'203.0.113.7', 30, NULL),
    (6, 6, 0, 'validation-failure', 'mx.c.example', '192.0.2.21',
	'203.0.113.8', 5, NULL),
    (7, 7, 0, 'certificate-host-mismatch', 'MX1.A.example.', '192.0.2.1',
	'203.0.113.5', 7, NULL);
INSERT INTO tlsrpt.rejected_message (received_at, source, reason,
    tls_report_domain, raw_sha256, raw_size, raw)
SELECT to_timestamp(t), 'mail', reason, dom, sha256(int8send(t)), 8,
    int8send(t)
FROM (VALUES ($(day 1) + 3600, 'no report', 'a.example'),
    ($(day 1) + 7200, 'more than 64 MIME parts', NULL),
    ($(day 3) + 60, 'no policy domain is monitored (x.example)',
	'B.example'),
    ($(day 50), 'no report', 'a.example')) AS v(t, reason, dom);
SQL

# run WHAT FROM TO DOMAIN...: the query of WHAT ("panel ID", "var NAME")
# over FROM to TO with the domain variable set to DOMAIN... ('$__all':
# All), as the reader; RC, HEAD (the column names) and ROWS.
run() {
	_what=$1
	_from=$2
	_to=$3
	shift 3
	_vars=
	for _d in "$@"; do
		_vars="$_vars --var domain=$_d"
	done
	# shellcheck disable=SC2086
	$EXPAND sql "$DASH" $_what --from "$_from" --to "$_to" $_vars \
	    >"$W/q.sql" || { RC=2; HEAD=; ROWS=; return; }
	PGUSER=grafana PGTZ=UTC "$PG_BINDIR/psql" -X -A -F '|' -P footer=off \
	    -v ON_ERROR_STOP=1 -d g -f "$W/q.sql" >"$W/out" 2>"$W/err"
	RC=$?
	HEAD=$(head -n 1 "$W/out")
	ROWS=$(sed 1d "$W/out")
	[ "$RC" = 0 ] || sed 's/^/# /' "$W/err"
}
panel() {
	_p=$1
	shift
	run "panel $_p" "$@"
}
# row N: line N of ROWS; nrows: how many; where PATTERN: those that match
row() { printf '%s\n' "$ROWS" | sed -n "$1p"; }
nrows() { [ -z "$ROWS" ] && echo 0 || printf '%s\n' "$ROWS" | wc -l; }
where() { printf '%s\n' "$ROWS" | grep -E -- "$1"; }

# expect_time_series ID: the columns a time series needs, in the long
# form Grafana turns into one series per metric: time (epoch seconds,
# whole UTC days), metric, then the values.
expect_time_series() {
	check "panel $1: time series columns" \
	    "$(echo "$HEAD" | cut -d'|' -f1-2)" "time|metric"
	check "panel $1: times are UTC days" \
	    "$(printf '%s\n' "$ROWS" | awk -F'|' '$1 % 86400 != 0' | wc -l)" 0
}

D1=$(day 1) D2=$(day 2) D3=$(day 3) D4=$(day 4) D5=$(day 5) D7=$(day 7)
HOSTILE='$__timefrom()'

# more_domains N [v]: N more domains, w0.example to wN-1.example, with a
# report each on day 5 (ids from 1000): an sts policy, 1 session
# succeeded and 200 + 10 i failed, sts-webpki-invalid.  With v the last
# is v.example instead, its failures validation-failure, which enforce
# would not bounce.  less_domains: without them again.
more_domains() {
	_last=w$(($1 - 1)).example _last_rt=sts-webpki-invalid
	[ "${2:-}" != v ] || _last=v.example _last_rt=validation-failure
	pg_q g "INSERT INTO tlsrpt.report (id, organization_name, report_id,
	    start_datetime, end_datetime, source, report_sha256, report)
	    OVERRIDING SYSTEM VALUE
	    SELECT 1000 + i, 'Google LLC', 'w' || i, to_timestamp($D5),
		to_timestamp($D4 - 1), 'mail', '\\x00', '{}'
	    FROM generate_series(0, $1 - 1) i;
	    INSERT INTO tlsrpt.policy (id, report_ref, policy_index,
		policy_type, policy_domain, total_successful_session_count,
		total_failure_session_count)
	    OVERRIDING SYSTEM VALUE
	    SELECT 1000 + i, 1000 + i, 0, 'sts', CASE WHEN i = $1 - 1
		THEN '$_last' ELSE 'w' || i || '.example' END, 1, 200 + i * 10
	    FROM generate_series(0, $1 - 1) i;
	    INSERT INTO tlsrpt.failure_detail (report_ref, policy_ref,
		detail_index, result_type, failed_session_count)
	    SELECT 1000 + i, 1000 + i, 0, CASE WHEN i = $1 - 1
		THEN '$_last_rt' ELSE 'sts-webpki-invalid' END, 200 + i * 10
	    FROM generate_series(0, $1 - 1) i" >/dev/null
}
less_domains() {
	pg_q g "DELETE FROM tlsrpt.report WHERE id >= 1000" >/dev/null
}

expect_panel_1() {	# Success rate by domain
	panel 1 "$FROM10" "$NOW" '$__all'
	check "panel 1: runs as tlsrpt_reader" "$RC" 0
	expect_time_series 1
	check "panel 1: columns" "$HEAD" "time|metric|success_rate"
	check "panel 1: All: the domains with failures in the range" \
	    "$ROWS" "$D7|a.example|100.00
$D5|b.example|90.91
$D4|a.example|93.46
$D4|b.example|100.00
$D3|a.example|100.00
$D2|a.example|93.33
$D2|b.example|80.00"
	panel 1 "$FROM10" "$NOW" a.example
	check "panel 1: a.example alone" \
	    "$(printf '%s\n' "$ROWS" | cut -d'|' -f2 | sort -u)" a.example
	check "panel 1: a.example, day 2: 1400 of 1500 sessions" \
	    "$(where "^$D2\|")" "$D2|a.example|93.33"
	panel 1 "$FROM30" "$NOW" c.example
	check "panel 1: c.example in 30 days" "$ROWS" \
	    "$(day 28)|c.example|100.00
$(day 26)|c.example|100.00
$(day 24)|c.example|100.00"
}

expect_panel_2() {	# Failed sessions by domain
	panel 2 "$FROM10" "$NOW" b.example
	check "panel 2: runs" "$RC" 0
	expect_time_series 2
	check "panel 2: columns" "$HEAD" "time|metric|failed_sessions"
	check "panel 2: b.example (B.Example. too), not a.example" "$ROWS" \
	    "$D5|b.example|30
$D4|b.example|0
$D2|b.example|50"
	panel 2 "$FROM10" "$NOW" a.example b.example
	check "panel 2: two domains" "$(nrows)" 7
	check "panel 2: a.example, day 2" "$(where "^$D2\|a")" \
	    "$D2|a.example|100"
	panel 2 "$FROM10" "$NOW" '$__all'
	check "panel 2: All, failed sessions in the range" \
	    "$(printf '%s\n' "$ROWS" | awk -F'|' '{ s += $3 } END { print NR, s }')" \
	    "7 187"
	# With All, no more than the 10 domains with most failed sessions.
	more_domains 11
	panel 2 "$FROM10" "$NOW" '$__all'
	check "panel 2: All: the 10 domains with most failed sessions" \
	    "$(printf '%s\n' "$ROWS" | cut -d'|' -f2 | sort | tr '\n' ' ')" \
	    "w1.example w10.example w2.example w3.example w4.example w5.example w6.example w7.example w8.example w9.example "
	less_domains
}

expect_panel_3() {	# Failures by result type
	panel 3 "$FROM10" "$NOW" '$__all'
	check "panel 3: runs" "$RC" 0
	expect_time_series 3
	check "panel 3: columns" "$HEAD" "time|metric|failed_sessions"
	check "panel 3: by day and result type" "$ROWS" \
	    "$D5|certificate-expired|30
$D4|certificate-host-mismatch|7
$D2|certificate-expired|60
$D2|starttls-not-supported|40
$D2|sts-policy-fetch-error|50"
	panel 3 "$FROM10" "$NOW" a.example
	check "panel 3: a.example" "$ROWS" \
	    "$D4|certificate-host-mismatch|7
$D2|certificate-expired|60
$D2|starttls-not-supported|40"
	panel 3 "$FROM30" "$NOW" c.example
	check "panel 3: c.example's failure is 40 days old" "$(nrows)" 0
	panel 3 "$(iso "$(day 41)")" "$NOW" c.example
	check "panel 3: in a range of 41 days" "$ROWS" \
	    "$(day 40)|validation-failure|5"
}

expect_panel_4() {	# Failures by receiving MX
	panel 4 "$FROM10" "$NOW" '$__all'
	check "panel 4: runs" "$RC" 0
	check "panel 4: columns" "$HEAD" \
	    "receiving_mx|failed_sessions|result_types|domains|reporters"
	check "panel 4: MX host names compared without case or final dot" \
	    "$ROWS" "mx1.a.example|67|certificate-expired, certificate-host-mismatch|1|2
|50|sts-policy-fetch-error|1|1
mx2.a.example|40|starttls-not-supported|1|1
mx1.b.example|30|certificate-expired|1|1"
	panel 4 "$FROM10" "$NOW" b.example
	check "panel 4: b.example" "$ROWS" \
	    "|50|sts-policy-fetch-error|1|1
mx1.b.example|30|certificate-expired|1|1"
}

expect_panel_5() {	# Failures by receiving IP
	panel 5 "$FROM10" "$NOW" '$__all'
	check "panel 5: runs" "$RC" 0
	check "panel 5: columns" "$HEAD" \
	    "receiving_ip|failed_sessions|result_types|receiving_mx"
	check "panel 5: by receiving IP" "$ROWS" \
	    "192.0.2.1|67|certificate-expired, certificate-host-mismatch|mx1.a.example
|50|sts-policy-fetch-error|
192.0.2.2|40|starttls-not-supported|mx2.a.example
192.0.2.11|30|certificate-expired|mx1.b.example"
	panel 5 "$FROM10" "$NOW" a.example
	check "panel 5: a.example" "$(printf '%s\n' "$ROWS" | cut -d'|' -f1,2)" \
	    "192.0.2.1|67
192.0.2.2|40"
}

expect_panel_6() {	# Sending MTAs with failures
	panel 6 "$FROM10" "$NOW" '$__all'
	check "panel 6: runs" "$RC" 0
	check "panel 6: columns" "$HEAD" \
	    "sending_mta_ip|failed_sessions|result_types|reporters|domains"
	check "panel 6: by sending MTA" "$ROWS" \
	    "203.0.113.5|117|certificate-expired, certificate-host-mismatch, sts-policy-fetch-error|Google LLC, Yahoo Inc.|2
203.0.113.6|40|starttls-not-supported|Google LLC|1
203.0.113.7|30|certificate-expired|Microsoft Corporation|1"
	panel 6 "$FROM10" "$NOW" b.example
	check "panel 6: b.example" "$(printf '%s\n' "$ROWS" | cut -d'|' -f1,2)" \
	    "203.0.113.5|50
203.0.113.7|30"
}

expect_panel_7() {	# Reporters: last seen and cadence
	panel 7 "$FROM10" "$NOW" '$__all'
	check "panel 7: runs" "$RC" 0
	check "panel 7: columns" "$HEAD" \
	    "policy_domain|reporter|reports|first_report_end|last_report_end|median_gap_days|days_since_last|overdue"
	check "panel 7: who reported in the last 10 days" \
	    "$(printf '%s\n' "$ROWS" | cut -d'|' -f1-3,6,8 | sort)" \
	    "$HOSTILE|Google LLC|1||f
a.example|Google LLC|3|2.50|f
a.example|Microsoft Corporation|1||f
a.example|Yahoo Inc.|1||f
b.example|Google LLC|1||f
b.example|Microsoft Corporation|1||f
b.example|Yahoo Inc.|1||f"
	panel 7 "$FROM30" "$NOW" c.example
	check "panel 7: Mimecast stopped 23 days ago: overdue" \
	    "$(printf '%s\n' "$ROWS" | cut -d'|' -f1-3,6,8)" \
	    "c.example|Mimecast|3|2.00|t"
	check_match "panel 7: days since its last report" \
	    "$(row 1 | cut -d'|' -f7)" '^23\.[0-9][0-9]$'
	panel 7 "$FROM10" "$NOW" c.example
	check "panel 7: not in the last 10 days" "$(nrows)" 0
}

expect_panel_8() {	# Readiness for enforce
	panel 8 "$FROM10" "$NOW" '$__all'
	check "panel 8: runs" "$RC" 0
	check "panel 8: columns" "$HEAD" \
	    "policy_domain|policy_type|verdict|reason|mode|days|reporters|sessions|failed_sessions|bounced_sessions"
	check "panel 8: verdicts, worst first" \
	    "$(printf '%s\n' "$ROWS" | cut -d'|' -f1-3,5-10)" \
	    "a.example|sts|not-ready|testing|4|3|3407|107|107
b.example|sts|enforced|enforce|3|3|590|80|80
$HOSTILE|sts|unknown||1|1|1|0|0"
	check "panel 8: why a.example is not ready" "$(row 1 | cut -d'|' -f4)" \
	    "would bounce 107 of 3407 sessions: certificate-expired 60 on mx1.a.example, starttls-not-supported 40 on mx2.a.example, certificate-host-mismatch 7 on mx1.a.example"
	# With All, the 500 worst domains: w0 to w500 fail more than
	# a.example, sessions enforce would bounce; v.example more still,
	# but enforce would not bounce them (validation-failure, sts).
	more_domains 502 v
	panel 8 "$FROM10" "$NOW" '$__all'
	check "panel 8: All: 500 domains" "$(nrows)" 500
	check "panel 8: All: the worst first" \
	    "$(row 1 | cut -d'|' -f1,3,9,10)" "w500.example|unknown|5200|5200"
	check "panel 8: All: the least bad of the 500" \
	    "$(row 500 | cut -d'|' -f1,10)" "w1.example|210"
	check "panel 8: All: neither w0 nor v.example nor a.example" \
	    "$(where '^(w0|v|a)\.example\|')" ""
	check "the pick, as the reader: bounced, then failed; in the window" \
	    "$(PGUSER=grafana pg_q g "SELECT tlsrpt.readiness_worst(10, 504)
		|| tlsrpt.readiness_worst(3, 1)")" \
	    "{$(seq -f 'w%g.example' -s, 500 -1 0),a.example,b.example,v.example,a.example}"
	pg_q g "DELETE FROM tlsrpt.report WHERE id >= 1000" >/dev/null
	panel 8 "$FROM10" "$NOW" b.example
	check "panel 8: b.example" "$(printf '%s\n' "$ROWS" | cut -d'|' -f1-3)" \
	    "b.example|sts|enforced"
	panel 8 "$FROM30" "$NOW" c.example
	check "panel 8: c.example over 30 days" \
	    "$(printf '%s\n' "$ROWS" | cut -d'|' -f1-3,6,7)" \
	    "c.example|sts|unknown|3|1"
}

expect_panel_9() {	# Kept-aside messages
	panel 9 "$FROM10" "$NOW" '$__all'
	check "panel 9: runs" "$RC" 0
	expect_time_series 9
	check "panel 9: columns" "$HEAD" "time|metric|messages"
	check "panel 9: by day and reason" "$ROWS" \
	    "$D3|no policy domain is monitored|1
$D1|more than N MIME parts|1
$D1|no report|1"
	panel 9 "$FROM10" "$NOW" b.example
	check "panel 9: by TLS-Report-Domain" "$ROWS" \
	    "$D3|no policy domain is monitored|1"
	panel 9 "$(iso "$(day 60)")" "$NOW" a.example
	check "panel 9: a.example over 60 days" "$ROWS" \
	    "$(day 50)|no report|1
$D1|no report|1"
}

expect_panel_10() {	# Recent failure details
	panel 10 "$FROM10" "$NOW" '$__all'
	check "panel 10: runs" "$RC" 0
	check "panel 10: columns" "$HEAD" \
	    "report_start|policy_domain|reporter|policy_type|result_type|receiving_mx_hostname|receiving_ip|sending_mta_ip|failed_sessions|failure_reason_code|additional_information|report_id"
	check "panel 10: newest first" \
	    "$(printf '%s\n' "$ROWS" | cut -d'|' -f2,5,9,12)" \
	    "a.example|certificate-expired|60|r1
b.example|sts-policy-fetch-error|50|r4
a.example|starttls-not-supported|40|r1
a.example|certificate-host-mismatch|7|r7
b.example|certificate-expired|30|r5"
	check "panel 10: a whole detail" "$(row 1)" \
	    "$(date -u -d "@$D2" '+%Y-%m-%d %H:%M:%S')+00|a.example|Google LLC|sts|certificate-expired|mx1.a.example|192.0.2.1|203.0.113.5|60|X509_V_ERR_CERT_HAS_EXPIRED||r1"
	panel 10 "$FROM10" "$NOW" a.example
	check "panel 10: a.example" "$(nrows)" 3
}

expect_var_domain() {
	run "var domain" "$FROM10" "$NOW"
	check "variable domain: runs" "$RC" 0
	check "variable domain: the domains reported on, no unsafe name" \
	    "$ROWS" "a.example
b.example
c.example"
	pg_q g "INSERT INTO tlsrpt.monitored_domain (domain)
	    VALUES ('a.example'), ('z.example')" >/dev/null
	run "var domain" "$FROM10" "$NOW"
	check "variable domain: the monitored domains once there are any" \
	    "$ROWS" "a.example
z.example"
	pg_q g "DELETE FROM tlsrpt.monitored_domain" >/dev/null
}

# ---- Every panel and variable has its expectations.
$EXPAND list "$DASH" >"$W/list" || exit 99
check "the dashboard has panels" "$(grep -vc '^var' "$W/list")" 10
while IFS='	' read -r id ref fmt type title; do
	if [ "$id" = var ]; then
		fn=expect_var_$ref
	else
		fn=expect_panel_$id
		check "panel $id ($title): format fits its type" \
		    "$type/$fmt" "$(case $type in
			timeseries) echo timeseries/time_series ;;
			*) echo "$type/table" ;; esac)"
	fi
	if ! type "$fn" >/dev/null 2>&1; then
		not_ok "$id $ref ($title): no expectations in grafana.sh"
		continue
	fi
	"$fn"
	# A range before the history: nothing, whatever the domains.
	if [ "$id" != var ]; then
		panel "$id" "$PAST_FROM" "$PAST_TO" '$__all'
		check "panel $id: nothing 300 to 400 days ago" "$RC/$(nrows)" 0/0
	fi
done <"$W/list"

# ---- The expansion itself, against Grafana's own rules.
run "panel 2" "2026-11-01T00:00:00.5Z" "2026-11-08T00:00:00Z" "it's"
check_match "expand: \$__timeGroupAlias" "$(cat "$W/q.sql")" \
    'floor\(extract\(epoch from t\.day\)/86400\)\*86400 AS "time"'
check_match "expand: \$__timeFilter" "$(cat "$W/q.sql")" \
    "t\.day BETWEEN '2026-11-01T00:00:00\.5Z' AND '2026-11-08T00:00:00Z'"
check_match "expand: a multi-value variable is quoted" "$(cat "$W/q.sql")" \
    "IN \('it''s'\)"
run "panel 2" "$FROM10" "$NOW" '$__all'
check_match "expand: All is the custom all value" "$(cat "$W/q.sql")" \
    "'\*' IN \('\*'\)"
printf '{"panels": [{"id": 1, "targets": [{"refId": "A", "rawSql": "SELECT %s"}]}]}' \
    '$__timeGroup(t, 30d), $__timeGroup(t, 1h) x, $__unixEpochFilter(u), $__nope(1)' \
    >"$W/d.json"
$EXPAND sql "$W/d.json" panel 1 --from 2026-11-01T00:00:00Z \
    --to 2026-11-02T00:00:00Z >"$W/out" 2>"$W/err"
check "expand: an unknown macro is an error, as in Grafana" \
    "$?/$(cat "$W/err")" "2/grafana-expand.py: unknown macro '__nope'"
printf '{"panels": [{"id": 1, "targets": [{"refId": "A", "rawSql": "SELECT %s"}]}]}' \
    '$__timeGroup(t, 30d), $__timeGroup(t, 1h) x, $__unixEpochFilter(u)' \
    >"$W/d.json"
check "expand: Grafana's float format and the pre-5.3 alias" \
    "$($EXPAND sql "$W/d.json" panel 1 --from 2026-11-01T00:00:00Z \
    --to 2026-11-02T00:00:00Z)" \
    'SELECT floor(extract(epoch from t)/2.592e+06)*2.592e+06 AS "time", floor(extract(epoch from t)/3600)*3600 x, u >= 1793491200 AND u <= 1793577600'

finish
