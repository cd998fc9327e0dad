/*
 * test_authres.c - the DKIM verdict from Authentication-Results, domain
 * alignment, and the domain of contact-info.
 *
 * Table-driven.  The header values come from the corpus messages (as
 * folded in the file and as unfolded by the MIME stage), from the
 * hand-written fixtures, and from RFC 8601's grammar, followed by hostile
 * ones: unterminated comments and quotes, deep nesting, long values and
 * plain garbage, which must give no verdict and never an error.
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
#include <cmocka.h>

#include "authres.h"
#include "domain.h"
#include "ti_limits.h"
#include "status.h"
#include "testutil.h"

#define MAX_VALUES 6

struct dkim_case {
	const char *name;
	const char *values[MAX_VALUES];	/* up to the first NULL */
	const char *authserv_id;	/* the configured one, or NULL */
	const char *reporting;		/* the reporting domain, or NULL */
	const char *want_id;		/* NULL: want NULL */
	const char *want_result;
	const char *want_domain;
};

/* Per-test state, released by the teardown even when a check fails. */
struct state {
	struct authres_dkim got;
	struct ti_err err;
	char **values;		/* generated values */
	size_t n_values;
	char *contact;
	const void *tcase;
};

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
	*ts = st;
	return 0;
}

static int
teardown(void **ts)
{
	struct state *st = *ts;
	size_t i;

	authres_dkim_clear(&st->got);
	for (i = 0; i < st->n_values; i++)
		free(st->values[i]);
	free(st->values);
	free(st->contact);
	free(st);
	return 0;
}

static void
assert_str(const char *what, const char *got, const char *want)
{
	if (want == NULL) {
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
check_dkim(struct state *st, char *const *values, size_t n,
    const char *authserv_id, const char *reporting, const char *want_id,
    const char *want_result, const char *want_domain)
{
	int rc;

	/* Garbage in the output must be overwritten, not freed. */
	st->got.authserv_id = (char *)(uintptr_t)"stale";
	st->got.result = (char *)(uintptr_t)"stale";
	st->got.domain = (char *)(uintptr_t)"stale";
	rc = authres_dkim(values, n, authserv_id, reporting, &st->got,
	    &st->err);
	if (rc != 0)
		fail_msg("failed: %s", st->err.msg);
	assert_int_equal(st->err.kind, TI_KIND_NONE);
	assert_str("authserv_id", st->got.authserv_id, want_id);
	assert_str("result", st->got.result, want_result);
	assert_str("domain", st->got.domain, want_domain);
}

static void
test_dkim(void **ts)
{
	struct state *st = *ts;
	const struct dkim_case *c = st->tcase;
	char *values[MAX_VALUES];
	size_t n = 0;

	while (n < MAX_VALUES && c->values[n] != NULL) {
		values[n] = (char *)(uintptr_t)c->values[n];
		n++;
	}
	check_dkim(st, values, n, c->authserv_id, c->reporting, c->want_id,
	    c->want_result, c->want_domain);
}

/* The corpus headers, as the files fold them. */
#define ISSEIS_XCSA "mail.example.com;\n    x-csa=none;\n" \
	"    x-me-sender=none;\n    x-ptr=pass " \
	"smtp.helo=mail-ot1-f71.google.com\n" \
	"      policy.ptr=mail-ot1-f71.google.com"
#define ISSEIS_BIMI "mail.example.com;\n    bimi=none (No BIMI records found)"
#define ISSEIS_ARC "mail.example.com;\n    arc=none (no signatures found)"
#define ISSEIS_ARC_FAIL "mail.example.com;\n    arc=fail\n      " \
	"(as.1.microsoft.com=fail (bad RSA signature), ams.1.microsoft.com=" \
	"fail (bad RSA signature))\n      smtp.remote-ip=52.101.43.143"
#define ISSEIS_DKIM "mail.example.com;\n    dkim=pass (2048-bit rsa key " \
	"sha256) header.d=google.com\n      header.i=@google.com " \
	"header.b=hpRPacZ3 header.a=rsa-sha256\n      header.s=20251104;\n" \
	"    dmarc=pass policy.published-domain-policy=reject\n" \
	"      policy.applied-disposition=none policy.evaluated-disposition=" \
	"none\n      (p=reject,d=none,d.eval=none) policy.policy-from=p\n" \
	"      header.from=google.com;\n    iprev=pass smtp.remote-ip=" \
	"209.85.210.71 (mail-ot1-f71.google.com);\n    spf=pass\n" \
	"      smtp.mailfrom=\n      38EoDahoKAOkYZcPaWj-dXea-eWd-" \
	"cPaZceTYRRZZRWP.NZX@smtp-tls-reporting.bounces.google.com\n" \
	"      smtp.helo=mail-ot1-f71.google.com"
#define ISSEIS_MS_DKIM "mail.example.com;\n    dkim=pass (1024-bit rsa " \
	"key sha256) header.d=microsoft.com\n      header.i=@microsoft.com " \
	"header.b=b3tWytEp header.a=rsa-sha256\n      header.s=selector2;\n" \
	"    dmarc=pass policy.published-domain-policy=reject\n" \
	"      policy.applied-disposition=none policy.evaluated-disposition=" \
	"none\n      (p=reject,d=none,d.eval=none) policy.policy-from=p\n" \
	"      header.from=microsoft.com;\n    iprev=pass smtp.remote-ip=" \
	"52.101.43.143\n      (mail-westusazon11022143.outbound.protection." \
	"outlook.com);\n    spf=pass smtp.mailfrom=tlsrpt-noreply@microsoft." \
	"com\n      smtp.helo=SJ2PR03CU001.outbound.protection.outlook.com"
#define MOX_GOOGLE "komijn.test.xmox.nl; iprev=pass\r\n\t" \
	"policy.iprev=2607:f8b0:4864:20::746; dkim=pass header.d=google.com" \
	"\r\n\theader.s=20210112 header.a=rsa-sha256 header.i=@google.com; " \
	"spf=pass\r\n\tsmtp.mailfrom=smtp-tls-reporting.bounces.google.com; " \
	"dmarc=pass\r\n\theader.from=google.com"
/* The same, unfolded as the MIME stage hands it over. */
#define MOX_MICROSOFT "komijn.test.xmox.nl; iprev=pass " \
	"policy.iprev=2a01:111:f403:c110::2; dkim=pass (1024 bit rsa) " \
	"header.d=microsoft.com header.s=selector2 header.a=rsa-sha256 " \
	"header.b=Us/lkmPE/b1N; spf=pass smtp.mailfrom=microsoft.com; " \
	"dmarc=pass header.from=microsoft.com"
#define PARSEDMARC_ORIGINAL "esa.hc2781-64.iphmx.com; spf=Pass\n " \
	"smtp.mailfrom=3IDzYZhoKADcghkXier-lfmi-mel-kXihkmbgZZhhZeX.Vhf@" \
	"smtp-tls-reporting.bounces.google.com;\n dkim=pass (signature " \
	"verified) header.i=@google.com; dmarc=pass (p=reject\n dis=none) " \
	"d=google.com"

#define D253 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa." \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb." \
	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc." \
	"dddddddddddddddddddddddddddddddddddddddddddddddddddddddd.example"

static const struct dkim_case dkim_cases[] = {
	/* The corpus. */
	{ "isseis google (Fastmail: one header per method)",
	    { ISSEIS_XCSA, ISSEIS_BIMI, ISSEIS_ARC, ISSEIS_DKIM },
	    NULL, "google.com", "mail.example.com", "pass", "google.com" },
	{ "isseis google, authserv-id configured",
	    { ISSEIS_XCSA, ISSEIS_BIMI, ISSEIS_ARC, ISSEIS_DKIM },
	    "Mail.Example.COM", "google.com", "mail.example.com", "pass",
	    "google.com" },
	{ "isseis microsoft (nested comments in arc=fail)",
	    { ISSEIS_XCSA, ISSEIS_BIMI, ISSEIS_ARC_FAIL, ISSEIS_MS_DKIM },
	    NULL, "microsoft.com", "mail.example.com", "pass",
	    "microsoft.com" },
	{ "isseis, the dkim header alone", { ISSEIS_DKIM }, NULL, NULL,
	    "mail.example.com", "pass", "google.com" },
	{ "isseis, headers without dkim", { ISSEIS_XCSA, ISSEIS_BIMI },
	    NULL, NULL, "mail.example.com", "none", NULL },
	{ "mox google (CRLF folded)", { MOX_GOOGLE }, NULL, "google.com",
	    "komijn.test.xmox.nl", "pass", "google.com" },
	{ "mox microsoft (unfolded)", { MOX_MICROSOFT },
	    "komijn.test.xmox.nl", "microsoft.com", "komijn.test.xmox.nl",
	    "pass", "microsoft.com" },
	{ "parsedmarc original: header.i only", { PARSEDMARC_ORIGINAL },
	    NULL, "google.com", "esa.hc2781-64.iphmx.com", "pass",
	    "google.com" },
	{ "mime-authres-two.eml, topmost",
	    { "mx2.example.com; dkim=pass header.d=mail.sender.example",
	    "mx1.example.com; dkim=fail header.d=mail.sender.example" },
	    NULL, "mail.sender.example", "mx2.example.com", "pass",
	    "mail.sender.example" },
	{ "mime-authres-two.eml, mx1 configured",
	    { "mx2.example.com; dkim=pass header.d=mail.sender.example",
	    "mx1.example.com; dkim=fail header.d=mail.sender.example" },
	    "MX1.example.com", "mail.sender.example", "mx1.example.com",
	    "fail", "mail.sender.example" },
	{ "mime-authres-two.eml, another id configured",
	    { "mx2.example.com; dkim=pass header.d=mail.sender.example",
	    "mx1.example.com; dkim=fail header.d=mail.sender.example" },
	    "mx3.example.com", NULL, NULL, NULL, NULL },

	/* The grammar. */
	{ "google style, header.i only",
	    { "mx.google.com;\r\n       dkim=pass header.i=@google.com "
	    "header.s=20230601 header.b=Ab12; spf=pass (google.com: domain "
	    "of x@y.example designates 192.0.2.1 as permitted sender) "
	    "smtp.mailfrom=x@y.example" }, NULL, NULL, "mx.google.com",
	    "pass", "google.com" },
	{ "xmox style with header.a and header.b",
	    { "test.xmox.nl; iprev=pass policy.iprev=192.0.2.1; dkim=pass "
	    "header.d=google.com header.s=20210112 header.a=rsa-sha256 "
	    "header.b=AbC+/9=; spf=pass smtp.mailfrom=google.com" }, NULL,
	    NULL, "test.xmox.nl", "pass", "google.com" },
	{ "header.i user@domain", { "mx.example; dkim=pass "
	    "header.i=tlsrpt@Reports.Example.ORG" }, NULL, NULL, "mx.example",
	    "pass", "reports.example.org" },
	{ "header.i with a quoted local part", { "mx.example; dkim=pass "
	    "header.i=\"odd@local\"@example.org" }, NULL, NULL, "mx.example",
	    "pass", "example.org" },
	{ "header.i as a quoted string", { "mx.example; dkim=pass "
	    "header.i=\"x@example.org\"" }, NULL, NULL, "mx.example", "pass",
	    "example.org" },
	{ "header.i without @", { "mx.example; dkim=pass "
	    "header.i=example.org" }, NULL, NULL, "mx.example", "pass", NULL },
	{ "header.d wins over header.i", { "mx.example; dkim=pass "
	    "header.i=@sub.example.org header.d=example.org" }, NULL, NULL,
	    "mx.example", "pass", "example.org" },
	{ "first header.d counts", { "mx.example; dkim=pass "
	    "header.d=a.example header.d=b.example" }, NULL, NULL,
	    "mx.example", "pass", "a.example" },
	{ "first header.d counts even when bad", { "mx.example; dkim=pass "
	    "header.d=a..example header.d=b.example" }, NULL, NULL,
	    "mx.example", "pass", NULL },
	{ "a bad header.d falls back to header.i", { "mx.example; "
	    "dkim=pass header.d=a..example header.i=@c.example" }, NULL, NULL,
	    "mx.example", "pass", "c.example" },
	{ "dkim=fail (bad signature)", { "mx.example.com; dkim=fail (bad "
	    "signature) header.d=example.org" }, NULL, "example.org",
	    "mx.example.com", "fail", "example.org" },
	{ "dkim=fail without a domain",
	    { "mx.example.com; dkim=fail (bad signature)" }, NULL, NULL,
	    "mx.example.com", "fail", NULL },
	{ "reason with a quoted string", { "mx.example.com; dkim=fail "
	    "reason=\"signature; \\\"verification\\\" failed\" "
	    "header.d=example.org" }, NULL, NULL, "mx.example.com", "fail",
	    "example.org" },
	{ "reason as a token", { "mx.example.com; dkim=permerror "
	    "reason=nokey header.d=example.org" }, NULL, NULL,
	    "mx.example.com", "permerror", "example.org" },
	{ "every result name", { "mx.example; dkim=TempError "
	    "header.d=example.org" }, NULL, NULL, "mx.example", "temperror",
	    "example.org" },
	{ "case-insensitive names, lower-cased values",
	    { "MX.Example.COM; DKIM=PASS Header.D=Google.COM." }, NULL, NULL,
	    "MX.Example.COM", "pass", "google.com" },
	{ "a version after the authserv-id",
	    { "mx.example.com 1; dkim=pass header.d=example.org" }, NULL,
	    NULL, "mx.example.com", "pass", "example.org" },
	{ "a method version", { "mx.example.com; dkim / 1 = pass "
	    "header.d=example.org" }, NULL, NULL, "mx.example.com", "pass",
	    "example.org" },
	{ "a quoted authserv-id",
	    { "\"mx.example.com\"; dkim=pass header.d=example.org" },
	    "mx.example.com", NULL, "mx.example.com", "pass", "example.org" },
	{ "comments everywhere", { "(a) mx.example.com (b (nested) c) ; "
	    "(d) dkim (e) = (f) pass (g) header (h) . (i) d (j) = (k) "
	    "Example.ORG (l)" }, NULL, NULL, "mx.example.com", "pass",
	    "example.org" },
	{ "';' inside a comment", { "mx.example.com; dkim=pass (one; "
	    "dkim=fail) header.d=example.org" }, NULL, NULL,
	    "mx.example.com", "pass", "example.org" },
	{ "escaped parenthesis in a comment", { "mx.example.com; dkim=pass "
	    "(a \\) b) header.d=example.org" }, NULL, NULL, "mx.example.com",
	    "pass", "example.org" },
	{ "'none' as the result list", { "mx.example.com; none" }, NULL,
	    NULL, "mx.example.com", "none", NULL },
	{ "'none' without the ';'", { "mx.example.com (c) NONE (c)" }, NULL,
	    NULL, "mx.example.com", "none", NULL },
	{ "'none' then something", { "mx.example.com none dkim=pass" },
	    NULL, NULL, NULL, NULL, NULL },
	{ "dkim=none", { "mx.example.com; dkim=none (no signatures)" },
	    NULL, NULL, "mx.example.com", "none", NULL },
	{ "no dkim result", { "mx.example.com; spf=pass "
	    "smtp.mailfrom=example.org; dmarc=pass header.from=example.org" },
	    NULL, NULL, "mx.example.com", "none", NULL },
	{ "a trailing ';'", { "mx.example.com; dkim=pass "
	    "header.d=example.org;" }, NULL, NULL, "mx.example.com", "pass",
	    "example.org" },

	/* Which dkim result. */
	{ "prefer a pass covering the reporting domain",
	    { "mx.example.com; dkim=fail header.d=mail.sender.example; "
	    "dkim=pass header.d=google.com; dkim=pass "
	    "header.d=mail.sender.example" }, NULL, "mail.sender.example",
	    "mx.example.com", "pass", "mail.sender.example" },
	{ "a parent domain covers", { "mx.example.com; dkim=pass "
	    "header.d=other.example; dkim=pass header.d=sender.example" },
	    NULL, "mail.sender.example", "mx.example.com", "pass",
	    "sender.example" },
	{ "a subdomain does not cover", { "mx.example.com; dkim=pass "
	    "header.d=mail.google.com; dkim=pass header.d=google.com" }, NULL,
	    "google.com", "mx.example.com", "pass", "google.com" },
	{ "then any pass", { "mx.example.com; dkim=fail header.d=a.example; "
	    "dkim=pass header.d=b.example; dkim=pass header.d=c.example" },
	    NULL, "d.example", "mx.example.com", "pass", "b.example" },
	{ "then any pass, no reporting domain", { "mx.example.com; "
	    "dkim=neutral header.d=a.example; dkim=pass header.d=b.example" },
	    NULL, NULL, "mx.example.com", "pass", "b.example" },
	{ "then the first result", { "mx.example.com; dkim=fail "
	    "header.d=a.example; dkim=policy header.d=b.example" }, NULL,
	    "b.example", "mx.example.com", "fail", "a.example" },
	{ "a failing signature of the right domain is not preferred",
	    { "mx.example.com; dkim=fail header.d=sender.example; dkim=pass "
	    "header.d=other.example" }, NULL, "sender.example",
	    "mx.example.com", "pass", "other.example" },
	{ "a pass without a domain", { "mx.example.com; dkim=pass; "
	    "dkim=pass header.d=sender.example" }, NULL, "sender.example",
	    "mx.example.com", "pass", "sender.example" },

	/* Which header. */
	{ "another authserv-id is skipped",
	    { "other.example; dkim=pass header.d=evil.example",
	    "mx.example.com; dkim=fail header.d=google.com" },
	    "mx.example.com", "google.com", "mx.example.com", "fail",
	    "google.com" },
	{ "topmost wins when none is configured",
	    { "mx2.example.com; dkim=fail header.d=google.com",
	    "mx1.example.com; dkim=pass header.d=google.com" }, NULL,
	    "google.com", "mx2.example.com", "fail", "google.com" },
	{ "a header below with a dkim result is not read",
	    { "mx.example.com; dkim=fail header.d=google.com",
	    "mx.example.com; dkim=pass header.d=google.com" }, NULL,
	    "google.com", "mx.example.com", "fail", "google.com" },
	{ "reading on stops at another authserv-id",
	    { "mx.example.com; spf=pass smtp.mailfrom=google.com",
	    "relay.example; dkim=pass header.d=google.com",
	    "mx.example.com; dkim=pass header.d=google.com" }, NULL,
	    "google.com", "mx.example.com", "none", NULL },
	{ "reading on stops at garbage",
	    { "mx.example.com; spf=pass smtp.mailfrom=google.com", "garbage",
	    "mx.example.com; dkim=pass header.d=google.com" }, NULL,
	    "google.com", "mx.example.com", "none", NULL },
	{ "garbage on top is passed over",
	    { "garbage", "mx.example.com; dkim=pass header.d=google.com" },
	    NULL, NULL, "mx.example.com", "pass", "google.com" },
	{ "ARC-style i= is not an authserv-id",
	    { "i=1; mx.example.com; dkim=pass header.d=google.com" }, NULL,
	    NULL, NULL, NULL, NULL },
	{ "no headers", { NULL }, NULL, NULL, NULL, NULL, NULL },

	/* Malformed and hostile. */
	{ "empty value", { "" }, NULL, NULL, NULL, NULL, NULL },
	{ "white space only", { " \t\r\n " }, NULL, NULL, NULL, NULL, NULL },
	{ "a word", { "garbage" }, NULL, NULL, NULL, NULL, NULL },
	{ "an authserv-id alone", { "mx.example.com" }, NULL, NULL, NULL,
	    NULL, NULL },
	{ "semicolons only", { ";;;" }, NULL, NULL, NULL, NULL, NULL },
	{ "a comment only", { "(mx.example.com; dkim=pass)" }, NULL, NULL,
	    NULL, NULL, NULL },
	{ "control bytes", { "\x01\x02\x7f;\x1b" }, NULL, NULL, NULL, NULL,
	    NULL },
	{ "8-bit authserv-id", { "\xff\xfe; dkim=pass header.d=example.org" },
	    NULL, NULL, NULL, NULL, NULL },
	{ "8-bit quoted authserv-id", { "\"mx\xc3\xa9\"; dkim=pass "
	    "header.d=example.org" }, NULL, NULL, NULL, NULL, NULL },
	{ "control byte in a quoted authserv-id", { "\"mx\x01\"; dkim=pass "
	    "header.d=example.org" }, NULL, NULL, NULL, NULL, NULL },
	{ "quoted authserv-id with a space", { "\"mx example\"; dkim=pass "
	    "header.d=example.org" }, NULL, NULL, "mx example", "pass",
	    "example.org" },
	{ "empty quoted authserv-id", { "\"\"; dkim=pass" }, NULL, NULL,
	    NULL, NULL, NULL },
	{ "8-bit header.d", { "mx.example.com; dkim=pass "
	    "header.d=\xc3\xa9.example" }, NULL, NULL, "mx.example.com",
	    "pass", NULL },
	{ "unterminated comment", { "mx.example.com; dkim=pass (oops "
	    "header.d=example.org" }, NULL, NULL, "mx.example.com", "pass",
	    NULL },
	{ "unterminated comment in the authserv-id",
	    { "mx.example.com (oops; dkim=pass header.d=example.org" }, NULL,
	    NULL, NULL, NULL, NULL },
	{ "unterminated quote in a reason", { "mx.example.com; dkim=pass "
	    "reason=\"oops header.d=example.org" }, NULL, NULL,
	    "mx.example.com", "pass", NULL },
	{ "unterminated quoted authserv-id",
	    { "\"mx.example.com; dkim=pass header.d=example.org" }, NULL,
	    NULL, NULL, NULL, NULL },
	{ "unterminated quoted header.d", { "mx.example.com; dkim=pass "
	    "header.d=\"example.org" }, NULL, NULL, "mx.example.com", "pass",
	    NULL },
	{ "a lone backslash at the end", { "mx.example.com; dkim=pass "
	    "(\\" }, NULL, NULL, "mx.example.com", "pass", NULL },
	{ "method without a result", { "mx.example.com; dkim; dkim=; "
	    "=pass; dkim=pass header.d=example.org" }, NULL, NULL,
	    "mx.example.com", "pass", "example.org" },
	{ "a result with odd characters", { "mx.example.com; dkim=pa$$ "
	    "header.d=example.org" }, NULL, NULL, "mx.example.com", "none",
	    NULL },
	{ "a broken property ends the resinfo", { "mx.example.com; dkim=pass "
	    "header=example.org header.d=evil.example" }, NULL, NULL,
	    "mx.example.com", "pass", NULL },
	{ "header.d with an @", { "mx.example.com; dkim=pass "
	    "header.d=x@example.org" }, NULL, NULL, "mx.example.com", "pass",
	    NULL },
	{ "header.d with an empty label", { "mx.example.com; dkim=pass "
	    "header.d=example..org" }, NULL, NULL, "mx.example.com", "pass",
	    NULL },
	{ "header.d empty", { "mx.example.com; dkim=pass header.d=; "
	    "spf=pass" }, NULL, NULL, "mx.example.com", "pass", NULL },
	{ "header.d of 253 bytes", { "mx.example.com; dkim=pass "
	    "header.d=" D253 }, NULL, NULL, "mx.example.com", "pass", D253 },
	{ "header.d of 253 bytes and a dot", { "mx.example.com; dkim=pass "
	    "header.d=" D253 "." }, NULL, NULL, "mx.example.com", "pass",
	    D253 },
	{ "header.d of 254 bytes", { "mx.example.com; dkim=pass "
	    "header.d=x" D253 }, NULL, NULL, "mx.example.com", "pass", NULL },
	{ "a hostile one on top, unconfigured",
	    { "evil.example; dkim=pass header.d=google.com",
	    "mx.example.com; dkim=fail header.d=google.com" }, NULL,
	    "google.com", "evil.example", "pass", "google.com" },
};

/* Generated: long and deeply nested values. */
static char *
repeat(const char *head, const char *unit, const char *unit2, size_t times,
    const char *tail)
{
	size_t hl = strlen(head);
	size_t ul = strlen(unit);
	size_t u2l = strlen(unit2);
	size_t tl = strlen(tail);
	char *s = NULL;
	char *p = NULL;
	size_t i;

	s = malloc(hl + (ul + u2l) * times + tl + 1);
	assert_non_null(s);
	p = s;
	memcpy(p, head, hl);
	p += hl;
	for (i = 0; i < times; i++, p += ul)
		memcpy(p, unit, ul);
	for (i = 0; i < times; i++, p += u2l)
		memcpy(p, unit2, u2l);
	memcpy(p, tail, tl + 1);
	return s;
}

/* In a want field of a generated case: unit repeated times. */
static const char RUN[] = "(the run)";

struct gen_case {
	const char *name;
	const char *head;
	const char *unit;	/* repeated times ... */
	const char *unit2;	/* ... then this, as often */
	size_t times;
	const char *tail;
	const char *want_id;
	const char *want_result;
	const char *want_domain;
};

static const struct gen_case gen_cases[] = {
	{ "a million open parentheses", "", "(", "", 1000000, "", NULL, NULL,
	    NULL },
	{ "a million open parentheses after the authserv-id",
	    "mx.example.com; dkim=pass ", "(", "", 1000000, "",
	    "mx.example.com", "pass", NULL },
	{ "comments nested 100000 deep and closed",
	    "mx.example.com; dkim=pass ", "(", ")", 100000,
	    " header.d=example.org", "mx.example.com", "pass",
	    "example.org" },
	{ "100000 results, the last one covers",
	    "mx.example.com", "; dkim=pass header.d=other.example", "",
	    100000, "; dkim=pass header.d=sender.example", "mx.example.com",
	    "pass", "sender.example" },
	{ "100000 semicolons", "mx.example.com", ";", "", 100000,
	    " dkim=fail header.d=example.org", "mx.example.com", "fail",
	    "example.org" },
	{ "an authserv-id of 255 bytes", "", "a", "", 255, "; dkim=pass",
	    RUN, "pass", NULL },
	{ "an authserv-id of 256 bytes", "", "a", "", 256, "; dkim=pass",
	    NULL, NULL, NULL },
	{ "a result of 63 bytes", "mx.example.com; dkim=", "a", "", 63, "",
	    "mx.example.com", RUN, NULL },
	{ "a result of 64 bytes", "mx.example.com; dkim=", "a", "", 64, "",
	    "mx.example.com", "none", NULL },
	{ "a property value of 1 MB", "mx.example.com; dkim=pass header.b=",
	    "A", "", 1000000, " header.d=example.org", "mx.example.com",
	    "pass", "example.org" },
	{ "a header.d of 1 MB", "mx.example.com; dkim=pass header.d=", "a",
	    "", 1000000, " header.i=@example.org", "mx.example.com", "pass",
	    "example.org" },
	{ "a quoted string of 1 MB", "mx.example.com; dkim=fail reason=\"",
	    "\\\"", "", 500000, "\" header.d=example.org", "mx.example.com",
	    "fail", "example.org" },
};

static void
test_generated(void **ts)
{
	struct state *st = *ts;
	const struct gen_case *g = st->tcase;
	const char *want_id = g->want_id;
	const char *want_result = g->want_result;

	st->values = calloc(1, sizeof(*st->values));
	assert_non_null(st->values);
	st->values[0] = repeat(g->head, g->unit, g->unit2, g->times,
	    g->tail);
	st->n_values = 1;
	if (want_id == RUN || want_result == RUN) {
		st->contact = repeat("", g->unit, g->unit2, g->times, "");
		if (want_id == RUN)
			want_id = st->contact;
		else
			want_result = st->contact;
	}
	check_dkim(st, st->values, 1, NULL, "sender.example", want_id,
	    want_result, g->want_domain);
}

/* NULL slots are passed over, and NULL or empty lists give nothing. */
static void
test_null_values(void **ts)
{
	struct state *st = *ts;
	char *values[3] = { NULL, NULL, NULL };

	check_dkim(st, NULL, 3, NULL, NULL, NULL, NULL, NULL);
	check_dkim(st, values, 0, NULL, NULL, NULL, NULL, NULL);
	check_dkim(st, values, 3, NULL, NULL, NULL, NULL, NULL);
	values[1] = (char *)(uintptr_t)"mx.example.com; dkim=pass "
	    "header.d=example.org";
	check_dkim(st, values, 3, NULL, NULL, "mx.example.com", "pass",
	    "example.org");
	authres_dkim_clear(&st->got);
	/* A NULL slot below the chosen header ends the reading on. */
	values[0] = (char *)(uintptr_t)"mx.example.com; spf=pass";
	values[1] = NULL;
	values[2] = (char *)(uintptr_t)"mx.example.com; dkim=pass";
	check_dkim(st, values, 3, NULL, NULL, "mx.example.com", "none",
	    NULL);
}

static void
test_clear(void **ts)
{
	struct state *st = *ts;
	char *values[1] = { (char *)(uintptr_t)"mx.example.com; dkim=pass "
	    "header.d=example.org" };

	authres_dkim_clear(NULL);
	check_dkim(st, values, 1, NULL, NULL, "mx.example.com", "pass",
	    "example.org");
	authres_dkim_clear(&st->got);
	assert_null(st->got.authserv_id);
	assert_null(st->got.result);
	assert_null(st->got.domain);
	/* Twice is harmless. */
	authres_dkim_clear(&st->got);
}

struct covers_case {
	const char *d;
	const char *dom;
	bool want;
};

static const struct covers_case covers_cases[] = {
	{ "google.com", "google.com", true },
	{ "google.com", "mail.google.com", true },
	{ "google.com", "a.b.mail.google.com", true },
	{ "mail.google.com", "google.com", false },
	{ "ogle.com", "google.com", false },
	{ "google.com", "xgoogle.com", false },
	{ "Google.COM.", "google.com", true },
	{ "google.com", "MAIL.Google.com.", true },
	{ "google.com.", "mail.google.com.", true },
	{ "com", "google.com", true },
	{ "google.com", "google.co", false },
	{ "google.com", "google.comx", false },
	{ "", "google.com", false },
	{ "google.com", "", false },
	{ ".", ".", false },
	{ "", "", false },
	{ "google.com..", "google.com.", false },
	{ NULL, "google.com", false },
	{ "google.com", NULL, false },
	{ NULL, NULL, false },
};

static void
test_covers(void **ts)
{
	size_t i;
	bool got;

	(void)ts;
	for (i = 0; i < NELEM(covers_cases); i++) {
		got = domain_covers(covers_cases[i].d,
		    covers_cases[i].dom);
		if (got != covers_cases[i].want)
			fail_msg("covers(%s, %s): got %d, want %d",
			    covers_cases[i].d != NULL ? covers_cases[i].d :
			    "NULL", covers_cases[i].dom != NULL ?
			    covers_cases[i].dom : "NULL", got,
			    covers_cases[i].want);
	}
}

struct contact_case {
	const char *input;
	const char *want;	/* NULL: want NULL */
};

static const struct contact_case contact_cases[] = {
	{ "mailto:tlsrpt@example.com", "example.com" },
	{ "MAILTO:TLSRPT@Example.COM", "example.com" },
	{ "mailto:tlsrpt@example.com?subject=report", "example.com" },
	{ "tls-reports@example.com", "example.com" },
	{ "sts-reporting@corp.mail.ru", "corp.mail.ru" },
	{ "tls_support@corp.mail.ru", "corp.mail.ru" },
	{ "smtp-tls-reporting@google.com", "google.com" },
	{ "noreply@mimecast.org", "mimecast.org" },
	{ "sts-reporting@company-x.example", "company-x.example" },
	{ "https://example.com/contact", "example.com" },
	{ "HTTPS://Example.COM.", "example.com" },
	{ "https://user:pw@example.com:8443/x?y=z@w", "example.com" },
	{ "http://example.com?x", "example.com" },
	{ "https://example.com#frag", "example.com" },
	{ "example.com", "example.com" },
	{ "Example.COM.", "example.com" },
	{ "  example.com \n", "example.com" },
	{ "tlsrpt@example.com.", "example.com" },
	{ "Reports <tlsrpt@example.com>", "example.com" },
	{ "a@x.example, b@y.example", "x.example" },
	{ "(tlsrpt@example.com)", "example.com" },
	{ "tlsrpt@example.com (reports)", "example.com" },
	{ NULL, NULL },
	{ "", NULL },
	{ "   ", NULL },
	{ "@", NULL },
	{ "tlsrpt@", NULL },
	{ "mailto:", NULL },
	{ "mailto:@", NULL },
	{ "https://", NULL },
	{ "https:///path", NULL },
	{ "https://[2001:db8::1]/", NULL },
	{ "https://exa mple.com/", NULL },
	{ "a@exa mple.com", NULL },
	{ "a@example.com/x", NULL },
	{ "a@exa!mple.com", NULL },
	{ "a@.example.com", NULL },
	{ "a@example..com", NULL },
	{ "example", NULL },
	{ "postmaster@localhost", NULL },
	{ "https://localhost/", NULL },
	{ "example.", NULL },
	{ "Example Inc.", NULL },
	{ "example.com/contact", NULL },
	{ ".", NULL },
	{ "a@" D253, D253 },
	{ "a@" D253 ".", D253 },
	{ "a@x" D253, NULL },
	{ "a@\xc3\xa9xample.com", NULL },
};

static void
test_contact(void **ts)
{
	struct state *st = *ts;
	size_t i;

	for (i = 0; i < NELEM(contact_cases); i++) {
		st->contact = domain_of_contact(contact_cases[i].input);
		if (contact_cases[i].want == NULL && st->contact != NULL)
			fail_msg("contact \"%s\": got \"%s\", want NULL",
			    contact_cases[i].input, st->contact);
		if (contact_cases[i].want != NULL && (st->contact == NULL ||
		    strcmp(st->contact, contact_cases[i].want) != 0))
			fail_msg("contact \"%s\": got \"%s\", want \"%s\"",
			    contact_cases[i].input, st->contact != NULL ?
			    st->contact : "NULL", contact_cases[i].want);
		free(st->contact);
		st->contact = NULL;
	}
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
	struct CMUnitTest tests[NELEM(dkim_cases) + NELEM(gen_cases) + 8];
	size_t n = 0;
	size_t i;

	for (i = 0; i < NELEM(dkim_cases); i++)
		add_test(tests, &n, dkim_cases[i].name, test_dkim,
		    &dkim_cases[i]);
	for (i = 0; i < NELEM(gen_cases); i++)
		add_test(tests, &n, gen_cases[i].name, test_generated,
		    &gen_cases[i]);
	add_test(tests, &n, "NULL values", test_null_values, NULL);
	add_test(tests, &n, "authres_dkim_clear", test_clear, NULL);
	add_test(tests, &n, "domain_covers", test_covers, NULL);
	add_test(tests, &n, "domain_of_contact", test_contact, NULL);
	return _cmocka_run_group_tests("authres", tests, n, NULL, NULL);
}
