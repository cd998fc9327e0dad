/*
 * adm_summary.h - tlsrpt-adm summary: the digest of a period, as the
 * database gives it (adm_summary_sql.c), and its three renderings: text
 * (adm_summary_text.c), an HTML page (adm_summary_html.c) and a mail
 * message holding both (adm_summary_mime.c).  adm_summary.c parses the
 * options and drives them.
 *
 * Every text in the model comes from reports, hence from strangers: the
 * queries replace control characters, and each renderer escapes what its
 * format needs (HTML: & < > " ', mail headers: anything but printable
 * ASCII).
 */
#ifndef TI_ADM_SUMMARY_H
#define TI_ADM_SUMMARY_H

#include <limits.h>
#include <stdbool.h>

#include "adm.h"	/* PGresult */
#include "buf.h"
#include "status.h"

/* The failure rates check calls WARNING and CRITICAL, in percent. */
#define SUMMARY_WARN_PCT "1"
#define SUMMARY_CRIT_PCT "5"
/* The failures listed per domain. */
#define SUMMARY_TOP_FAILURES 5
/* Reporters named per failure. */
#define SUMMARY_TOP_REPORTERS 3
/* The reasons listed for kept-aside messages. */
#define SUMMARY_TOP_KEPT 5
/* A number as SQL text. */
#define SUMMARY_STR_(x) #x
#define SUMMARY_TOP_STR(x) SUMMARY_STR_(x)
/* The output's hard maximum, per part. */
#define SUMMARY_MAX_BYTES (64u * 1024 * 1024)

enum summary_state {
	SUMMARY_OK = 0,
	SUMMARY_WARNING = 1,
	SUMMARY_CRITICAL = 2,
};

/* One domain: counts of the period and the one before it. */
struct summary_domain {
	const char *name;	/* borrowed from the model's results */
	long long ok, fail;	/* sessions in the period */
	long long prev_ok, prev_fail;	/* in the period before */
	long long reports, reporters;
	enum summary_state state;
	const char *why;	/* static: its worst problem, in a few words */
	int fail_first, fail_n;	/* rows of failures */
	int ready_first, ready_n;	/* rows of ready */
	int alert_first;	/* first row of check's alerts, -1: none */
};

/*
 * Columns of the results (text, cleaned of control characters):
 *   failures: domain, result type, MX, sessions, reporters (count),
 *     reporters (the first names, one a line)
 *   ready: domain, policy domain, type, verdict, reason
 *   check: as check_sql_run() (kind, state, domain, text, cat)
 *   kept: reason, messages, total messages, reasons
 */
enum { SF_DOMAIN, SF_TYPE, SF_MX, SF_SESSIONS, SF_NREP, SF_REPORTERS };
enum { SR_DOMAIN, SR_POLICY_DOMAIN, SR_TYPE, SR_VERDICT, SR_REASON };
enum { SK_REASON, SK_COUNT, SK_TOTAL, SK_REASONS };

struct summary {
	long days;		/* --since */
	char since[16];		/* as typed: "7d" */
	char period[32];	/* "the last 7 days" */
	char start[32], end[32];	/* UTC, "2026-12-06 07:00" */
	char date[64];		/* RFC 5322, for the Date header */
	size_t n;		/* domains */
	struct summary_domain *dom;	/* owned; worst first */
	int *alert_next;	/* owned: check rows, chained per domain */
	PGresult *info;		/* the domains' counts (owns their names) */
	PGresult *failures;
	PGresult *ready;
	PGresult *check;
	PGresult *kept;
	size_t n_state[3];	/* domains per state */
	long long n_kept;	/* messages kept aside in the period */
};

/*
 * Ask the database for the period's digest: domains given one a line in
 * domains (NULL: the monitored domains, else every domain with reports in
 * the period or the one before it).  0, or -1 with err (adm_query's).
 */
int summary_load(struct adm *adm, struct summary *s, const char *domains,
    struct ti_err *err) TI_MUST_CHECK;

/* Release what summary_load() filled; NULL-safe fields. */
void summary_clear(struct summary *s);

/* A check row's text, its state and its category (1 rate, 2 silence,
 * 3 a reporter late, 4 a new result type). */
const char *summary_alert_text(const struct summary *s, int row);
int summary_alert_cat(const struct summary *s, int row);

/* The subject line: "TLS-RPT summary for ...: N domains, worst ...". */
int summary_subject(const struct summary *s, char *out, size_t size)
    TI_MUST_CHECK;

/*
 * The number in row, col of res.  A forged report may claim 2^63 - 1
 * sessions, and a sum of several more: numbers are kept within an eighth
 * of long long's range, so that adding a few never overflows.
 */
#define SUMMARY_VALUE_MAX (LLONG_MAX / 8)
long long summary_ll(const PGresult *res, int row, int col);

/* Percent of fail in ok + fail; -1 without sessions. */
double summary_rate(long long ok, long long fail);

/* A count with thousands separators ("12,345") into out (32 bytes). */
const char *summary_count(long long v, char *out, size_t size);

/* Wording shared by the renderings (adm_summary_text.c): a state's name;
 * a failure rate ("12.50%", "-" without sessions); the change from the
 * period before; the period and the one before in words; the domains by
 * state ("4 domains: 1 critical, ..."). */
const char *summary_state_name(enum summary_state st);
const char *summary_pct(long long ok, long long fail, char *out,
    size_t size);
const char *summary_change(const struct summary_domain *d, char *out,
    size_t size);
void summary_period_words(const struct summary *s, char *now,
    size_t n_now, char *before, size_t n_before);
void summary_tally(const struct summary *s, char *out, size_t size);
/* Its worst problem in a few words: "12.40% failed", "a reporter
 * stopped"; "" for a healthy domain. */
const char *summary_headline(const struct summary_domain *d, char *out,
    size_t size);

/*
 * Output into a buffer that stops growing at SUMMARY_MAX_BYTES: the
 * first failure sticks (err), later appends do nothing, and
 * summary_out_done() says whether all went in.
 */
struct summary_out {
	struct buf *b;
	struct ti_err err;
	bool failed;
};

void summary_put(struct summary_out *o, const char *s);
void summary_putn(struct summary_out *o, const char *s, size_t n);
void summary_printf(struct summary_out *o, const char *fmt, ...)
    TI_PRINTF(2, 3);
int summary_out_done(const struct summary_out *o, struct ti_err *err)
    TI_MUST_CHECK;

/* The renderings, appended to o. */
void summary_text(const struct summary *s, struct summary_out *o);
void summary_html(const struct summary *s, struct summary_out *o);

/*
 * The whole message: headers (from, to: checked by the caller) and the
 * two parts, quoted-printable.  0, or -1 with err.
 */
int summary_mime(const struct summary *s, const char *from, const char *to,
    struct summary_out *o, struct ti_err *err) TI_MUST_CHECK;

#endif
