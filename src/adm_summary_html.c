/*
 * adm_summary_html.c - tlsrpt-adm summary as one self-contained HTML
 * page: for a browser, and as the HTML part of the mail.
 *
 * Mail clients keep little of HTML: no scripts, no style sheets, no
 * external resources here; tables for the layout, inline styles, bars
 * drawn as table cells, one column narrower than a phone.  Every text
 * from the database goes through summary_html_esc(): organization names,
 * MX hosts and policy domains are whatever a reporter chose to send.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_summary.h"

#define SUMMARY_FONT "-apple-system,'Segoe UI',Roboto,Helvetica,Arial," \
	"sans-serif"
#define SUMMARY_GREY "#59636e"

static const char *const summary_colours[] = {
	"#2e7d32", "#b35c00", "#b71c1c",
};
static const char *const summary_tints[] = {
	"#e8f5e9", "#fff3e0", "#ffebee",
};

/* n bytes at s, with & < > " ' as entities. */
static void
summary_html_escn(struct summary_out *o, const char *s, size_t n)
{
	const char *p = s, *run = s;

	for (; p < s + n; p++) {
		const char *ent = NULL;

		switch (*p) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		summary_putn(o, run, (size_t)(p - run));
		summary_put(o, ent);
		run = p + 1;
	}
	summary_putn(o, run, (size_t)(p - run));
}

static void
summary_html_esc(struct summary_out *o, const char *s)
{
	summary_html_escn(o, s, strlen(s));
}

/* A bar of pct percent (0 to 100) in colour on a light track. */
static void
summary_html_bar(struct summary_out *o, double pct, const char *colour)
{
	int w = (int)(pct + 0.5);

	if (pct > 0 && w < 2)
		w = 2;
	if (w > 100)
		w = 100;
	summary_put(o, "<table role=\"presentation\" width=\"100%\" "
	    "cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
	    "style=\"border-collapse:collapse;\"><tr>");
	if (w > 0)
		summary_printf(o, "<td width=\"%d%%\" style=\"background:%s;"
		    "height:8px;font-size:0;line-height:0;\">&nbsp;</td>", w,
		    colour);
	if (w < 100)
		summary_put(o, "<td style=\"background:#e6e9ed;height:8px;"
		    "font-size:0;line-height:0;\">&nbsp;</td>");
	summary_put(o, "</tr></table>");
}

static void
summary_html_head(const struct summary *s, struct summary_out *o)
{
	char now[64], before[64], tally[160], c[32];
	int i;

	summary_period_words(s, now, sizeof(now), before, sizeof(before));
	summary_printf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<title>TLS-RPT summary for %s</title></head>\n", now);
	summary_put(o, "<body style=\"margin:0;padding:0;"
	    "background:#f4f5f7;\">\n<table role=\"presentation\" "
	    "width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
	    "style=\"background:#f4f5f7;\"><tr><td align=\"center\" "
	    "style=\"padding:12px 6px;\">\n<table role=\"presentation\" "
	    "width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
	    "style=\"max-width:680px;background:#ffffff;"
	    "border:1px solid #dde1e6;font-family:" SUMMARY_FONT ";"
	    "color:#1f2328;font-size:14px;line-height:1.45;\">\n");
	summary_printf(o, "<tr><td style=\"padding:18px 16px 6px 16px;\">"
	    "<h1 style=\"margin:0 0 4px 0;font-size:20px;line-height:1.25;\">"
	    "TLS-RPT summary for %s</h1>\n<div style=\"color:" SUMMARY_GREY
	    ";font-size:13px;\">", now);
	summary_html_esc(o, s->start);
	summary_put(o, " to ");
	summary_html_esc(o, s->end);
	summary_printf(o, " UTC, compared with %s</div></td></tr>\n", before);
	summary_tally(s, tally, sizeof(tally));
	summary_put(o, "<tr><td style=\"padding:6px 16px 10px 16px;\">");
	for (i = SUMMARY_CRITICAL; i >= SUMMARY_OK; i--) {
		summary_printf(o, "<span style=\"display:inline-block;"
		    "margin:2px 6px 2px 0;padding:2px 8px;background:%s;"
		    "color:%s;font-weight:bold;font-size:13px;\">%zu %s</span>",
		    summary_tints[i], summary_colours[i], s->n_state[i],
		    i == SUMMARY_CRITICAL ? "critical" : i == SUMMARY_WARNING ?
		    "warning" : "healthy");
	}
	summary_printf(o, "<span style=\"display:inline-block;"
	    "margin:2px 0;padding:2px 8px;background:#eef1f4;color:#1f2328;"
	    "font-size:13px;\">%s kept aside</span></td></tr>\n",
	    summary_count(s->n_kept, c, sizeof(c)));
}

/* A healthy domain's verdicts, "; sts ready". */
static void
summary_html_verdicts(const struct summary *s,
    const struct summary_domain *d, struct summary_out *o)
{
	int i, r;

	for (i = 0; i < d->ready_n; i++) {
		r = d->ready_first + i;
		summary_put(o, i == 0 ? "; " : ", ");
		if (strcmp(PQgetvalue(s->ready, r, SR_POLICY_DOMAIN),
		    d->name) != 0) {
			summary_html_esc(o, PQgetvalue(s->ready, r,
			    SR_POLICY_DOMAIN));
			summary_put(o, " ");
		}
		summary_html_esc(o, PQgetvalue(s->ready, r, SR_TYPE));
		summary_put(o, " ");
		summary_html_esc(o, PQgetvalue(s->ready, r, SR_VERDICT));
	}
}

/* The table of every domain, one row each. */
static void
summary_html_overview(const struct summary *s, struct summary_out *o)
{
	const struct summary_domain *d = NULL;
	char c[32], p[32], w[160];
	double r;
	size_t k;

	summary_put(o, "<tr><td style=\"padding:4px 16px 12px 16px;\">"
	    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" "
	    "cellspacing=\"0\" border=\"0\" style=\"border-collapse:collapse;"
	    "font-size:13px;\">\n<tr style=\"color:" SUMMARY_GREY ";\">"
	    "<td style=\"padding:4px 6px;\">Domain</td>"
	    "<td align=\"right\" style=\"padding:4px 6px;\">Sessions</td>"
	    "<td align=\"right\" style=\"padding:4px 6px;\">Failed</td>"
	    "<td width=\"22%\" style=\"padding:4px 6px;\"></td></tr>\n");
	if (s->n == 0)
		summary_put(o, "<tr><td colspan=\"4\" style=\"padding:6px;\">"
		    "No domains: nothing monitored and no reports in the "
		    "period.</td></tr>\n");
	for (k = 0; k < s->n; k++) {
		d = &s->dom[k];
		r = summary_rate(d->ok, d->fail);
		summary_printf(o, "<tr><td style=\"padding:5px 6px;"
		    "border-top:1px solid #eceff2;border-left:4px solid %s;\">"
		    "<b style=\"word-break:break-all;\">",
		    summary_colours[d->state]);
		summary_html_esc(o, d->name);
		summary_printf(o, "</b><br><span style=\"color:%s;"
		    "font-size:12px;\">%s%s%s",
		    summary_colours[d->state], summary_state_name(d->state),
		    d->why != NULL ? ": " : "",
		    summary_headline(d, w, sizeof(w)));
		if (d->state == SUMMARY_OK)
			summary_html_verdicts(s, d, o);
		summary_put(o, "</span></td>");
		summary_printf(o, "<td align=\"right\" style=\"padding:5px 6px;"
		    "border-top:1px solid #eceff2;white-space:nowrap;\">%s</td>",
		    summary_count(d->ok + d->fail, c, sizeof(c)));
		summary_printf(o, "<td align=\"right\" style=\"padding:5px 6px;"
		    "border-top:1px solid #eceff2;white-space:nowrap;\">%s"
		    "<br><span style=\"color:" SUMMARY_GREY ";font-size:11px;\">"
		    "before %s</span></td>", summary_pct(d->ok, d->fail, p,
		    sizeof(p)), summary_pct(d->prev_ok, d->prev_fail, w,
		    sizeof(w)));
		summary_put(o, "<td style=\"padding:5px 6px;"
		    "border-top:1px solid #eceff2;\">");
		/* The bar's scale: 10 % failed fills it. */
		summary_html_bar(o, r < 0 ? 0 : r * 10,
		    summary_colours[d->state]);
		summary_put(o, "</td></tr>\n");
	}
	summary_put(o, "</table></td></tr>\n");
}

/* A label cell and a value cell of a card's table. */
static void
summary_html_label(struct summary_out *o, const char *label)
{
	summary_printf(o, "<tr><td valign=\"top\" style=\"padding:3px 8px 3px "
	    "0;color:" SUMMARY_GREY ";white-space:nowrap;\">%s</td>"
	    "<td style=\"padding:3px 0;word-break:break-word;\">", label);
}

static void
summary_html_failures(const struct summary *s,
    const struct summary_domain *d, struct summary_out *o)
{
	char c[32];
	long long n, top = 0, nrep;
	const char *reps = NULL, *nl = NULL;
	int i, r;

	if (d->fail_n == 0)
		return;
	summary_html_label(o, "Failures");
	summary_put(o, "<table role=\"presentation\" width=\"100%\" "
	    "cellpadding=\"0\" cellspacing=\"0\" border=\"0\">");
	for (i = 0; i < d->fail_n; i++) {
		r = d->fail_first + i;
		n = summary_ll(s->failures, r, SF_SESSIONS);
		if (i == 0)
			top = n > 0 ? n : 1;
		summary_printf(o, "<tr><td style=\"padding:2px 0 6px 0;"
		    "word-break:break-all;\"><b>%s</b> ",
		    summary_count(n, c, sizeof(c)));
		summary_html_esc(o, PQgetvalue(s->failures, r, SF_TYPE));
		summary_put(o, " on <code>");
		summary_html_esc(o, PQgetvalue(s->failures, r, SF_MX));
		summary_put(o, "</code><br><span style=\"color:" SUMMARY_GREY
		    ";font-size:12px;\">by ");
		reps = PQgetvalue(s->failures, r, SF_REPORTERS);
		while (*reps != '\0') {
			nl = strchr(reps, '\n');
			if (nl == NULL)
				nl = reps + strlen(reps);
			summary_html_escn(o, reps, (size_t)(nl - reps));
			if (*nl == '\n')
				summary_put(o, "; ");
			reps = *nl == '\n' ? nl + 1 : nl;
		}
		nrep = summary_ll(s->failures, r, SF_NREP);
		if (nrep > SUMMARY_TOP_REPORTERS)
			summary_printf(o, " and %lld more",
			    nrep - SUMMARY_TOP_REPORTERS);
		summary_put(o, "</span>");
		summary_html_bar(o, 100.0 * (double)n / (double)top,
		    summary_colours[SUMMARY_CRITICAL]);
		summary_put(o, "</td></tr>");
	}
	summary_put(o, "</table></td></tr>\n");
}

static void
summary_html_ready(const struct summary *s, const struct summary_domain *d,
    struct summary_out *o)
{
	const char *v = NULL;
	int i, r;

	if (d->ready_n == 0)
		return;
	summary_html_label(o, "Readiness");
	for (i = 0; i < d->ready_n; i++) {
		r = d->ready_first + i;
		v = PQgetvalue(s->ready, r, SR_VERDICT);
		summary_put(o, i > 0 ? "<br>" : "");
		summary_html_esc(o, PQgetvalue(s->ready, r, SR_POLICY_DOMAIN));
		summary_put(o, " ");
		summary_html_esc(o, PQgetvalue(s->ready, r, SR_TYPE));
		summary_printf(o, " <b style=\"color:%s;\">",
		    strcmp(v, "not-ready") == 0 ?
		    summary_colours[SUMMARY_WARNING] : strcmp(v, "unknown") ==
		    0 ? SUMMARY_GREY : summary_colours[SUMMARY_OK]);
		summary_html_esc(o, v);
		summary_put(o, "</b>: ");
		summary_html_esc(o, PQgetvalue(s->ready, r, SR_REASON));
	}
	summary_put(o, "</td></tr>\n");
}

static void
summary_html_alerts(const struct summary *s, const struct summary_domain *d,
    struct summary_out *o)
{
	int r, n = 0;

	for (r = d->alert_first; r >= 0; r = s->alert_next[r]) {
		if (summary_alert_cat(s, r) == 1)
			continue;
		if (n++ == 0)
			summary_html_label(o, "Alerts");
		else
			summary_put(o, "<br>");
		summary_html_esc(o, summary_alert_text(s, r));
	}
	if (n > 0)
		summary_put(o, "</td></tr>\n");
}

/* A domain with something to say: a card of its own. */
static void
summary_html_domain(const struct summary *s, const struct summary_domain *d,
    struct summary_out *o)
{
	char c[32], p[32], w[160];
	double now = summary_rate(d->ok, d->fail);
	double then = summary_rate(d->prev_ok, d->prev_fail);
	double scale = now > then ? now : then;

	summary_printf(o, "<tr><td style=\"padding:6px 16px 10px 16px;\">"
	    "<table role=\"presentation\" width=\"100%%\" cellpadding=\"0\" "
	    "cellspacing=\"0\" border=\"0\" style=\"border:1px solid "
	    "#dde1e6;border-left:4px solid %s;\"><tr><td style=\"padding:"
	    "10px 12px;background:%s;\"><div style=\"font-size:16px;"
	    "font-weight:bold;word-break:break-all;\">",
	    summary_colours[d->state], summary_tints[d->state]);
	summary_html_esc(o, d->name);
	summary_printf(o, "</div><div style=\"color:%s;font-size:13px;\">"
	    "%s%s%s</div></td></tr>\n<tr><td style=\"padding:8px 12px;\">"
	    "<table role=\"presentation\" width=\"100%%\" cellpadding=\"0\" "
	    "cellspacing=\"0\" border=\"0\" style=\"font-size:13px;\">\n",
	    summary_colours[d->state], summary_state_name(d->state),
	    d->why != NULL ? ": " : "", summary_headline(d, w, sizeof(w)));
	summary_html_label(o, "Sessions");
	summary_printf(o, "%s, <b>%s failed</b>; %s<br>%lld report%s from "
	    "%lld reporter%s", summary_count(d->ok + d->fail, c, sizeof(c)),
	    summary_pct(d->ok, d->fail, p, sizeof(p)),
	    summary_change(d, w, sizeof(w)), d->reports,
	    d->reports == 1 ? "" : "s", d->reporters,
	    d->reporters == 1 ? "" : "s");
	if (scale > 0) {
		summary_put(o, "<table role=\"presentation\" width=\"100%\" "
		    "cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
		    "style=\"margin-top:4px;font-size:11px;color:" SUMMARY_GREY
		    ";\"><tr><td width=\"48\">now</td><td>");
		summary_html_bar(o, now < 0 ? 0 : 100 * now / scale,
		    summary_colours[d->state]);
		summary_put(o, "</td></tr><tr><td>before</td><td>");
		summary_html_bar(o, then < 0 ? 0 : 100 * then / scale,
		    "#8a939c");
		summary_put(o, "</td></tr></table>");
	}
	summary_put(o, "</td></tr>\n");
	summary_html_failures(s, d, o);
	summary_html_ready(s, d, o);
	summary_html_alerts(s, d, o);
	summary_put(o, "</table></td></tr></table></td></tr>\n");
}

static void
summary_html_kept(const struct summary *s, struct summary_out *o)
{
	char c[32];
	int i, n = PQntuples(s->kept);

	if (n == 0)
		return;
	summary_printf(o, "<tr><td style=\"padding:6px 16px 10px 16px;\">"
	    "<div style=\"font-weight:bold;margin-bottom:4px;\">Kept aside: "
	    "%s message%s</div><table role=\"presentation\" width=\"100%%\" "
	    "cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
	    "style=\"font-size:13px;\">\n", summary_count(s->n_kept, c,
	    sizeof(c)), s->n_kept == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		summary_printf(o, "<tr><td align=\"right\" valign=\"top\" "
		    "style=\"padding:2px 8px 2px 0;white-space:nowrap;\">%s"
		    "</td><td style=\"padding:2px 0;word-break:break-word;\">",
		    summary_count(summary_ll(s->kept, i, SK_COUNT), c,
		    sizeof(c)));
		summary_html_esc(o, PQgetvalue(s->kept, i, SK_REASON));
		summary_put(o, "</td></tr>\n");
	}
	summary_put(o, "</table></td></tr>\n");
}

void
summary_html(const struct summary *s, struct summary_out *o)
{
	size_t k;

	summary_html_head(s, o);
	summary_html_overview(s, o);
	for (k = 0; k < s->n; k++) {
		if (s->dom[k].state != SUMMARY_OK)
			summary_html_domain(s, &s->dom[k], o);
	}
	summary_html_kept(s, o);
	summary_put(o, "<tr><td style=\"padding:10px 16px 16px 16px;"
	    "color:" SUMMARY_GREY ";font-size:12px;\">tlsrpt-adm summary "
	    "--since ");
	summary_html_esc(o, s->since);
	summary_put(o, "; readiness over 30 days; details: tlsrpt-adm check, "
	    "tlsrpt-adm readiness -v</td></tr>\n</table></td></tr></table>\n"
	    "</body></html>\n");
}
