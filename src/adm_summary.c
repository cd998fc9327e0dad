/*
 * adm_summary.c - tlsrpt-adm summary: a digest of a period for an
 * operator's inbox.  Options, then the model (adm_summary_sql.c), then
 * one rendering on standard output: text, an HTML page, or a whole
 * multipart/alternative message for sendmail -t.
 *
 * The command line is trusted only as far as it is checked here: the
 * period is 1 to 365 days, a domain a name without blanks or control
 * characters, an address printable ASCII (it becomes a header line).
 * The output is built in memory, at most SUMMARY_MAX_BYTES a part, and
 * written at once.
 *
 * Exit: 0 when the database answered, whatever it said; 64 usage, 74
 * standard output failed, 75 no database, 78 a schema too old or another
 * configuration problem.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "adm_summary.h"
#include "log.h"

#define SUMMARY_MAX_DOMAINS 1000
#define SUMMARY_MAX_DOMAIN_BYTES 253
#define SUMMARY_MAX_ADDRESS_BYTES 320

enum summary_format {
	SUMMARY_FORMAT_TEXT,
	SUMMARY_FORMAT_HTML,
	SUMMARY_FORMAT_MIME,
};

struct summary_opts {
	long days;
	const char *since;
	enum summary_format format;
	const char *from;
	const char *to;
	struct buf *domains;	/* --domain values, one a line */
};

static void
summary_help(FILE *fp)
{
	(void)fputs("usage: tlsrpt-adm summary [--since 1d|7d|30d] "
	    "[--domain D]... [--format text|html|mime]\n"
	    "                         [--to ADDR] [--from ADDR]\n"
	    "A digest of the period: per domain, worst first, sessions and\n"
	    "failures against the period before, the top failures, readiness\n"
	    "for enforce, reporters that stopped; messages kept aside.\n"
	    "\n"
	    "  --since Nd       the period: the last N days, 1 to 365 (1d)\n"
	    "  --domain D       this domain (repeatable; default: the "
	    "monitored\n"
	    "                   domains, else every domain with reports)\n"
	    "  --format F       text (default), html (a page), or mime (a\n"
	    "                   message for sendmail -t: text and HTML)\n"
	    "  --to ADDR        mime: the To header (postmaster)\n"
	    "  --from ADDR      mime: the From header (postmaster)\n"
	    "  -h, --help       this text\n", fp);
}

/* Nd, 1 to 365. */
static int
summary_days(const char *s, long *days_r)
{
	char *end = NULL;
	long v;

	if (s[0] < '1' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || strcmp(end, "d") != 0 || v < 1 || v > 365)
		return -1;
	*days_r = v;
	return 0;
}

/* One --domain value, checked, to the list: NULL, or what is wrong. */
static const char *
summary_add_domain(struct summary_opts *o, const char *d)
{
	struct ti_err err;
	size_t i, n = strlen(d);

	if (n == 0 || n > SUMMARY_MAX_DOMAIN_BYTES)
		return "--domain: 1 to 253 bytes";
	for (i = 0; i < n; i++) {
		if ((unsigned char)d[i] <= ' ' || d[i] == 0x7f)
			return "--domain: no blanks or control characters";
	}
	if (o->domains == NULL) {
		o->domains = buf_new(SUMMARY_MAX_DOMAINS *
		    (SUMMARY_MAX_DOMAIN_BYTES + 1), &err);
		if (o->domains == NULL)
			return "out of memory";
	}
	if ((buf_len(o->domains) > 0 &&
	    buf_append(o->domains, "\n", 1, &err) != 0) ||
	    buf_append(o->domains, d, n, &err) != 0)
		return err.kind == TI_KIND_DATA ? "at most 1000 domains" :
		    "out of memory";
	return NULL;
}

/* An address for a header: printable ASCII, no line breaks. */
static int
summary_address(const char *a)
{
	size_t i, n = strlen(a);

	if (n == 0 || n > SUMMARY_MAX_ADDRESS_BYTES || a[0] == ' ')
		return -1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)a[i] < ' ' || (unsigned char)a[i] > '~')
			return -1;
	}
	return 0;
}

/* Take option c: NULL, or what is wrong with it. */
static const char *
summary_option(struct summary_opts *o, int c, const char *arg)
{
	switch (c) {
	case 's':
		if (summary_days(arg, &o->days) != 0)
			return "--since: Nd, 1d to 365d";
		o->since = arg;
		return NULL;
	case 'D':
		return summary_add_domain(o, arg);
	case 'f':
		if (strcmp(arg, "text") == 0)
			o->format = SUMMARY_FORMAT_TEXT;
		else if (strcmp(arg, "html") == 0)
			o->format = SUMMARY_FORMAT_HTML;
		else if (strcmp(arg, "mime") == 0)
			o->format = SUMMARY_FORMAT_MIME;
		else
			return "--format: text, html or mime";
		return NULL;
	case 't':
	case 'F':
		if (summary_address(arg) != 0)
			return "--to, --from: an address in printable ASCII";
		*(c == 't' ? &o->to : &o->from) = arg;
		return NULL;
	default:
		return "unknown option";
	}
}

/* The options: 0, -1 for --help, or the exit code. */
static int
summary_options(struct summary_opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "since", required_argument, NULL, 's' },
		{ "domain", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *what = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		if (c == 'h') {
			summary_help(stdout);
			return -1;
		}
		what = summary_option(o, c, optarg);
		if (what != NULL)
			return adm_usage(argv[0], what);
	}
	if (optind < argc)
		return adm_usage(argv[0], "no arguments, only options");
	return 0;
}

/* Render the model in the format asked: 0, or -1 with err. */
static int
summary_render(const struct summary *s, const struct summary_opts *o,
    struct summary_out *out, struct ti_err *err)
{
	switch (o->format) {
	case SUMMARY_FORMAT_TEXT:
		summary_text(s, out);
		break;
	case SUMMARY_FORMAT_HTML:
		summary_html(s, out);
		break;
	case SUMMARY_FORMAT_MIME:
		return summary_mime(s, o->from, o->to, out, err);
	}
	return summary_out_done(out, err);
}

static int
summary_run(struct adm *adm, const struct summary_opts *o)
{
	struct summary s;
	struct summary_out out;
	struct ti_err err;
	struct ti_bytes bytes;
	int code = EX_OK;

	memset(&s, 0, sizeof(s));
	memset(&out, 0, sizeof(out));
	s.days = o->days;
	(void)snprintf(s.since, sizeof(s.since), "%s", o->since);
	if (summary_load(adm, &s, o->domains != NULL ?
	    buf_str(o->domains) : NULL, &err) != 0) {
		code = adm_fail(&err);
		goto out;
	}
	out.b = buf_new(SUMMARY_MAX_BYTES, &err);
	if (out.b == NULL || summary_render(&s, o, &out, &err) != 0) {
		code = adm_fail(&err);
		goto out;
	}
	bytes = buf_bytes(out.b);
	if (fwrite(bytes.data, 1, bytes.len, stdout) != bytes.len ||
	    fflush(stdout) != 0) {
		log_err("standard output: %s", strerror(errno));
		code = EX_IOERR;
	}
out:
	buf_free(&out.b);
	summary_clear(&s);
	return code;
}

int
adm_summary(struct adm *adm, int argc, char **argv)
{
	struct summary_opts o;
	int code;

	memset(&o, 0, sizeof(o));
	o.days = 1;
	o.since = "1d";
	o.format = SUMMARY_FORMAT_TEXT;
	o.from = "postmaster";
	o.to = "postmaster";
	code = summary_options(&o, argc, argv);
	if (code == 0)
		code = summary_run(adm, &o);
	else if (code < 0)
		code = EX_OK;
	buf_free(&o.domains);
	return code;
}
