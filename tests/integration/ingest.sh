#!/bin/sh
# ingest.sh - the built program against a private PostgreSQL: exact rows
# for each kind of report, duplicates, rejects kept with their bytes,
# options and exit codes.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

C=$TI_TEST_DATA/corpus
TMP=$(mktemp -d)
pg_start
trap 'rm -rf "$TMP"; pg_cleanup' EXIT

# mkmsg JSONFILE [CONTENT-TYPE]: wrap a report in a multipart/report
# message the way Google sends it (gzip, base64).
mkmsg() {
	ct=${2:-application/tlsrpt+gzip}
	cat <<MSG
From: reporter@sender.example
To: tlsrpt@receiver.example
Subject: Report Domain: receiver.example Submitter: sender.example
Message-ID: <$(basename "$1")@sender.example>
Date: Tue, 02 Jan 2024 03:04:05 +0000
TLS-Report-Domain: receiver.example
TLS-Report-Submitter: sender.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type="tlsrpt"; boundary="b1"

--b1
Content-Type: text/plain

A report.
--b1
Content-Type: $ct; name="sender.example!receiver.example!1!2.json.gz"
Content-Transfer-Encoding: base64

$(gzip -c <"$1" | base64)
--b1--
MSG
}

# ---- A Google message on standard input: every column.
pg_newdb g || exit 99
pipe_bin "$C/domainaware__parsedmarc/google.com_smtp_tls_report.eml" -d dbname=g
check "google: exit 0" "$RC" 0
check_match "google: one log line, stored" "$ERR" \
    '^tlsrpt-ingest: info: source=stdin: stored: organization="Google Inc\." report-id="2024-09-03T00:00:00Z_cardinalhealth\.ca" policies=1 ms=[0-9]+$'
check "google: report row" "$(pg_q g "SELECT organization_name, report_id,
    contact_info, start_datetime AT TIME ZONE 'UTC',
    end_datetime AT TIME ZONE 'UTC', source, message_id, message_from,
    message_date AT TIME ZONE 'UTC', tls_report_domain, tls_report_submitter,
    coalesce(dkim_result, 'NULL'), submitter_match, report->>'report-id', received_at > now() - interval '1 minute'
    FROM tlsrpt.report")" \
    "Google Inc.|2024-09-03T00:00:00Z_cardinalhealth.ca|smtp-tls-reporting@google.com|2024-09-03 00:00:00|2024-09-03 23:59:59|mail|66d83c20.050a0220.a0566.1e8dtls@google.com|noreply-smtp-tls-reporting@google.com|2024-09-04 10:53:20|cardinalhealth.ca|google.com|NULL|t|2024-09-03T00:00:00Z_cardinalhealth.ca|t"
check_match "google: subject kept" "$(pg_q g "SELECT message_subject FROM tlsrpt.report")" \
    '^Report Domain: cardinalhealth\.ca Submitter: google\.com Report-ID: <2024\.09\.03T00\.00\.00Z\+cardinalhealth\.ca@google\.com>$'
check "google: policy row" "$(pg_q g "SELECT p.policy_index, p.policy_type,
    p.policy_domain, coalesce(p.policy_string::text, 'NULL'),
    coalesce(p.mx_host::text, 'NULL'), p.total_successful_session_count,
    p.total_failure_session_count, p.report_ref = r.id
    FROM tlsrpt.policy p, tlsrpt.report r")" \
    "0|no-policy-found|cardinalhealth.ca|NULL|NULL|48|0|t"
check "google: no failure details" "$(pg_q g "SELECT count(*) FROM tlsrpt.failure_detail")" 0
# ---- Redelivery: a duplicate, nothing new written.
pipe_bin "$C/domainaware__parsedmarc/google.com_smtp_tls_report.eml" -d dbname=g
check "google again: exit 0" "$RC" 0
check_match "google again: duplicate" "$ERR" 'duplicate: organization="Google Inc\."'
check "google again: still one report" "$(pg_q g "SELECT count(*) FROM tlsrpt.report")" 1
check "google again: still one policy" "$(pg_q g "SELECT count(*) FROM tlsrpt.policy")" 1

# ---- DKIM verdict from the receiving MTA (mox), named by --authserv-id.
pg_newdb dk || exit 99
pipe_bin "$C/mjl-__mox/example.eml" -d dbname=dk --authserv-id komijn.test.xmox.nl
check "mox: exit 0" "$RC" 0
check "mox: dkim verdict" "$(pg_q dk "SELECT dkim_result, dkim_domain,
    dkim_authserv_id, submitter_match, tls_report_submitter, authenticated FROM tlsrpt.report")" \
    "pass|google.com|komijn.test.xmox.nl|t|google.com|t"
check "mox: mx-host array" "$(pg_q dk "SELECT mx_host, policy_string FROM tlsrpt.policy")" \
    '{komijn.test.xmox.nl}|{"version: STSv1","mode: enforce","max_age: 86400","mx: komijn.test.xmox.nl"}'
pg_newdb dk2 || exit 99
pipe_bin "$C/mjl-__mox/example.eml" -d dbname=dk2 --authserv-id mx.other.example
check "authserv-id elsewhere: no verdict" \
    "$(pg_q dk2 "SELECT coalesce(dkim_result, 'NULL'), authenticated FROM tlsrpt.report")" "NULL|f"
pg_newdb dk3 || exit 99
pipe_bin "$C/mjl-__mox/example.eml" -d dbname=dk3
check "no authserv-id: no verdict believed" \
    "$(pg_q dk3 "SELECT coalesce(dkim_result, 'NULL'), authenticated FROM tlsrpt.report")" "NULL|f"

# ---- --require-dkim
pg_newdb rd || exit 99
pipe_bin "$C/mjl-__mox/example.eml" -d dbname=rd --require-dkim --authserv-id komijn.test.xmox.nl
check "require-dkim, signed by google.com: stored" "$(pg_q rd "SELECT count(*) FROM tlsrpt.report")" 1
pipe_bin "$C/domainaware__parsedmarc/google.com_smtp_tls_report.eml" -d dbname=rd --require-dkim --authserv-id komijn.test.xmox.nl
check "require-dkim, no verdict: exit 0" "$RC" 0
check_match "require-dkim, no verdict: rejected" "$ERR" 'rejected: no passing DKIM signature from the reporting domain'
check "require-dkim, no verdict: kept aside" "$(pg_q rd "SELECT count(*), min(reason) FROM tlsrpt.rejected_message")" \
    "1|no passing DKIM signature from the reporting domain (dkim=none, header.d=none)"
check "require-dkim: report tables untouched" "$(pg_q rd "SELECT count(*) FROM tlsrpt.report")" 1

# ---- Microsoft: date-times without a zone are UTC.
pg_newdb ms || exit 99
pipe_bin "$C/mjl-__mox/microsoft.eml" -d dbname=ms
check "microsoft: exit 0" "$RC" 0
check "microsoft: zone-less dates as UTC" "$(pg_q ms "SELECT organization_name,
    report_id, start_datetime AT TIME ZONE 'UTC', end_datetime AT TIME ZONE 'UTC',
    tls_report_submitter FROM tlsrpt.report")" \
    "Microsoft Corporation|133198585438131172+test.xmox.nl|2023-01-10 00:00:00|2023-01-10 23:59:59|microsoft.com"
check "microsoft: policy" "$(pg_q ms "SELECT policy_type, policy_domain,
    coalesce(mx_host::text, 'NULL'), total_successful_session_count,
    total_failure_session_count FROM tlsrpt.policy")" "sts|test.xmox.nl|NULL|2|0"

# ---- The RFC 8460 example: mx-host as one string, three failure details.
pg_newdb rfc || exit 99
run_bin -d dbname=rfc "$C/domainaware__parsedmarc/rfc8460.json"
check "rfc: exit 0" "$RC" 0
check "rfc: a bare file is source file" "$(pg_q rfc "SELECT source,
    coalesce(message_id, 'NULL') FROM tlsrpt.report")" "file|NULL"
check "rfc: policy" "$(pg_q rfc "SELECT policy_type, policy_domain, mx_host,
    array_length(policy_string, 1), total_successful_session_count,
    total_failure_session_count FROM tlsrpt.policy")" \
    "sts|company-y.example|{*.mail.company-y.example}|4|5326|303"
check "rfc: failure details" "$(pg_q rfc "SELECT detail_index, result_type,
    coalesce(host(sending_mta_ip), 'NULL'), coalesce(receiving_mx_hostname, 'NULL'),
    coalesce(host(receiving_ip), 'NULL'), failed_session_count,
    coalesce(additional_information, 'NULL'), coalesce(failure_reason_code, 'NULL')
    FROM tlsrpt.failure_detail ORDER BY detail_index")" \
    "0|certificate-expired|2001:db8:abcd:12::1|mx1.mail.company-y.example|NULL|100|NULL|NULL
1|starttls-not-supported|2001:db8:abcd:13::1|mx2.mail.company-y.example|203.0.113.56|200|https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported|NULL
2|validation-failure|198.51.100.62|mx-backup.mail.company-y.example|203.0.113.58|3|NULL|X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"
check "rfc: details point at their policy and report" "$(pg_q rfc "SELECT count(*)
    FROM tlsrpt.failure_detail d JOIN tlsrpt.policy p ON p.id = d.policy_ref
    AND p.report_ref = d.report_ref")" 3
check "rfc: sha256 of the report bytes" "$(pg_q rfc "SELECT encode(report_sha256, 'hex') FROM tlsrpt.report")" \
    "$(sha256sum <"$C/domainaware__parsedmarc/rfc8460.json" | cut -d' ' -f1)"
check "rfc: the whole report as jsonb" "$(pg_q rfc "SELECT report->'policies'->0->'summary'->>'total-failure-session-count' FROM tlsrpt.report")" 303

# ---- A byte order mark and CRLF before the report.
pg_newdb bom || exit 99
run_bin -d dbname=bom "$TI_TEST_DATA/json-bom-crlf.json"
check "bom: exit 0" "$RC" 0
check "bom: stored" "$(pg_q bom "SELECT count(*) FROM tlsrpt.report")/$(pg_q bom "SELECT count(*) FROM tlsrpt.rejected_message")" "1/0"
check "bom: the hash is of the text after the mark" "$(pg_q bom "SELECT encode(report_sha256, 'hex') FROM tlsrpt.report")" \
    "$(tail -c +4 "$TI_TEST_DATA/json-bom-crlf.json" | sha256sum | cut -d' ' -f1)"

# ---- Draft-era names (failure-error-code), leading space in the file.
pg_newdb draft || exit 99
run_bin -d dbname=draft "$C/danmarg__tlsrpt_processor/sample.json"
check "draft: exit 0" "$RC" 0
check "draft: failure-error-code kept as failure_reason_code" "$(pg_q draft "SELECT failure_reason_code
    FROM tlsrpt.failure_detail WHERE failure_reason_code IS NOT NULL")" \
    "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"

# ---- Odd but acceptable values.
pg_newdb odd || exit 99
mkmsg "$TI_TEST_DATA/report-odd-values.json" >"$TMP/odd.eml"
pipe_bin "$TMP/odd.eml" -d dbname=odd
check "odd: exit 0" "$RC" 0
check "odd: report" "$(pg_q odd "SELECT start_datetime AT TIME ZONE 'UTC',
    end_datetime AT TIME ZONE 'UTC', contact_info, submitter_match,
    tls_report_submitter FROM tlsrpt.report")" \
    "2025-03-01 00:00:00.5|2025-03-02 00:00:00|mailto:tlsrpt@odd.example|f|sender.example"
check "odd: policies" "$(pg_q odd "SELECT policy_index, policy_type, policy_domain,
    coalesce(policy_string::text, 'NULL'), coalesce(mx_host::text, 'NULL'),
    total_successful_session_count, total_failure_session_count
    FROM tlsrpt.policy ORDER BY policy_index")" \
    '0|tlsa|xn--gpher-jua.test|{"[\"3 1 1 abcd\"]"}|{mx.odd.example}|9223372036854775807|7
1|no-policy-found|other.example|NULL|NULL|0|0'
check "odd: details (bad IP is NULL, draft names mapped)" "$(pg_q odd "SELECT result_type,
    coalesce(host(sending_mta_ip), 'NULL'), coalesce(host(receiving_ip), 'NULL'),
    coalesce(receiving_mx_helo, 'NULL'), failed_session_count,
    coalesce(additional_information, 'NULL'), coalesce(failure_reason_code, 'NULL')
    FROM tlsrpt.failure_detail ORDER BY detail_index")" \
    "Testing|NULL|2001:db8::1|NULL|3|not a uri|draft-code
dane-required|NULL|NULL|helo.odd.example|0|NULL|NULL"
check "odd: bad IP still in the jsonb" "$(pg_q odd "SELECT report#>>'{policies,0,failure-details,0,sending-mta-ip}' FROM tlsrpt.report")" "x.x.x.x"

# ---- contact-info null, policies [], Mail.ru's mismatched submitter.
pg_newdb misc || exit 99
run_bin -d dbname=misc "$C/cry-inc__dmarc-report-viewer/no-contact.json" \
    "$C/YnkDK__tls_reporting/no-policies.json" "$C/domainaware__parsedmarc/mail.ru.json"
check "misc: exit 0" "$RC" 0
check_match "misc: summary line" "$ERR" '3 files: stored 3, duplicates 0, rejected 0'
check "misc: contact-info null" "$(pg_q misc "SELECT coalesce(contact_info, 'NULL'),
    coalesce(submitter_match::text, 'NULL') FROM tlsrpt.report WHERE report_id = '123_456'")" "NULL|NULL"
check "misc: policies [] is a report with no policy" "$(pg_q misc "SELECT r.report->'policies', count(p.id)
    FROM tlsrpt.report r LEFT JOIN tlsrpt.policy p ON p.report_ref = r.id
    WHERE r.organization_name = (SELECT organization_name FROM tlsrpt.report
    WHERE jsonb_array_length(report->'policies') = 0) GROUP BY r.id")" "[]|0"
check "misc: mail.ru details above the total are kept" "$(pg_q misc "SELECT p.total_failure_session_count,
    sum(d.failed_session_count), string_agg(d.failure_reason_code, ',' ORDER BY d.detail_index)
    FROM tlsrpt.policy p JOIN tlsrpt.failure_detail d ON d.policy_ref = p.id GROUP BY p.id")" \
    "1|2|bad https response code: 404,bad https response code: 500"

# ---- The MIME fixtures through the whole program: stored, or kept with
# the reason.
pg_newdb mime || exit 99
while read -r f want reason; do
	pipe_bin "$TI_TEST_DATA/$f" -d dbname=mime
	check "$f: exit 0" "$RC" 0
	if [ "$want" = stored ]; then
		check_match "$f: stored or duplicate" "$ERR" '(stored|duplicate): organization="Example Inc\."'
	else
		check_match "$f: rejected" "$ERR" "rejected: $reason"
	fi
done <<'LIST'
mime-exact-preferred.eml stored
mime-forwarded-rfc822.eml stored
mime-gzip-noname.eml stored
mime-octet-stream-name.eml stored
mime-single-part-gzip.eml stored
mime-authres-two.eml rejected organization-name: missing
mime-depth-8.eml rejected organization-name: missing
mime-depth-9.eml rejected MIME nesting deeper than 8
mime-json-plain.eml rejected organization-name: missing
mime-no-report.eml rejected no TLS-RPT report part found
mime-not-mime.eml rejected no TLS-RPT report part found
mime-parts-64.eml rejected organization-name: missing
mime-parts-65.eml rejected more than 64 MIME parts
mime-qp-json.eml rejected date-range: missing
mime-subject-invalid-utf8.eml rejected organization-name: missing
LIST
check "mime: the forwarded report's headers come from the inner message" \
    "$(pg_q mime "SELECT tls_report_domain, tls_report_submitter FROM tlsrpt.report")" \
    "$(sed -n 's/^TLS-Report-Domain: *//p' "$TI_TEST_DATA/mime-forwarded-rfc822.eml" | tr -d '\r' | head -1)|$(sed -n 's/^TLS-Report-Submitter: *//p' "$TI_TEST_DATA/mime-forwarded-rfc822.eml" | tr -d '\r' | head -1)"
check "mime: ten kept aside, each with its subject" \
    "$(pg_q mime "SELECT count(*), count(message_subject) FROM tlsrpt.rejected_message")" "10|10"
check_match "mime: invalid UTF-8 in a subject is stored as text" \
    "$(pg_q mime "SELECT count(*) FROM tlsrpt.rejected_message WHERE message_id = 'bad-utf8@mail.sender.example' AND message_subject <> ''")" '^1$'

# ---- Malformed: kept with its reason and bytes; exit 0, or 65 on request.
pg_newdb bad || exit 99
f=$C/YnkDK__tls_reporting/missing_required_field.json
pipe_bin "$f" -d dbname=bad
check "malformed: exit 0" "$RC" 0
check "malformed: one warning line" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1
check "malformed: kept with reason and bytes" "$(pg_q bad "SELECT source, reason,
    encode(raw_sha256, 'hex'), raw_size, raw_truncated FROM tlsrpt.rejected_message")" \
    "file|policies[0].policy.policy-type: missing|$(sha256sum <"$f" | cut -d' ' -f1)|$(wc -c <"$f" | tr -d ' ')|f"
check "malformed: raw bytes identical" "$(pg_q bad "SELECT encode(sha256(raw), 'hex') FROM tlsrpt.rejected_message")" \
    "$(sha256sum <"$f" | cut -d' ' -f1)"
pipe_bin "$f" -d dbname=bad
check "malformed again: kept once" "$(pg_q bad "SELECT count(*) FROM tlsrpt.rejected_message")" 1
pipe_bin "$C/YnkDK__tls_reporting/date_error.json" -d dbname=bad --bounce-malformed
check "bounce-malformed: exit 65" "$RC" 65
check "bounce-malformed: still kept" "$(pg_q bad "SELECT count(*) FROM tlsrpt.rejected_message")" 2
printf 'From: a@b.example\nSubject: hello\n\nNot a report.\n' >"$TMP/plain.eml"
pipe_bin "$TMP/plain.eml" -d dbname=bad
check "not a report: exit 0" "$RC" 0
check_match "not a report: reason" "$(pg_q bad "SELECT reason FROM tlsrpt.rejected_message WHERE message_subject = 'hello'")" \
    '^no TLS-RPT report part found'
check "bad: no report rows" "$(pg_q bad "SELECT count(*) FROM tlsrpt.report")" 0

# ---- A gzip bomb inside a message: refused quickly, kept.
head -c 50000000 /dev/zero | gzip -9 | base64 >"$TMP/bomb.b64"
{ sed -n '1,/^Content-Transfer-Encoding: base64$/p' "$TMP/odd.eml"; echo; cat "$TMP/bomb.b64"; echo "--b1--"; } >"$TMP/bomb.eml"
pipe_bin "$TMP/bomb.eml" -d dbname=bad -o max_inflated_size=1M
check "bomb: exit 0" "$RC" 0
check_match "bomb: refused for its size" "$ERR" 'rejected: .*exceeds 1048576 bytes'

# ---- Too large a message: the first bytes are kept, marked truncated.
head -c 3000 /dev/zero | tr '\0' 'x' >"$TMP/big.txt"
{ printf 'Subject: big\n\n'; cat "$TMP/big.txt"; } >"$TMP/big.eml"
pipe_bin "$TMP/big.eml" -d dbname=bad -o max_message_size=2K
check "oversize: exit 0" "$RC" 0
check "oversize: kept truncated" "$(pg_q bad "SELECT raw_truncated, length(raw), reason
    FROM tlsrpt.rejected_message WHERE raw_truncated")" "t|2048|message larger than 2048 bytes"

# ---- Dry run: no database at all; 65 for an invalid report.
run_bin --dry-run -d "host=/nonexistent" "$C/mjl-__mox/example.eml"
check "dry run valid: exit 0" "$RC" 0
check_match "dry run valid: says valid" "$ERR" 'valid: organization="Google Inc\." report-id="2022-09-15T00:00:00Z_test\.xmox\.nl" policies=1'
run_bin --dry-run --json "$C/mjl-__mox/example.eml"
check_match "dry run --json: one line" "$OUT" '^\{.*"organization-name": ?"Google Inc\.".*\}$'
pipe_bin "$C/stalwartlabs__mail-auth/rpt03.json" --dry-run
check "dry run invalid: exit 65" "$RC" 65
check_match "dry run invalid: reason" "$ERR" 'invalid: policies\[0\]\.policy\.policy-domain: missing'

# ---- Usage and I/O errors.
run_bin --no-such-option "$C/mjl-__mox/example.eml"
check "bad option at a terminal: 64" "$RC" 64
pipe_bin "$C/mjl-__mox/example.eml" --no-such-option
check "bad option under a mail system: 75" "$RC" 75
run_bin --dry-run "$TMP/does-not-exist.eml"
check "missing file: 74" "$RC" 74
run_bin -o max_message_size=99G --dry-run "$C/mjl-__mox/example.eml"
check "limit above its hard maximum: 78" "$RC" 78
check_match "limit above its hard maximum: says so" "$ERR" 'max_message_size: .* exceeds the hard maximum'
run_bin --version
check_match "version" "$OUT" '^tlsrpt-ingest [0-9]+\.[0-9]+'

finish
