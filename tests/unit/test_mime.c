/*
 * test_mime.c - stage 2: finding the report part and reading the headers.
 *
 * Table-driven: every real message in the corpus, hand-written fixtures
 * (tests/data/mime-*.eml, see FIXTURES-mime.txt) and small inline
 * messages.  Each limit is tried at N and N+1; the large cases (deep
 * nesting, many parts, long headers) are generated here at run time.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "ti_limits.h"
#include "mime.h"
#include "status.h"
#include "testutil.h"

/* In a want field: the got value must be NULL.  A NULL want: not checked. */
static const char WANT_NULL[] = "(want NULL)";

/* What the chosen part's decoded bytes must look like. */
enum want_magic {
	MAGIC_ANY = 0,
	MAGIC_GZIP,		/* 1f 8b */
	MAGIC_JSON,		/* '{' after optional BOM and white space */
	MAGIC_ZIP,		/* PK 03 04 */
};

struct want_info {
	const char *message_id;
	const char *from;
	const char *subject;
	const char *date;
	int has_date;		/* 1 yes, 0 no, -1 not checked */
	int64_t date_usec;
	const char *report_domain;
	const char *report_submitter;
	int n_authres;		/* -1: not checked */
	const char *authres[2];	/* the first two values, when given */
};

struct ok_case {
	const char *name;
	const char *file;	/* under tests/data, or an absolute path */
	const char *input;	/* inline message, when file is NULL */
	bool optional;		/* skip when the file is absent */
	const char *want_type;
	const char *want_filename;
	enum want_magic want_magic;
	size_t want_len;	/* 0: not checked */
	const char *want_bytes;	/* exact decoded bytes, or NULL */
	struct want_info want;
};

struct err_case {
	const char *name;
	const char *file;
	const char *input;
	size_t mime_depth;	/* 0: default */
	size_t mime_parts;	/* 0: default */
	size_t message_bytes;	/* 0: default */
	enum ti_kind want_kind;
	const char *want_msg;
	const char *want_subject;	/* info still filled, when given */
	const char *want_headers;	/* exact header text, when given */
};

/* Per-test state, released by the teardown even when a check fails. */
struct state {
	struct buf *input;
	struct mime_info info;
	struct buf *part;
	struct ti_err err;
	const void *tcase;
};

#define NO_INFO { NULL, NULL, NULL, NULL, -1, 0, NULL, NULL, -1, \
	{ NULL, NULL } }

#define FIXTURE_INFO(id, subject) { id, "tlsrpt@mail.sender.example", \
	subject, "Mon, 01 Jan 2024 10:00:00 +0000", 1, \
	INT64_C(1704103200000000), "example.com", "mail.sender.example", 0, \
	{ NULL, NULL } }

#define FIXTURE_SUBJECT \
	"Report Domain: example.com Submitter: mail.sender.example"

#define GZ_LEN 238		/* the gzip report in the fixtures */

static const char deltachat_eml[] =
    "shared:deltachat__deltachat-core-rust/tlsrpt.eml";

static const struct ok_case ok_cases[] = {
	{ "parsedmarc google", "corpus/domainaware__parsedmarc/"
	    "google.com_smtp_tls_report.eml", NULL, false,
	    "application/tlsrpt+gzip",
	    "google.com!cardinalhealth.ca!1725321600!1725407999!001.json.gz",
	    MAGIC_GZIP, 0, NULL, {
		"66d83c20.050a0220.a0566.1e8dtls@google.com",
		"noreply-smtp-tls-reporting@google.com",
		"Report Domain: cardinalhealth.ca Submitter: google.com "
		"Report-ID: <2024.09.03T00.00.00Z+cardinalhealth.ca@"
		"google.com>",
		"Wed, 04 Sep 2024 03:53:20 -0700", 1,
		INT64_C(1725447200000000), "cardinalhealth.ca", "google.com",
		0, { NULL, NULL } } },
	{ "isseis failure", "corpus/isseis__tlsrpt-digest/"
	    "tlsrpt_failure.eml", NULL, false, "application/tlsrpt+gzip",
	    NULL, MAGIC_GZIP, 0, NULL, NO_INFO },
	{ "isseis google 1", "corpus/isseis__tlsrpt-digest/"
	    "tlsrpt_success_google_1.eml", NULL, false,
	    "application/tlsrpt+gzip", NULL, MAGIC_GZIP, 0, NULL, NO_INFO },
	{ "isseis google 2", "corpus/isseis__tlsrpt-digest/"
	    "tlsrpt_success_google_2.eml", NULL, false,
	    "application/tlsrpt+gzip", NULL, MAGIC_GZIP, 0, NULL, NO_INFO },
	{ "isseis microsoft", "corpus/isseis__tlsrpt-digest/"
	    "tlsrpt_success_microsoft.eml", NULL, false,
	    "application/tlsrpt+gzip",
	    "microsoft.com!example.com!1778630400!1778716799!"
	    "134232617934286362.json.gz", MAGIC_GZIP, 0, NULL, {
		"134232617934286362+example.com@example.com",
		"<tlsrpt-noreply@microsoft.com>",
		"Report Domain: example.com Submitter: microsoft.com "
		"Report-ID: 134232617934286362+example.com",
		"Thu, 14 May 2026 21:32:30 +0000", 1,
		INT64_C(1778794350000000), "example.com", "microsoft.com",
		4, { "mail.example.com;    x-csa=none;    x-me-sender=none;"
		"    x-ptr=fail smtp.helo=SJ2PR03CU001.outbound.protection."
		"outlook.com      policy.ptr=mail-westusazon11022143.outbound."
		"protection.outlook.com",
		"mail.example.com;    bimi=none (No BIMI records found)" } } },
	{ "mox google CRLF", "corpus/mjl-__mox/example.eml", NULL, false,
	    "application/tlsrpt+gzip", NULL, MAGIC_GZIP, 0, NULL, NO_INFO },
	{ "mox microsoft CRLF", "corpus/mjl-__mox/microsoft.eml", NULL,
	    false, "application/tlsrpt+gzip",
	    "microsoft.com!test.xmox.nl!1673308800!1673395199!"
	    "133198585438131172.json.gz", MAGIC_GZIP, 0, NULL, {
		"133198585438131172+test.xmox.nl@test.xmox.nl",
		"<tlsrpt-noreply@microsoft.com>",
		"Report Domain: test.xmox.nl Submitter: microsoft.com "
		"Report-ID: 133198585438131172+test.xmox.nl",
		"Fri, 3 Feb 2023 05:09:22 +0000", 1,
		INT64_C(1675400962000000), "test.xmox.nl", "microsoft.com", 1,
		{ "komijn.test.xmox.nl; iprev=pass "
		"policy.iprev=2a01:111:f403:c110::2; dkim=pass (1024 bit rsa) "
		"header.d=microsoft.com header.s=selector2 "
		"header.a=rsa-sha256 header.b=Us/lkmPE/b1N; spf=pass "
		"smtp.mailfrom=microsoft.com; dmarc=pass "
		"header.from=microsoft.com", NULL } } },
	{ "robalexdev CRLF", "corpus/robalexdev__tlsrpt-be/test.eml", NULL,
	    false, "application/tlsrpt+gzip",
	    "mail.sender.example!example.com!1013662812!1013749130.json.gz",
	    MAGIC_GZIP, 0, NULL, NO_INFO },
	{ "stalwart rpt01 folded subject",
	    "corpus/stalwartlabs__mail-auth/rpt01.eml", NULL, false,
	    "application/tlsrpt+gzip",
	    "mail.sender.example!example.com!1013662812!1013749130.json.gz",
	    MAGIC_GZIP, 0, NULL, {
		WANT_NULL, "tlsrpt@mail.sender.example.com",
		"Report Domain: example.net    Submitter: "
		"mail.sender.example.com    Report-ID: "
		"<735ff.e317+bf22029@example.net>",
		"Fri, May 09 2017 16:54:30 -0800", 1,
		INT64_C(1494377670000000), "example.net",
		"mail.sender.example.com", 0, { NULL, NULL } } },
	{ "stalwart rpt02 application/tlsrpt raw JSON",
	    "corpus/stalwartlabs__mail-auth/rpt02.eml", NULL, false,
	    "application/tlsrpt",
	    "mail.sender.example!example.com!1013662812!1013749130.json",
	    MAGIC_JSON, 0, NULL, {
		WANT_NULL, "tlsrpt@mail.sender.example.com",
		"Report Domain: example.net    Submitter: "
		"mail.sender.example.com    Report-ID: "
		"<735ff.e317+bf22029@example.net>",
		"Fri, May 09 2017 16:54:30 -0800", 1,
		INT64_C(1494377670000000), "example.net",
		"mail.sender.example.com", 0, { NULL, NULL } } },
	{ "deltachat (shared corpus)", deltachat_eml, NULL, true,
	    "application/tlsrpt+gzip", NULL, MAGIC_GZIP, 0, NULL, {
		"000000000000cc154d060f720057@google.com",
		"noreply-smtp-tls-reporting@google.com", NULL,
		"Sun, 21 Jan 2024 02:16:14 -0800", 1,
		INT64_C(1705832174000000), "nine.testrun.org", "google.com",
		-1, { NULL, NULL } } },
	{ "forwarded as message/rfc822", "mime-forwarded-rfc822.eml", NULL,
	    false, "application/tlsrpt+gzip",
	    "mail.sender.example!example.com!1704067200!1704153599.json.gz",
	    MAGIC_GZIP, GZ_LEN, NULL, {
		"fwd-1@example.com", "Postmaster <postmaster@example.com>",
		"Fwd: " FIXTURE_SUBJECT, "Tue, 02 Jan 2024 09:30:00 +0100",
		1, INT64_C(1704184200000000), "example.com",
		"mail.sender.example", 1,
		{ "mx.example.com; dkim=pass header.d=example.com", NULL } } },
	{ "single part base64 gzip", "mime-single-part-gzip.eml", NULL,
	    false, "application/tlsrpt+gzip", WANT_NULL, MAGIC_GZIP, GZ_LEN,
	    NULL, FIXTURE_INFO("single@mail.sender.example",
	    FIXTURE_SUBJECT) },
	{ "octet-stream name=x.json.gz", "mime-octet-stream-name.eml", NULL,
	    false, "application/octet-stream", "x.json.gz", MAGIC_GZIP,
	    GZ_LEN, NULL, FIXTURE_INFO("octet@mail.sender.example",
	    FIXTURE_SUBJECT) },
	{ "application/gzip without a name", "mime-gzip-noname.eml", NULL,
	    false, "application/gzip", WANT_NULL, MAGIC_GZIP, GZ_LEN, NULL,
	    FIXTURE_INFO("gzip-noname@mail.sender.example",
	    FIXTURE_SUBJECT) },
	{ "application/json plain", "mime-json-plain.eml", NULL, false,
	    "application/json", WANT_NULL, MAGIC_JSON, 0,
	    "  {\"report-id\":\"json-plain\"}",
	    FIXTURE_INFO("json-plain@mail.sender.example",
	    FIXTURE_SUBJECT) },
	{ "quoted-printable JSON", "mime-qp-json.eml", NULL, false,
	    "application/tlsrpt+json", "report.json", MAGIC_JSON, 0,
	    "{\"organization-name\":\"Example Inc.\",\"contact-info\":"
	    "\"tlsrpt@example.net\",\"report-id\":\"qp=1\"}",
	    FIXTURE_INFO("qp@mail.sender.example", FIXTURE_SUBJECT) },
	{ "depth 8 at the limit", "mime-depth-8.eml", NULL, false,
	    "application/tlsrpt+json", WANT_NULL, MAGIC_JSON, 0,
	    "{\"report-id\":\"depth-8\"}",
	    FIXTURE_INFO("depth-8@mail.sender.example", "depth 8") },
	{ "64 parts at the limit", "mime-parts-64.eml", NULL, false,
	    "application/tlsrpt+json", WANT_NULL, MAGIC_JSON, 0,
	    "{\"report-id\":\"parts-64\"}",
	    FIXTURE_INFO("parts-64@mail.sender.example", "parts 64") },
	{ "invalid UTF-8 in Subject", "mime-subject-invalid-utf8.eml", NULL,
	    false, "application/tlsrpt+json", WANT_NULL, MAGIC_JSON, 0,
	    "{\"report-id\":\"bad-utf8\"}\n", {
		"bad-utf8@mail.sender.example", "tlsrpt@mail.sender.example",
		/* GMime reads stray 8-bit bytes as Latin-1 */
		"Report \xc3\xbf\xc3\xbe caf\xc3\xa9 \xc3\x83(",
		"sometime last week", 0, 0, "example.com",
		"mail.sender.example", 0, { NULL, NULL } } },
	{ "two Authentication-Results in order", "mime-authres-two.eml", NULL,
	    false, "application/tlsrpt+json", WANT_NULL, MAGIC_JSON, 0,
	    "{\"report-id\":\"authres\"}\n", {
		"authres@mail.sender.example", "tlsrpt@mail.sender.example",
		FIXTURE_SUBJECT, "Mon, 01 Jan 2024 10:00:00 +0000", 1,
		INT64_C(1704103200000000), "example.com",
		"mail.sender.example", 2,
		{ "mx2.example.com; dkim=pass header.d=mail.sender.example",
		"mx1.example.com; dkim=fail header.d=mail.sender.example" } } },
	{ "exact type preferred over earlier lenient part",
	    "mime-exact-preferred.eml", NULL, false,
	    "application/tlsrpt+gzip", "real.json.gz", MAGIC_GZIP, GZ_LEN,
	    NULL, FIXTURE_INFO("exact@mail.sender.example",
	    FIXTURE_SUBJECT) },
	/* Inline cases: lenient matching in its corners. */
	{ "upper-case type, BOM before JSON", NULL,
	    "Subject: s\nContent-Type: APPLICATION/TLSRPT+JSON\n"
	    "Content-Transfer-Encoding: 8bit\n\n"
	    "\xef\xbb\xbf\n {\"a\":1}\n", false, "application/tlsrpt+json",
	    WANT_NULL, MAGIC_JSON, 0, "\xef\xbb\xbf\n {\"a\":1}\n", {
		WANT_NULL, WANT_NULL, "s", WANT_NULL, 0, 0, WANT_NULL,
		WANT_NULL, 0, { NULL, NULL } } },
	{ "octet-stream sniffed as zip", NULL,
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Transfer-Encoding: base64\n\nUEsDBAoAAAAAAA==\n--x--\n",
	    false, "application/octet-stream", WANT_NULL, MAGIC_ZIP, 10,
	    NULL, NO_INFO },
	{ "x-zip-compressed by Content-Description", NULL,
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	    "Content-Type: application/x-zip-compressed\n"
	    "Content-Description: r.json.zip  \n\nnot a zip\n--x--\n",
	    false, "application/x-zip-compressed", "r.json.zip", MAGIC_ANY,
	    0, "not a zip", NO_INFO },
	{ "x-gzip by filename= (upper case)", NULL,
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	    "Content-Type: application/x-gzip\n"
	    "Content-Disposition: attachment; filename=\"R.GZ\"\n\n"
	    "opaque\n--x--\n", false, "application/x-gzip", "R.GZ",
	    MAGIC_ANY, 0, "opaque", NO_INFO },
	{ "second lenient part wins when the first does not fit", NULL,
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	    "Content-Type: application/octet-stream; name=logo.png\n\n"
	    "PNG\n--x\nContent-Type: application/zip; name=r.zip\n\n"
	    "zipped\n--x\nContent-Type: application/json\n\n{}\n--x--\n",
	    false, "application/zip", "r.zip", MAGIC_ANY, 0, "zipped",
	    NO_INFO },
	{ "first exact part wins over a later exact part", NULL,
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	    "Content-Type: application/tlsrpt+json\n\n{\"n\":1}\n--x\n"
	    "Content-Type: application/tlsrpt+gzip\n\n{\"n\":2}\n--x--\n",
	    false, "application/tlsrpt+json", WANT_NULL, MAGIC_JSON, 0,
	    "{\"n\":1}", NO_INFO },
	{ "quoted-printable with CRLF soft breaks", NULL,
	    "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
	    "Content-Type: application/tlsrpt+json\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "{\"k\":=\r\n\"v=3D\"}\r\n--x--\r\n", false,
	    "application/tlsrpt+json", WANT_NULL, MAGIC_JSON, 0,
	    "{\"k\":\"v=\"}", NO_INFO },
	{ "TLS-Report headers empty or blank", NULL,
	    "TLS-Report-Domain:\nTLS-Report-Submitter:   \n"
	    "Message-ID: <a@b>\nContent-Type: application/tlsrpt+json\n\n{}",
	    false, "application/tlsrpt+json", WANT_NULL, MAGIC_JSON, 0, "{}",
	    { "a@b", NULL, NULL, NULL, -1, 0, WANT_NULL, WANT_NULL, 0,
	    { NULL, NULL } } },
};

static const struct err_case err_cases[] = {
	{ "multipart without a report", "mime-no-report.eml", NULL, 0, 0, 0,
	    TI_KIND_DATA, "no TLS-RPT report part found (3 MIME parts)",
	    "Not a report", NULL },
	{ "not MIME at all", "mime-not-mime.eml", NULL, 0, 0, 0,
	    TI_KIND_DATA, "no TLS-RPT report part found (1 MIME parts)",
	    "hello", "From: someone@example.org\nTo: tlsrpt@example.com\n"
	    "Date: Mon, 01 Jan 2024 10:00:00 +0000\nSubject: hello\n" },
	{ "depth 9 over the limit", "mime-depth-9.eml", NULL, 0, 0, 0,
	    TI_KIND_DATA, "MIME nesting deeper than 8", "depth 9", NULL },
	{ "depth 8 over a lowered limit", "mime-depth-8.eml", NULL, 7, 0, 0,
	    TI_KIND_DATA, "MIME nesting deeper than 7", "depth 8", NULL },
	{ "65 parts over the limit", "mime-parts-65.eml", NULL, 0, 0, 0,
	    TI_KIND_DATA, "more than 64 MIME parts", "parts 65", NULL },
	{ "64 parts over a lowered limit", "mime-parts-64.eml", NULL, 0, 63,
	    0, TI_KIND_DATA, "more than 63 MIME parts", "parts 64", NULL },
	{ "message/rfc822 counts as nesting", "mime-forwarded-rfc822.eml",
	    NULL, 2, 0, 0, TI_KIND_DATA, "MIME nesting deeper than 2",
	    "Fwd: " FIXTURE_SUBJECT, NULL },
	{ "message/rfc822 parts are counted", "mime-forwarded-rfc822.eml",
	    NULL, 0, 5, 0, TI_KIND_DATA, "more than 5 MIME parts",
	    "Fwd: " FIXTURE_SUBJECT, NULL },
	{ "report part one byte over message_bytes", "mime-json-plain.eml",
	    NULL, 0, 0, 27, TI_KIND_DATA, "report part larger than 27 bytes",
	    FIXTURE_SUBJECT, NULL },
	{ "empty report part", NULL,
	    "Subject: e\nContent-Type: application/tlsrpt+gzip\n\n", 0, 0, 0,
	    TI_KIND_DATA, "report part is empty", "e", NULL },
	{ "text/plain named .json does not count", NULL,
	    "Content-Type: text/plain; name=r.json\n\n{}\n", 0, 0, 0,
	    TI_KIND_DATA, "no TLS-RPT report part found (1 MIME parts)",
	    NULL, NULL },
	{ "lenient type, wrong name and content", NULL,
	    "Content-Type: multipart/mixed; boundary=x\n\n--x\n"
	    "Content-Type: application/octet-stream; name=a.pdf\n\n%PDF\n"
	    "--x\nContent-Type: application/json\n\n[1]\n--x--\n", 0, 0, 0,
	    TI_KIND_DATA, "no TLS-RPT report part found (3 MIME parts)",
	    NULL, NULL },
	{ "empty message/rfc822 part", NULL,
	    "Subject: m\nContent-Type: message/rfc822\n\n", 0, 0, 0,
	    TI_KIND_DATA, "no TLS-RPT report part found (1 MIME parts)", "m",
	    NULL },
	{ "multipart without a boundary", NULL,
	    "Content-Type: multipart/mixed\n\n{}\n", 0, 0, 0, TI_KIND_DATA,
	    "no TLS-RPT report part found (1 MIME parts)", NULL, NULL },
	{ "empty input", NULL, "", 0, 0, 0, TI_KIND_DATA,
	    "message has no parsable MIME structure", NULL, NULL },
	/* GMime refuses a line that is no field; we read on past it. */
	{ "a line without a colon does not end the fields", NULL,
	    "Subject: s\nnot a field\n\tfolded\nX: 1\r\n\r\nY: 2\n", 0, 0, 0,
	    TI_KIND_DATA, "message has no parsable MIME structure", "s",
	    "Subject: s\nnot a field\n\tfolded\nX: 1\n" },
	{ "mbox From_ line before the fields", NULL,
	    "From a@b Mon Jan  1 00:00:00 2024\nSubject: s\n"
	    "Content-Type: application/tlsrpt+json\n\n{}", 0, 0, 0,
	    TI_KIND_DATA, "message has no parsable MIME structure", "s",
	    "From a@b Mon Jan  1 00:00:00 2024\nSubject: s\n"
	    "Content-Type: application/tlsrpt+json\n" },
	{ "empty line first: no header text", NULL, "\nSubject: s\n", 0, 0,
	    0, TI_KIND_DATA, "no TLS-RPT report part found (1 MIME parts)",
	    WANT_NULL, WANT_NULL },
	{ "binary garbage", NULL, "\x01\x02garbage\xff\xfe\n\nbody", 0, 0, 0,
	    TI_KIND_DATA, "message has no parsable MIME structure", NULL,
	    "\x01\x02garbage??\n" },
};

/* An independent check of what PostgreSQL will accept as text. */
static bool
valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;
	size_t i;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else {
			return false;
		}
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

static void
assert_sane(const char *what, const char *s, size_t max)
{
	if (s == NULL)
		return;
	if (!valid_utf8(s))
		fail_msg("%s is not valid UTF-8", what);
	if (strlen(s) > max)
		fail_msg("%s: %zu bytes, more than %zu", what, strlen(s), max);
}

static void
assert_info_sane(const struct mime_info *info)
{
	size_t i;

	assert_sane("message_id", info->message_id, 4096);
	assert_sane("from", info->from, 4096);
	assert_sane("subject", info->subject, 4096);
	assert_sane("date", info->date, 4096);
	assert_sane("report_domain", info->report_domain, 4096);
	assert_sane("report_submitter", info->report_submitter, 4096);
	for (i = 0; i < info->n_authres; i++) {
		assert_non_null(info->authres[i]);
		assert_sane("authres", info->authres[i], 4096);
	}
	assert_sane("headers", info->headers, 65536);
	assert_sane("part_type", info->part_type, 4096);
	assert_sane("part_filename", info->part_filename, 4096);
	if (info->headers != NULL && strchr(info->headers, '\r') != NULL)
		fail_msg("headers keep a CR");
}

static void
assert_str(const char *what, const char *got, const char *want)
{
	if (want == NULL)
		return;
	if (want == WANT_NULL) {
		if (got != NULL)
			fail_msg("%s: got \"%s\", want NULL", what, got);
		return;
	}
	if (got == NULL)
		fail_msg("%s: got NULL, want \"%s\"", what, want);
	if (strcmp(got, want) != 0)
		fail_msg("%s:\n got \"%s\"\nwant \"%s\"", what, got, want);
}

static void
assert_info(const struct mime_info *got, const struct want_info *want)
{
	size_t i;

	assert_str("message_id", got->message_id, want->message_id);
	assert_str("from", got->from, want->from);
	assert_str("subject", got->subject, want->subject);
	assert_str("date", got->date, want->date);
	if (want->has_date >= 0) {
		assert_int_equal(got->has_date_usec, want->has_date != 0);
		if (want->has_date)
			assert_int_equal(got->date_usec, want->date_usec);
	}
	assert_str("report_domain", got->report_domain, want->report_domain);
	assert_str("report_submitter", got->report_submitter,
	    want->report_submitter);
	if (want->n_authres >= 0) {
		assert_int_equal(got->n_authres, (size_t)want->n_authres);
		for (i = 0; i < 2 && i < got->n_authres; i++)
			assert_str("authres", got->authres[i],
			    want->authres[i]);
	}
}

static struct buf *
load_input(const char *file, const char *input)
{
	struct buf *b = NULL;
	struct ti_err err;

	if (file != NULL)
		return file[0] == '/' ? test_read_file(file) :
		    test_read_data(file);
	b = buf_new(1 << 20, &err);
	assert_non_null(b);
	assert_int_equal(buf_append(b, input, strlen(input), &err), 0);
	return b;
}

static int
setup(void **ts)
{
	struct state *st = NULL;
	const void *tcase = *ts;

	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -1;
	st->tcase = tcase;
	ti_err_clear(&st->err);
	mime_init();
	*ts = st;
	return 0;
}

static int
teardown(void **ts)
{
	struct state *st = *ts;

	buf_free(&st->part);
	buf_free(&st->input);
	mime_info_clear(&st->info);
	free(st);
	return 0;
}

static void
assert_magic(const struct buf *part, enum want_magic magic)
{
	struct ti_bytes v = buf_bytes(part);
	const struct ti_bytes *b = &v;
	size_t i = 0;

	switch (magic) {
	case MAGIC_ANY:
		return;
	case MAGIC_GZIP:
		assert_true(b->len >= 2);
		assert_int_equal(b->data[0], 0x1f);
		assert_int_equal(b->data[1], 0x8b);
		return;
	case MAGIC_ZIP:
		assert_true(b->len >= 4);
		assert_memory_equal(b->data, "PK\x03\x04", 4);
		return;
	case MAGIC_JSON:
		if (b->len >= 3 && memcmp(b->data, "\xef\xbb\xbf", 3) == 0)
			i = 3;
		while (i < b->len && strchr(" \t\r\n", b->data[i]) != NULL)
			i++;
		assert_true(i < b->len);
		assert_int_equal(b->data[i], '{');
		return;
	}
}

/*
 * mime_extract(), then mime_headers() as for a rejected message: the
 * header block is checked wherever the rest of the info is.
 */
static int
extract(const struct ti_bytes *in, const struct ti_limits *lim,
    struct mime_info *info, struct buf **part_r, struct ti_err *err)
{
	struct ti_err herr;
	int rc;

	rc = mime_extract(in, lim, info, part_r, err);
	if (info->headers != NULL)
		fail_msg("mime_extract filled the header block");
	if (mime_headers(in, info, &herr) != 0)
		fail_msg("mime_headers: %s", herr.msg);
	return rc;
}

static void
test_extract_ok(void **ts)
{
	struct state *st = *ts;
	const struct ok_case *c = st->tcase;
	struct ti_limits lim;
	struct ti_bytes in;
	struct ti_bytes got;
	int rc;

	if (c->optional && test_file_absent(c->file)) {
		skip();
		return;
	}
	ti_limits_default(&lim);
	st->input = load_input(c->file, c->input);
	in = buf_bytes(st->input);
	rc = extract(&in, &lim, &st->info, &st->part, &st->err);
	if (rc != 0)
		fail_msg("got error (%s) \"%s\", want success",
		    ti_kind_name(st->err.kind), st->err.msg);
	assert_non_null(st->part);
	got = buf_bytes(st->part);
	assert_true(got.len > 0);
	assert_info_sane(&st->info);
	assert_str("part_type", st->info.part_type, c->want_type);
	assert_str("part_filename", st->info.part_filename,
	    c->want_filename);
	assert_magic(st->part, c->want_magic);
	if (c->want_len != 0)
		assert_int_equal(got.len, c->want_len);
	if (c->want_bytes != NULL) {
		assert_int_equal(got.len, strlen(c->want_bytes));
		assert_memory_equal(got.data, c->want_bytes, got.len);
	}
	assert_info(&st->info, &c->want);
}

static void
test_extract_err(void **ts)
{
	struct state *st = *ts;
	const struct err_case *c = st->tcase;
	struct ti_limits lim;
	struct ti_bytes in;
	int rc;

	ti_limits_default(&lim);
	if (c->mime_depth != 0)
		lim.mime_depth = c->mime_depth;
	if (c->mime_parts != 0)
		lim.mime_parts = c->mime_parts;
	if (c->message_bytes != 0)
		lim.message_bytes = c->message_bytes;
	st->input = load_input(c->file, c->input);
	in = buf_bytes(st->input);
	rc = extract(&in, &lim, &st->info, &st->part, &st->err);
	assert_int_equal(rc, -1);
	assert_null(st->part);
	assert_int_equal(st->err.kind, c->want_kind);
	assert_string_equal(st->err.msg, c->want_msg);
	assert_null(strchr(st->err.msg, '\n'));
	assert_info_sane(&st->info);
	assert_null(st->info.part_type);
	assert_str("subject", st->info.subject, c->want_subject);
	assert_str("headers", st->info.headers, c->want_headers);
}

/* The limit that passes at N passes one under it, to show N is exact. */
static void
test_message_bytes_at_limit(void **ts)
{
	struct state *st = *ts;
	struct ti_limits lim;
	struct ti_bytes in;

	ti_limits_default(&lim);
	lim.message_bytes = 28;		/* the decoded part, exactly */
	st->input = test_read_data("mime-json-plain.eml");
	in = buf_bytes(st->input);
	assert_int_equal(extract(&in, &lim, &st->info, &st->part,
	    &st->err), 0);
	assert_int_equal(buf_bytes(st->part).len, 28);
}

/*
 * rpt02 carries raw JSON without a transfer encoding: the bytes as sent,
 * which are rpt02.json plus the empty line before the closing boundary.
 */
static void
test_rpt02_bytes(void **ts)
{
	struct state *st = *ts;
	struct buf *want = NULL;
	struct ti_limits lim;
	struct ti_bytes in;
	struct ti_bytes got;
	struct ti_bytes w;
	bool same;

	ti_limits_default(&lim);
	st->input = test_read_data("corpus/stalwartlabs__mail-auth/rpt02.eml");
	in = buf_bytes(st->input);
	assert_int_equal(extract(&in, &lim, &st->info, &st->part,
	    &st->err), 0);
	want = test_read_data("corpus/stalwartlabs__mail-auth/rpt02.json");
	got = buf_bytes(st->part);
	w = buf_bytes(want);
	same = got.len == w.len + 1 && memcmp(got.data, w.data, w.len) == 0 &&
	    got.data[w.len] == '\n';
	buf_free(&want);
	assert_true(same);
}

/* The top-level header block: order, folding, CRLF, duplicates. */
static void
test_headers_block(void **ts)
{
	struct state *st = *ts;
	struct ti_limits lim;
	struct ti_bytes in;
	const char *h = NULL;

	ti_limits_default(&lim);
	st->input = test_read_data("corpus/mjl-__mox/microsoft.eml");
	in = buf_bytes(st->input);
	assert_int_equal(extract(&in, &lim, &st->info, &st->part,
	    &st->err), 0);
	h = st->info.headers;
	assert_non_null(h);
	assert_true(strncmp(h, "X-Mox-Reason: no-bad-signals\n"
	    "Return-Path: <tlsrpt-noreply@microsoft.com>\n"
	    "Authentication-Results: komijn.test.xmox.nl; iprev=pass\n"
	    "\tpolicy.iprev=2a01:111:f403:c110::2;", 130) == 0);
	/* Content-Type sits with the body part in GMime; order is kept. */
	assert_non_null(strstr(h, "\nMessage-ID: "
	    "<133198585438131172+test.xmox.nl@test.xmox.nl>\n"
	    "Content-Type: multipart/report;\n"
	    "\tboundary=\"_078e4900-4595-46ae-b003-a8055864441a_\"; "
	    "report-type=tlsrpt\n"
	    "Return-Path: tlsrpt-noreply@microsoft.com\n"));
	assert_non_null(strstr(h, "\nX-MS-Exchange-Transport-"
	    "CrossTenantHeadersStamped: PH7PR21MB3143\n"));
	assert_int_equal(h[strlen(h) - 1], '\n');
	/* Headers of the parts are not part of the block. */
	assert_null(strstr(h, "Content-Transfer-Encoding"));
}

static void
test_headers_invalid_utf8(void **ts)
{
	struct state *st = *ts;
	struct ti_limits lim;
	struct ti_bytes in;

	ti_limits_default(&lim);
	st->input = test_read_data("mime-subject-invalid-utf8.eml");
	in = buf_bytes(st->input);
	assert_int_equal(extract(&in, &lim, &st->info, &st->part,
	    &st->err), 0);
	assert_non_null(strstr(st->info.headers,
	    "\nSubject: Report ?? caf\xc3\xa9 ?(\n"));
	/* overlong, surrogate, past U+10FFFF, overlong, valid, DEL, cut */
	assert_non_null(strstr(st->info.headers,
	    "\nX-Bad: ???|???|????|??|\xf0\x9f\x98\x80|\x7f|??\n"));
	assert_info_sane(&st->info);
}

/* A message built at run time, in a buffer owned by the state. */
static struct buf *
gen_new(void)
{
	struct buf *b = NULL;
	struct ti_err err;

	b = buf_new((size_t)64 << 20, &err);
	assert_non_null(b);
	return b;
}

static void
gen_add(struct buf *b, const char *fmt, ...)
{
	char line[512];
	struct ti_err err;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(line));
	assert_int_equal(buf_append(b, line, (size_t)n, &err), 0);
}

/* depth nested multiparts around one report part. */
static struct buf *
gen_nested(size_t depth)
{
	struct buf *b = gen_new();
	size_t i;

	gen_add(b, "Subject: nested %zu\n", depth);
	for (i = 1; i <= depth; i++)
		gen_add(b, "Content-Type: multipart/mixed; boundary=\"n%zu\"\n"
		    "\n--n%zu\n", i, i);
	gen_add(b, "Content-Type: application/tlsrpt+json\n\n{}\n");
	for (i = depth; i >= 1; i--)
		gen_add(b, "--n%zu--\n", i);
	return b;
}

/* One multipart holding parts - 1 leaves, the report last. */
static struct buf *
gen_parts(size_t parts)
{
	struct buf *b = gen_new();
	size_t i;

	gen_add(b, "Subject: parts %zu\n"
	    "Content-Type: multipart/mixed; boundary=p\n\n", parts);
	for (i = 2; i < parts; i++)
		gen_add(b, "--p\nContent-Type: text/plain\n\n%zu\n", i);
	gen_add(b, "--p\nContent-Type: application/tlsrpt+json\n\n{}\n"
	    "--p--\n");
	return b;
}

struct gen_case {
	const char *name;
	bool nested;		/* else parts */
	size_t n;
	size_t limit;		/* lim->mime_depth or lim->mime_parts */
	const char *want_msg;	/* NULL: success */
};

static const struct gen_case gen_cases[] = {
	{ "hard depth 32 at the limit", true, 32, TI_HARD_MIME_DEPTH, NULL },
	{ "hard depth 33 over the limit", true, 33, TI_HARD_MIME_DEPTH,
	    "MIME nesting deeper than 32" },
	{ "depth 5000 (past GMime's own cap)", true, 5000, 8,
	    "more than 512 MIME boundary lines" },
	{ "hard parts 1024 at the limit", false, 1024, TI_HARD_MIME_PARTS,
	    NULL },
	{ "hard parts 1025 over the limit", false, 1025, TI_HARD_MIME_PARTS,
	    "more than 1024 MIME parts" },
	{ "100000 parts", false, 100000, 64,
	    "more than 512 MIME boundary lines" },
};

static void
test_generated(void **ts)
{
	struct state *st = *ts;
	const struct gen_case *c = st->tcase;
	struct ti_limits lim;
	struct ti_bytes in;
	int rc;

	ti_limits_default(&lim);
	if (c->nested)
		lim.mime_depth = c->limit;
	else
		lim.mime_parts = c->limit;
	st->input = c->nested ? gen_nested(c->n) : gen_parts(c->n);
	in = buf_bytes(st->input);
	rc = extract(&in, &lim, &st->info, &st->part, &st->err);
	if (c->want_msg == NULL) {
		if (rc != 0)
			fail_msg("got \"%s\", want success", st->err.msg);
		assert_int_equal(buf_bytes(st->part).len, 2);
		return;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(st->err.kind, TI_KIND_DATA);
	assert_string_equal(st->err.msg, c->want_msg);
	assert_non_null(st->info.subject);
}

/*
 * Shapes that once made GMime build hundreds of megabytes before the
 * walk could count: 1 MiB of one unit under a header.  They are refused
 * by the scan before GMime parses, in well under a second (the old code
 * took 1.6 s and 286 MB for the first); the bound here allows for
 * sanitizers and valgrind.
 */
struct hostile_case {
	const char *name;
	const char *head;
	const char *unit;
	const char *want_msg;
};

static const struct hostile_case hostile_cases[] = {
	{ "hostile: --b lines", "Content-Type: multipart/mixed; "
	    "boundary=\"b\"\n\n", "--b\n\n",
	    "more than 512 MIME boundary lines" },
	{ "hostile: top fields", "", "a:b\n",
	    "more than 2000 header fields in one header block" },
	{ "hostile: part fields", "Content-Type: multipart/mixed; "
	    "boundary=\"b\"\n\n--b\n", "a:b\n",
	    "more than 2000 header fields in one header block" },
	{ "hostile: parts of many fields", "Content-Type: multipart/mixed; "
	    "boundary=\"b\"\n\n", "--b\na:1\nb:2\nc:3\nd:4\ne:5\nf:6\n"
	    "g:7\nh:8\ni:9\n\n", "more than 4048 header fields" },
	{ "hostile: nested messages", "Content-Type: message/rfc822\n\n",
	    "Content-Type: message/rfc822\n\n",
	    "MIME nesting deeper than 8" },
	{ "hostile: nested multiparts", "", "Content-Type: multipart/mixed; "
	    "boundary=\"b\"\n\n--b\n", "more than 512 MIME boundary lines" },
};

static void
test_hostile(void **ts)
{
	struct state *st = *ts;
	const struct hostile_case *c = st->tcase;
	struct ti_limits lim;
	struct ti_bytes in;
	clock_t start;
	double cpu;
	int rc;

	ti_limits_default(&lim);
	st->input = gen_new();
	gen_add(st->input, "Subject: hostile\n%s", c->head);
	while (buf_bytes(st->input).len < 1024 * 1024)
		gen_add(st->input, "%s", c->unit);
	in = buf_bytes(st->input);
	start = clock();
	rc = extract(&in, &lim, &st->info, &st->part, &st->err);
	cpu = (double)(clock() - start) / CLOCKS_PER_SEC;
	assert_int_equal(rc, -1);
	assert_int_equal(st->err.kind, TI_KIND_DATA);
	assert_string_equal(st->err.msg, c->want_msg);
	assert_str("subject", st->info.subject, "hostile");
	if (cpu > 5.0)
		fail_msg("refused in %.2f s of CPU, want under 5", cpu);
}

/*
 * The top-level block is read up to 1000 fields and 1 MiB: a Subject
 * that is field N (or ends at byte N) is read; at N + 1 it is not, and
 * the header text ends before it.  GMime still gets the rest, so the
 * report is found either way.
 */
struct block_case {
	const char *name;
	size_t fields;		/* fields before Subject, or 0 */
	size_t bytes;		/* bytes before Subject, or 0 */
	bool want_subject;
};

static const struct block_case block_cases[] = {
	{ "Subject is field 1000", 999, 0, true },
	{ "Subject is field 1001", 1000, 0, false },
	{ "Subject ends at 1 MiB", 0, 1048576 - 14, true },
	{ "Subject ends one byte past 1 MiB", 0, 1048576 - 13, false },
};

static void
test_block_limits(void **ts)
{
	struct state *st = *ts;
	const struct block_case *c = st->tcase;
	struct ti_limits lim;
	struct ti_bytes in;
	struct ti_err err;
	char line[4001];
	size_t left = c->bytes;
	size_t i;
	size_t n;

	ti_limits_default(&lim);
	st->input = gen_new();
	for (i = 0; i < c->fields; i++)
		gen_add(st->input, "X-F: %zu\n", i);
	/* Fields of at most 4000 bytes, each "X-F: yyy...\n". */
	while (left > 0) {
		n = left > 4000 ? 4000 : left;
		if (left - n > 0 && left - n < 7)
			n -= 7;
		memset(line, 'y', n);
		memcpy(line, "X-F: ", 5);
		line[n - 1] = '\n';
		assert_int_equal(buf_append(st->input, line, n, &err), 0);
		left -= n;
	}
	gen_add(st->input, "Subject: late\n"
	    "Content-Type: application/tlsrpt+json\n\n{}");
	in = buf_bytes(st->input);
	assert_int_equal(extract(&in, &lim, &st->info, &st->part,
	    &st->err), 0);
	assert_str("subject", st->info.subject, c->want_subject ? "late" :
	    WANT_NULL);
	assert_non_null(st->info.headers);
	assert_int_equal(strstr(st->info.headers, "Subject: late") != NULL,
	    c->want_subject && c->bytes == 0);
}

/* Caps: one value at 4096 bytes, the header block at 64 KiB. */
static void
test_caps(void **ts)
{
	struct state *st = *ts;
	struct ti_limits lim;
	struct ti_bytes in;
	size_t i;
	size_t len;

	ti_limits_default(&lim);
	st->input = gen_new();
	gen_add(st->input, "Subject: x");
	for (i = 0; i < 3000; i++)
		gen_add(st->input, "\xc3\xa9");	/* 2 bytes each */
	gen_add(st->input, "\n");
	for (i = 0; i < 1000; i++)
		gen_add(st->input, "X-Filler-%04zu: \xe2\x82\xac%090zu\n", i,
		    i);
	gen_add(st->input, "Content-Type: application/tlsrpt+json\n\n{}");
	in = buf_bytes(st->input);
	assert_int_equal(extract(&in, &lim, &st->info, &st->part,
	    &st->err), 0);
	assert_info_sane(&st->info);
	/* "x" plus whole characters: 4095 bytes, cut before a character */
	len = strlen(st->info.subject);
	assert_int_equal(len, 4095);
	len = strlen(st->info.headers);
	assert_true(len <= 65536 && len > 65536 - 4);
	assert_int_equal(strncmp(st->info.headers, "Subject: x\xc3\xa9", 12),
	    0);
}

static void
test_info_clear(void **ts)
{
	struct mime_info info;
	struct mime_info zero;

	(void)ts;
	mime_info_clear(NULL);
	memset(&zero, 0, sizeof(zero));
	memset(&info, 0, sizeof(info));
	info.subject = strdup("s");
	info.authres = calloc(2, sizeof(*info.authres));
	assert_non_null(info.subject);
	assert_non_null(info.authres);
	info.authres[0] = strdup("a");
	info.authres[1] = strdup("b");
	info.n_authres = 2;
	info.has_date_usec = true;
	mime_info_clear(&info);
	assert_memory_equal(&info, &zero, sizeof(info));
	mime_info_clear(&info);		/* twice is harmless */
}

/*
 * mime_init twice is harmless.  GMime cannot start again after
 * g_mime_shutdown, so once shut down mime_extract refuses to run.  This
 * test shuts GMime down and must stay the last one.
 */
static void
test_init_shutdown(void **ts)
{
	struct state *st = *ts;
	struct ti_limits lim;
	struct ti_bytes in;

	mime_init();
	mime_init();
	ti_limits_default(&lim);
	st->input = load_input(NULL,
	    "Content-Type: application/tlsrpt+json\n\n{}");
	in = buf_bytes(st->input);
	assert_int_equal(extract(&in, &lim, &st->info, &st->part,
	    &st->err), 0);
	buf_free(&st->part);
	mime_info_clear(&st->info);
	mime_shutdown();
	mime_shutdown();
	mime_init();
	assert_int_equal(extract(&in, &lim, &st->info, &st->part,
	    &st->err), -1);
	assert_int_equal(st->err.kind, TI_KIND_INTERNAL);
	assert_string_equal(st->err.msg, "mime_extract after mime_shutdown");
	assert_null(st->part);
}

static int
group_teardown(void **ts)
{
	(void)ts;
	mime_shutdown();
	return 0;
}


static void
add_test(struct CMUnitTest *t, size_t *n, const char *name,
    CMUnitTestFunction f, const void *tcase)
{
	test_add(t, n, name, f, setup, teardown, tcase);
}

int
main(void)
{
	struct CMUnitTest tests[NELEM(ok_cases) + NELEM(err_cases) +
	    NELEM(gen_cases) + NELEM(hostile_cases) + NELEM(block_cases) +
	    8];
	size_t n = 0;
	size_t i;

	for (i = 0; i < NELEM(ok_cases); i++)
		add_test(tests, &n, ok_cases[i].name, test_extract_ok,
		    &ok_cases[i]);
	for (i = 0; i < NELEM(err_cases); i++)
		add_test(tests, &n, err_cases[i].name, test_extract_err,
		    &err_cases[i]);
	for (i = 0; i < NELEM(gen_cases); i++)
		add_test(tests, &n, gen_cases[i].name, test_generated,
		    &gen_cases[i]);
	for (i = 0; i < NELEM(hostile_cases); i++)
		add_test(tests, &n, hostile_cases[i].name, test_hostile,
		    &hostile_cases[i]);
	for (i = 0; i < NELEM(block_cases); i++)
		add_test(tests, &n, block_cases[i].name, test_block_limits,
		    &block_cases[i]);
	add_test(tests, &n, "message_bytes at the limit",
	    test_message_bytes_at_limit, NULL);
	add_test(tests, &n, "rpt02 part is rpt02.json", test_rpt02_bytes,
	    NULL);
	add_test(tests, &n, "header block", test_headers_block, NULL);
	add_test(tests, &n, "header block with invalid UTF-8",
	    test_headers_invalid_utf8, NULL);
	add_test(tests, &n, "value and header block caps", test_caps, NULL);
	add_test(tests, &n, "mime_info_clear", test_info_clear, NULL);
	/* Last: it shuts GMime down. */
	add_test(tests, &n, "mime_init and mime_shutdown", test_init_shutdown,
	    NULL);
	return _cmocka_run_group_tests("mime", tests, n, NULL,
	    group_teardown);
}
