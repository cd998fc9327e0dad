/*
 * adm_check.c - tlsrpt-adm check: a Nagios, Icinga or Monitoring Plugins
 * plugin.  Options, and the plugin's output: one status line naming the
 * worst problem, one line per problem, then performance data.
 *
 * Exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, whatever goes wrong
 * (a bad option, no database, a schema too old): a monitoring system
 * reads any other code as a failure of the plugin.  Text from reports
 * (organization names, result types, host names) is printed with control
 * characters and "|" (the start of performance data) replaced.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm_check.h"
#include "log.h"

enum check_state {
	CHECK_OK = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
	CHECK_UNKNOWN = 3,
};

static const char *const check_names[] = {
	"OK", "WARNING", "CRITICAL", "UNKNOWN",
};

#define CHECK_MAX_DOMAIN_BYTES 253
#define CHECK_LINE_BYTES 1024

static void
check_help(FILE *fp)
{
	(void)fputs("usage: tlsrpt-adm check [OPTIONS]\n"
	    "A monitoring plugin (exit 0 OK, 1 WARNING, 2 CRITICAL, "
	    "3 UNKNOWN).\n"
	    "\n"
	    "  --domain D        check D (repeatable; default: the monitored\n"
	    "                    domains, or every domain with reports)\n"
	    "  --window DUR      reports whose date range ends within DUR:\n"
	    "                    Nd or Nh (default 2d)\n"
	    "  -w, --warning PCT failure rate for WARNING, reached at PCT\n"
	    "                    (default 1)\n"
	    "  -c, --critical PCT  failure rate for CRITICAL (default 5)\n"
	    "  --silence DAYS    no report for DAYS: CRITICAL (default 7)\n"
	    "  --forget DAYS     a reporter silent for longer is no longer\n"
	    "                    expected (default 30; 0: never)\n"
	    "  --rejected N      more than N messages kept aside in the\n"
	    "                    window: WARNING (default 0)\n"
	    "  -h, --help        this text\n", fp);
}

/* Print the one line of an UNKNOWN and return its code. */
static int
check_unknown(const char *why)
{
	char line[CHECK_LINE_BYTES];
	size_t i;

	(void)snprintf(line, sizeof(line), "%s", why);
	for (i = 0; line[i] != '\0'; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f ||
		    line[i] == '|')
			line[i] = ' ';
	}
	(void)printf("TLSRPT UNKNOWN - %s\n", line);
	return CHECK_UNKNOWN;
}

static int
check_usage(const char *what)
{
	if (what != NULL)
		(void)fprintf(stderr, "tlsrpt-adm check: %s\n", what);
	check_help(stderr);
	return check_unknown(what != NULL ? what : "invalid option");
}

/* A whole number in [min, max]. */
static int
check_long(const char *s, long min, long max, long *v_r)
{
	char *end = NULL;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*v_r = v;
	return 0;
}

/* Nd or Nh, at least an hour, at most a year: seconds. */
static int
check_window(const char *s, long *sec_r)
{
	char num[16];
	size_t n = strlen(s);
	long v;

	if (n < 2 || n >= sizeof(num) || (s[n - 1] != 'd' && s[n - 1] != 'h'))
		return -1;
	memcpy(num, s, n - 1);
	num[n - 1] = '\0';
	if (check_long(num, 1, s[n - 1] == 'd' ? 365 : 365 * 24, &v) != 0)
		return -1;
	*sec_r = v * (s[n - 1] == 'd' ? 86400 : 3600);
	return 0;
}

/* A percentage from 0 to 100, at most two decimals; its value in
 * hundredths. */
static int
check_pct(const char *s, long *v_r)
{
	const char *dot = strchr(s, '.');
	long whole, frac = 0;
	char num[8];
	size_t n = dot != NULL ? (size_t)(dot - s) : strlen(s);

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (check_long(num, 0, 100, &whole) != 0)
		return -1;
	if (dot != NULL) {
		n = strlen(dot + 1);
		if (n < 1 || n > 2 || check_long(dot + 1, 0, 99, &frac) != 0)
			return -1;
		if (n == 1)
			frac *= 10;
	}
	*v_r = whole * 100 + frac;
	return *v_r <= 10000 ? 0 : -1;
}

/* Append a --domain value to the list, one a line. */
static int
check_add_domain(char **list, size_t *len, const char *d)
{
	size_t n = strlen(d), i;
	char *p = NULL;

	if (n == 0 || n > CHECK_MAX_DOMAIN_BYTES + 1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)d[i] <= 0x20 || d[i] == 0x7f ||
		    d[i] == '|' || d[i] == '\'' || d[i] == '=')
			return -1;
	}
	p = realloc(*list, *len + n + 2);
	if (p == NULL)
		return -1;
	if (*len > 0)
		p[(*len)++] = '\n';
	memcpy(p + *len, d, n + 1);
	*len += n;
	*list = p;
	return 0;
}

/* Text from the database, made safe for a plugin's output into out. */
static const char *
check_clean(const char *in, char *out, size_t size, int label)
{
	size_t i;

	(void)snprintf(out, size, "%s", in);
	for (i = 0; out[i] != '\0'; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f ||
		    out[i] == '|')
			out[i] = '?';
		else if (label && (out[i] == '\'' || out[i] == '='))
			out[i] = '_';
	}
	return out;
}

/* Row i's state, 0 to 2. */
static int
check_row_state(const PGresult *res, int i)
{
	long v = strtol(PQgetvalue(res, i, 1), NULL, 10);

	return v < CHECK_OK ? CHECK_OK : v > CHECK_CRITICAL ? CHECK_CRITICAL :
	    (int)v;
}

/* The output, from the rows check_sql_run() returns. */
static int
check_print(PGresult *res, const struct check_opts *o, const char *window,
    int have_domains)
{
	char line[CHECK_LINE_BYTES], thr[2][16];
	const char *kind, *sessions = "0 0", *kept = "0";
	long domains = 0;
	int i, n = PQntuples(res), worst = CHECK_OK, problems = 0, first = -1;
	int perf = 0;
	/* The database's sums, as it wrote them: they may be past 2^63. */
	char total[32] = "0", failed[32] = "0";

	for (i = 0; i < n; i++) {
		kind = PQgetvalue(res, i, 0);
		if (kind[0] == 'p' && check_row_state(res, i) > CHECK_OK) {
			problems++;
			if (first < 0) {
				first = i;
				worst = check_row_state(res, i);
			}
		} else if (kind[0] == 's') {
			domains = strtol(PQgetvalue(res, i, 2), NULL, 10);
			sessions = PQgetvalue(res, i, 3);
		} else if (kind[0] == 'r') {
			kept = PQgetvalue(res, i, 3);
		}
	}
	if (domains == 0 && !have_domains)
		return check_unknown("no reports and no monitored domains: "
		    "nothing to check");
	(void)sscanf(sessions, "%31s %31s", total, failed);
	(void)printf("TLSRPT %s - ", check_names[worst]);
	if (first >= 0) {
		(void)printf("%s", check_clean(PQgetvalue(res, first, 3), line,
		    sizeof(line), 0));
		if (problems > 1)
			(void)printf(" (and %d more)", problems - 1);
	} else {
		(void)printf("%ld domain%s, %s of %s sessions failed in "
		    "the last %s", domains, domains == 1 ? "" : "s", failed,
		    total, window);
	}
	(void)printf(" | 'sessions'=%s;;;0 'failed_sessions'=%s;;;0 "
	    "'rejected'=%s;%ld;;0\n", total, failed, kept, o->rejected);
	for (i = 0; i < n; i++) {
		kind = PQgetvalue(res, i, 0);
		if (kind[0] != 'p')
			continue;
		(void)printf("%s %s\n",
		    check_names[check_row_state(res, i)],
		    check_clean(PQgetvalue(res, i, 3), line, sizeof(line), 0));
	}
	(void)printf("%ld domain%s checked, reports ending in the last %s",
	    domains, domains == 1 ? "" : "s", window);
	(void)snprintf(thr[0], sizeof(thr[0]), "%s", o->warn);
	(void)snprintf(thr[1], sizeof(thr[1]), "%s", o->crit);
	for (i = 0; i < n; i++) {
		kind = PQgetvalue(res, i, 0);
		if (kind[0] != 'd')
			continue;
		(void)printf("%s'%s'=%s%s;%s;%s;0;100\n", perf++ == 0 ? " | " :
		    "", check_clean(PQgetvalue(res, i, 2), line, sizeof(line),
		    1), PQgetvalue(res, i, 3),
		    strcmp(PQgetvalue(res, i, 3), "U") == 0 ? "" : "%",
		    thr[0], thr[1]);
	}
	if (perf == 0)
		(void)printf("\n");
	return worst;
}

enum {
	CHECK_OPT_DOMAIN = 256,
	CHECK_OPT_WINDOW,
	CHECK_OPT_SILENCE,
	CHECK_OPT_FORGET,
	CHECK_OPT_REJECTED,
};

/* The options as parsed. */
struct check_args {
	struct check_opts o;
	const char *window;	/* as typed, for the output */
	char *domains;		/* owned: --domain values, one a line */
	size_t len;
	long warn, crit;	/* -w, -c in hundredths of a percent */
};

/* Take option opt: NULL, or what is wrong with its argument. */
static const char *
check_option(struct check_args *a, int opt, const char *arg)
{
	switch (opt) {
	case CHECK_OPT_DOMAIN:
		if (check_add_domain(&a->domains, &a->len, arg) != 0)
			return "--domain: not a domain";
		return NULL;
	case CHECK_OPT_WINDOW:
		if (check_window(arg, &a->o.window_s) != 0)
			return "--window: Nd or Nh, 1h to 365d";
		a->window = arg;
		return NULL;
	case 'w':
	case 'c':
		if (check_pct(arg, opt == 'w' ? &a->warn : &a->crit) != 0)
			return "-w, -c: a percentage, 0 to 100, two decimals "
			    "at most";
		*(opt == 'w' ? &a->o.warn : &a->o.crit) = arg;
		return NULL;
	case CHECK_OPT_SILENCE:
		if (check_long(arg, 1, 3650, &a->o.silence_d) != 0)
			return "--silence: days, 1 to 3650";
		return NULL;
	case CHECK_OPT_FORGET:
		if (check_long(arg, 0, 3650, &a->o.forget_d) != 0)
			return "--forget: days, 0 to 3650";
		return NULL;
	case CHECK_OPT_REJECTED:
		if (check_long(arg, 0, 1000000000, &a->o.rejected) != 0)
			return "--rejected: a number, 0 or more";
		return NULL;
	default:
		return "invalid option";
	}
}

int
adm_check(struct adm *adm, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "domain", required_argument, NULL, CHECK_OPT_DOMAIN },
		{ "window", required_argument, NULL, CHECK_OPT_WINDOW },
		{ "warning", required_argument, NULL, 'w' },
		{ "critical", required_argument, NULL, 'c' },
		{ "silence", required_argument, NULL, CHECK_OPT_SILENCE },
		{ "forget", required_argument, NULL, CHECK_OPT_FORGET },
		{ "rejected", required_argument, NULL, CHECK_OPT_REJECTED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_args a = {
		{ NULL, 2 * 86400, "1", "5", 7, 30, 0 }, "2d", NULL, 0,
		100, 500,
	};
	const char *what = NULL;
	struct ti_err err;
	PGresult *res = NULL;
	int opt, code = CHECK_UNKNOWN;

	while ((opt = getopt_long(argc, argv, "w:c:h", longs, NULL)) != -1) {
		if (opt == 'h') {
			check_help(stdout);
			code = 0;
			goto out;
		}
		what = check_option(&a, opt, optarg);
		if (what != NULL)
			break;
	}
	if (what == NULL && optind < argc)
		what = "no arguments expected";
	if (what == NULL && a.warn > a.crit)
		what = "-w must not be above -c";
	if (what != NULL) {
		code = check_usage(what);
		goto out;
	}
	a.o.domains = a.domains;
	res = check_sql_run(adm, &a.o, &err);
	if (res == NULL) {
		code = check_unknown(err.msg);
		goto out;
	}
	code = check_print(res, &a.o, a.window, a.domains != NULL);
out:
	PQclear(res);
	free(a.domains);
	(void)fflush(stdout);
	return code;
}
