/*
 * adm_summary_text.c - tlsrpt-adm summary as plain text, for a terminal
 * or the plain part of the mail; and the output buffer and the figures'
 * wording that the other renderings share.
 *
 * The texts from the database arrive without control characters (the
 * queries replace them); this rendering adds nothing else, so a line of
 * the model stays one line of text.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_summary.h"

static const char *const summary_state_names[] = {
	"OK", "WARNING", "CRITICAL",
};

void
summary_putn(struct summary_out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (buf_append(o->b, s, n, &o->err) != 0)
		o->failed = true;
}

void
summary_put(struct summary_out *o, const char *s)
{
	summary_putn(o, s, strlen(s));
}

void
summary_printf(struct summary_out *o, const char *fmt, ...)
{
	char line[1024], *big = NULL;
	va_list ap, again;
	int n;

	if (o->failed)
		return;
	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(line)) {
		summary_putn(o, line, (size_t)n);
	} else if (n < 0 || (size_t)n >= SUMMARY_MAX_BYTES ||
	    (big = malloc((size_t)n + 1)) == NULL) {
		/* A text from the reports may make a line long (a list of
		 * MX hosts), never longer than the output may be. */
		(void)ti_err_set(&o->err, n < 0 ? TI_KIND_INTERNAL :
		    TI_KIND_TEMP, "summary: %s", n < 0 ? "a line" :
		    "out of memory");
		o->failed = true;
	} else {
		n = vsnprintf(big, (size_t)n + 1, fmt, again);
		if (n >= 0)
			summary_putn(o, big, (size_t)n);
		free(big);
	}
	va_end(again);
}

int
summary_out_done(const struct summary_out *o, struct ti_err *err)
{
	if (!o->failed)
		return 0;
	*err = o->err;
	if (err->kind == TI_KIND_DATA)
		(void)ti_err_set(err, TI_KIND_INTERNAL,
		    "summary: more than %u bytes", SUMMARY_MAX_BYTES);
	return -1;
}

const char *
summary_count(long long v, char *out, size_t size)
{
	char digits[32];
	size_t n, i, j = 0;
	int len = snprintf(digits, sizeof(digits), "%lld", v < 0 ? -v : v);

	if (len < 0 || size < 2)
		return "?";
	n = (size_t)len;
	if (v < 0 && j + 1 < size)
		out[j++] = '-';
	for (i = 0; i < n && j + 2 < size; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[j++] = ',';
		out[j++] = digits[i];
	}
	out[j] = '\0';
	return out;
}

const char *
summary_state_name(enum summary_state st)
{
	return summary_state_names[st];
}

/* "12.50%", or "-" without sessions. */
const char *
summary_pct(long long ok, long long fail, char *out, size_t size)
{
	double r = summary_rate(ok, fail);

	if (r < 0)
		return "-";
	(void)snprintf(out, size, "%.2f%%", r);
	return out;
}

/* How the period compares with the one before, in words. */
const char *
summary_change(const struct summary_domain *d, char *out, size_t size)
{
	double now = summary_rate(d->ok, d->fail);
	double then = summary_rate(d->prev_ok, d->prev_fail);
	long long a = d->ok + d->fail, b = d->prev_ok + d->prev_fail;
	char c[32];

	if (b == 0) {
		(void)snprintf(out, size, "none before");
	} else if (a == 0) {
		(void)snprintf(out, size, "%s sessions before",
		    summary_count(b, c, sizeof(c)));
	} else {
		(void)snprintf(out, size, "before: %.2f%% of %s (%+.2f "
		    "points, sessions %+.0f%%)", then,
		    summary_count(b, c, sizeof(c)), now - then,
		    100.0 * (double)(a - b) / (double)b);
	}
	return out;
}

void
summary_period_words(const struct summary *s, char *now, size_t n_now,
    char *before, size_t n_before)
{
	if (s->days == 1) {
		(void)snprintf(now, n_now, "the last day");
		(void)snprintf(before, n_before, "the day before");
	} else {
		(void)snprintf(now, n_now, "the last %ld days", s->days);
		(void)snprintf(before, n_before, "the %ld days before",
		    s->days);
	}
}

/* The readiness verdicts of domain d, "sts ready, tlsa enforced". */
static void
summary_text_verdicts(const struct summary *s,
    const struct summary_domain *d, struct summary_out *o)
{
	int i, r;

	for (i = 0; i < d->ready_n; i++) {
		r = d->ready_first + i;
		summary_printf(o, "%s%s%s%s %s", i == 0 ? "; " : ", ",
		    strcmp(PQgetvalue(s->ready, r, SR_POLICY_DOMAIN),
		    d->name) == 0 ? "" : PQgetvalue(s->ready, r,
		    SR_POLICY_DOMAIN), strcmp(PQgetvalue(s->ready, r,
		    SR_POLICY_DOMAIN), d->name) == 0 ? "" : " ",
		    PQgetvalue(s->ready, r, SR_TYPE),
		    PQgetvalue(s->ready, r, SR_VERDICT));
	}
}

/* One line for a domain with nothing to say. */
static void
summary_text_healthy(const struct summary *s,
    const struct summary_domain *d, struct summary_out *o)
{
	char c[32], p[32], w[128];

	if (d->ok + d->fail == 0)
		summary_printf(o, "OK        %s: no reports (%s)", d->name,
		    summary_change(d, w, sizeof(w)));
	else
		summary_printf(o, "OK        %s: %s sessions, %s failed "
		    "(before: %s)", d->name, summary_count(d->ok + d->fail,
		    c, sizeof(c)), summary_pct(d->ok, d->fail, p, sizeof(p)),
		    summary_pct(d->prev_ok, d->prev_fail, w, sizeof(w)));
	summary_text_verdicts(s, d, o);
	summary_put(o, "\n");
}

static void
summary_text_failures(const struct summary *s,
    const struct summary_domain *d, struct summary_out *o)
{
	char c[32];
	const char *reps = NULL, *nl = NULL;
	long long nrep;
	int i, r;

	for (i = 0; i < d->fail_n; i++) {
		r = d->fail_first + i;
		summary_printf(o, "%s%s %s on %s\n%16sreported by ",
		    i == 0 ? "  failures    " : "              ",
		    summary_count(summary_ll(s->failures, r, SF_SESSIONS), c,
		    sizeof(c)),
		    PQgetvalue(s->failures, r, SF_TYPE),
		    PQgetvalue(s->failures, r, SF_MX), "");
		/* The names, one a line in the answer. */
		reps = PQgetvalue(s->failures, r, SF_REPORTERS);
		while (*reps != '\0') {
			nl = strchr(reps, '\n');
			if (nl == NULL)
				nl = reps + strlen(reps);
			summary_putn(o, reps, (size_t)(nl - reps));
			if (*nl == '\n')
				summary_put(o, ", ");
			reps = *nl == '\n' ? nl + 1 : nl;
		}
		nrep = summary_ll(s->failures, r, SF_NREP);
		if (nrep > SUMMARY_TOP_REPORTERS)
			summary_printf(o, " and %lld more",
			    nrep - SUMMARY_TOP_REPORTERS);
		summary_put(o, "\n");
	}
}

/* A domain with something to say: its figures, failures, verdicts and
 * check's alerts. */
static void
summary_text_domain(const struct summary *s,
    const struct summary_domain *d, struct summary_out *o)
{
	char c[32], p[32], w[128];
	int i, r;

	summary_printf(o, "%-9s %s: %s\n", summary_state_name(d->state),
	    d->name, summary_headline(d, w, sizeof(w)));
	summary_printf(o, "  sessions    %s, %s failed; %s\n",
	    summary_count(d->ok + d->fail, c, sizeof(c)),
	    summary_pct(d->ok, d->fail, p, sizeof(p)),
	    summary_change(d, w, sizeof(w)));
	summary_printf(o, "  reports     %lld from %lld reporter%s\n",
	    d->reports, d->reporters, d->reporters == 1 ? "" : "s");
	summary_text_failures(s, d, o);
	for (i = 0; i < d->ready_n; i++) {
		r = d->ready_first + i;
		summary_printf(o, "%s%s %s %s: %s\n", i == 0 ?
		    "  readiness   " : "              ",
		    PQgetvalue(s->ready, r, SR_POLICY_DOMAIN),
		    PQgetvalue(s->ready, r, SR_TYPE),
		    PQgetvalue(s->ready, r, SR_VERDICT),
		    PQgetvalue(s->ready, r, SR_REASON));
	}
	i = 0;
	for (r = d->alert_first; r >= 0; r = s->alert_next[r]) {
		if (summary_alert_cat(s, r) == 1)
			continue;
		summary_printf(o, "%s%s\n", i++ == 0 ? "  alerts      " :
		    "              ", summary_alert_text(s, r));
	}
	summary_put(o, "\n");
}

static void
summary_text_kept(const struct summary *s, struct summary_out *o)
{
	char c[32];
	int i, n = PQntuples(s->kept);
	long long reasons;

	if (n == 0)
		return;
	summary_printf(o, "\nKept aside (tlsrpt.rejected_message): %s "
	    "message%s\n", summary_count(summary_ll(s->kept, 0, SK_TOTAL), c,
	    sizeof(c)), strcmp(PQgetvalue(s->kept, 0, SK_TOTAL), "1") == 0 ?
	    "" : "s");
	for (i = 0; i < n; i++) {
		summary_printf(o, "%10s  %.900s\n", summary_count(
		    summary_ll(s->kept, i, SK_COUNT), c,
		    sizeof(c)), PQgetvalue(s->kept, i, SK_REASON));
	}
	reasons = summary_ll(s->kept, 0, SK_REASONS);
	if (reasons > n)
		summary_printf(o, "%10s  (%lld other reasons)\n", "",
		    reasons - n);
}

const char *
summary_headline(const struct summary_domain *d, char *out, size_t size)
{
	char p[32];

	if (d->why == NULL)
		return "";
	if (strcmp(d->why, "failed") != 0)
		return d->why;
	(void)snprintf(out, size, "%s failed", summary_pct(d->ok, d->fail, p,
	    sizeof(p)));
	return out;
}

/* The heading's count of domains by state. */
void
summary_tally(const struct summary *s, char *out, size_t size)
{
	(void)snprintf(out, size, "%zu domain%s: %zu critical, %zu warning, "
	    "%zu healthy", s->n, s->n == 1 ? "" : "s",
	    s->n_state[SUMMARY_CRITICAL], s->n_state[SUMMARY_WARNING],
	    s->n_state[SUMMARY_OK]);
}

void
summary_text(const struct summary *s, struct summary_out *o)
{
	char now[64], before[64], tally[160], c[32];
	size_t k;

	summary_period_words(s, now, sizeof(now), before, sizeof(before));
	summary_tally(s, tally, sizeof(tally));
	summary_printf(o, "TLS-RPT summary for %s\n"
	    "%s to %s UTC, compared with %s\n%s; %s message%s kept aside\n\n",
	    now, s->start, s->end, before, tally,
	    summary_count(s->n_kept, c, sizeof(c)),
	    s->n_kept == 1 ? "" : "s");
	if (s->n == 0)
		summary_put(o, "No domains: nothing monitored and no reports "
		    "in the period.\n");
	for (k = 0; k < s->n; k++) {
		if (s->dom[k].state == SUMMARY_OK)
			summary_text_healthy(s, &s->dom[k], o);
		else
			summary_text_domain(s, &s->dom[k], o);
	}
	summary_text_kept(s, o);
}
