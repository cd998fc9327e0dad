/*
 * adm_summary_mime.c - tlsrpt-adm summary as a mail message for
 * sendmail -t: headers, then a multipart/alternative body with the text
 * and the HTML renderings, each quoted-printable in UTF-8.
 *
 * Lines end in LF, as sendmail expects on its input; none is longer than
 * 76 characters in the bodies (RFC 2045) or 998 in the headers (RFC
 * 5322).  The subject names a domain from the reports: anything but
 * printable ASCII in it becomes "?".  The boundary starts with "=_",
 * which quoted-printable text never holds.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adm_summary.h"

/* Quoted-printable lines: at most 76 characters, "=" included. */
#define SUMMARY_QP_LINE 76

int
summary_subject(const struct summary *s, char *out, size_t size)
{
	const struct summary_domain *w = s->n > 0 ? &s->dom[0] : NULL;
	char now[64], before[64], why[64];
	size_t i;
	int rc;

	summary_period_words(s, now, sizeof(now), before, sizeof(before));
	if (w == NULL || w->state == SUMMARY_OK) {
		rc = ti_snprintf(out, size, "TLS-RPT summary for %s: %zu "
		    "domain%s, all healthy", now, s->n, s->n == 1 ? "" : "s");
	} else {
		rc = ti_snprintf(out, size, "TLS-RPT summary for %s: %zu "
		    "domain%s, worst %.253s (%s)", now, s->n,
		    s->n == 1 ? "" : "s", w->name,
		    summary_headline(w, why, sizeof(why)));
	}
	for (i = 0; out[i] != '\0'; i++) {
		if ((unsigned char)out[i] < ' ' || (unsigned char)out[i] > '~')
			out[i] = '?';
	}
	return rc;
}

/* Whether byte c goes as it is (not at a line's end: see below). */
static int
summary_qp_plain(unsigned char c)
{
	return (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
}

/*
 * text, quoted-printable: LF ends a line (as LF; sendmail makes CRLF of
 * it); a blank or tab before a line's end is encoded; a line longer than
 * 76 characters gets soft breaks.  A "." alone on a line cannot appear
 * (sendmail -t -i is not assumed): it is encoded.
 */
static void
summary_qp(struct summary_out *o, const char *text, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[4];
	size_t i, col = 0, w;
	unsigned char c;
	int plain;

	for (i = 0; i < n; i++) {
		c = (unsigned char)text[i];
		if (c == '\n') {
			summary_putn(o, "\n", 1);
			col = 0;
			continue;
		}
		plain = summary_qp_plain(c);
		if (plain && (c == ' ' || c == '\t') &&
		    (i + 1 == n || text[i + 1] == '\n'))
			plain = 0;
		if (plain && c == '.' && col == 0)
			plain = 0;
		w = plain ? 1 : 3;
		/* Room for the character and a soft break's "=". */
		if (col + w > SUMMARY_QP_LINE - 1 && !((i + 1 == n ||
		    text[i + 1] == '\n') && col + w <= SUMMARY_QP_LINE)) {
			summary_putn(o, "=\n", 2);
			col = 0;
		}
		if (plain) {
			summary_putn(o, (const char *)&text[i], 1);
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			summary_putn(o, enc, 3);
		}
		col += w;
	}
	if (col > 0)
		summary_putn(o, "\n", 1);
}

/* One part: its headers and the rendering, quoted-printable. */
static int
summary_part(struct summary_out *o, const char *boundary, const char *type,
    const struct summary *s, void (*render)(const struct summary *,
    struct summary_out *), struct ti_err *err)
{
	struct summary_out part;
	struct ti_bytes b;
	int rc = -1;

	memset(&part, 0, sizeof(part));
	part.b = buf_new(SUMMARY_MAX_BYTES, err);
	if (part.b == NULL)
		return -1;
	render(s, &part);
	if (summary_out_done(&part, err) != 0)
		goto out;
	summary_printf(o, "--%s\nContent-Type: %s; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n", boundary, type);
	b = buf_bytes(part.b);
	summary_qp(o, (const char *)b.data, b.len);
	/* The line break before a boundary belongs to the boundary. */
	summary_put(o, "\n");
	rc = 0;
out:
	buf_free(&part.b);
	return rc;
}

int
summary_mime(const struct summary *s, const char *from, const char *to,
    struct summary_out *o, struct ti_err *err)
{
	char subject[512], boundary[80];

	if (summary_subject(s, subject, sizeof(subject)) != 0)
		return ti_err_set(err, TI_KIND_INTERNAL, "summary: subject");
	(void)snprintf(boundary, sizeof(boundary), "=_tlsrpt_summary_%lld_%ld",
	    (long long)time(NULL), (long)getpid());
	summary_printf(o, "From: %s\nTo: %s\nSubject: %s\nDate: %s\n"
	    "MIME-Version: 1.0\nAuto-Submitted: auto-generated\n"
	    "Content-Type: multipart/alternative;\n boundary=\"%s\"\n\n"
	    "This is a message in MIME format: a text and an HTML part.\n\n",
	    from, to, subject, s->date, boundary);
	if (summary_part(o, boundary, "text/plain", s, summary_text,
	    err) != 0 ||
	    summary_part(o, boundary, "text/html", s, summary_html, err) != 0)
		return -1;
	summary_printf(o, "--%s--\n", boundary);
	return summary_out_done(o, err);
}
