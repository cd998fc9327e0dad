/*
 * adm_metrics.c - tlsrpt-adm metrics: the stored reports as Prometheus
 * metrics, in the text exposition format, for the node exporter's
 * textfile collector.
 *
 * The totals come from the running totals schema step 8 keeps
 * (tlsrpt.metrics_report, _session, _failure), folded first where the
 * role may.  Everything is read in one read-only snapshot, into memory,
 * before a byte is written: a database failure leaves the output alone.
 * With --output the file is written beside its final name, synced and
 * renamed over it, so that the collector never reads half of one.
 *
 * Label values (domains, reporters, policy and result types) come from
 * the reports, so from anyone who can mail the report address: the
 * database drops control characters and cuts them to LABEL_CHARS before
 * grouping (so that two values never end up as one series twice), and
 * they are escaped here.  Each labelled metric keeps at most --max-series
 * series, the busiest; tlsrpt_metrics_truncated says when some were left
 * out.  No address or MX host name is ever a label.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "adm.h"
#include "log.h"
#include "utf8.h"

#define METRICS_DEFAULT_SERIES 10000
#define METRICS_MAX_SERIES 1000000

/*
 * The domains whose series are kept, "watched" in each query: every
 * domain, or, when tlsrpt.monitored_domain lists some, those and
 * (include_subdomains) the names below them.
 */
static const char sql_all_domains[] =
    "SELECT NULL::text AS domain WHERE false";
static const char sql_monitored_domains[] =
    "SELECT DISTINCT k.domain "
    "FROM (SELECT DISTINCT domain FROM tlsrpt.metrics_report) k "
    "CROSS JOIN LATERAL (SELECT string_to_array(k.domain, '.') AS l) s "
    "CROSS JOIN LATERAL generate_subscripts(s.l, 1) AS i "
    "JOIN tlsrpt.monitored_domain w "
    "ON lower(rtrim(w.domain, '.')) = array_to_string(s.l[i:], '.') "
    "AND (i = 1 OR w.include_subdomains)";

/*
 * Each key has at most one folded row (tlsrpt.metrics_fold()): the keys
 * with rows added since (k) are summed whole, the others read as they
 * are.  $1: the most rows, the busiest first (one more than are kept:
 * the sign of a cut).  $2: every domain is watched.
 */
static const char sql_sessions[] =
    ", k AS (SELECT DISTINCT domain, reporter, policy_type "
    "FROM tlsrpt.metrics_session WHERE NOT folded "
    "AND ($2 OR domain IN (SELECT domain FROM watched))), "
    "t AS (SELECT domain, reporter, policy_type, policies, successful, "
    "failed FROM tlsrpt.metrics_session m WHERE folded "
    "AND ($2 OR domain IN (SELECT domain FROM watched)) "
    "AND NOT EXISTS (SELECT FROM k WHERE k.domain = m.domain "
    "AND k.reporter = m.reporter AND k.policy_type = m.policy_type) "
    "UNION ALL SELECT domain, reporter, policy_type, sum(policies), "
    "sum(successful), sum(failed) FROM tlsrpt.metrics_session "
    "JOIN k USING (domain, reporter, policy_type) GROUP BY 1, 2, 3) "
    "SELECT domain, reporter, policy_type, successful, failed FROM t "
    "WHERE policies > 0 "
    "ORDER BY successful + failed DESC, 1, 2, 3 LIMIT $1";
static const char sql_failures[] =
    ", k AS (SELECT DISTINCT domain, result_type "
    "FROM tlsrpt.metrics_failure WHERE NOT folded "
    "AND ($2 OR domain IN (SELECT domain FROM watched))), "
    "t AS (SELECT domain, result_type, details, sessions "
    "FROM tlsrpt.metrics_failure m WHERE folded "
    "AND ($2 OR domain IN (SELECT domain FROM watched)) "
    "AND NOT EXISTS (SELECT FROM k WHERE k.domain = m.domain "
    "AND k.result_type = m.result_type) "
    "UNION ALL SELECT domain, result_type, sum(details), sum(sessions) "
    "FROM tlsrpt.metrics_failure JOIN k USING (domain, result_type) "
    "GROUP BY 1, 2) "
    "SELECT domain, result_type, sessions FROM t WHERE details > 0 "
    "ORDER BY 3 DESC, 1, 2 LIMIT $1";
static const char sql_reports[] =
    ", k AS (SELECT DISTINCT domain, reporter "
    "FROM tlsrpt.metrics_report WHERE NOT folded "
    "AND ($2 OR domain IN (SELECT domain FROM watched))), "
    "t AS (SELECT domain, reporter, reports, last_end "
    "FROM tlsrpt.metrics_report m WHERE folded "
    "AND ($2 OR domain IN (SELECT domain FROM watched)) "
    "AND NOT EXISTS (SELECT FROM k WHERE k.domain = m.domain "
    "AND k.reporter = m.reporter) "
    "UNION ALL SELECT domain, reporter, sum(reports), max(last_end) "
    "FROM tlsrpt.metrics_report JOIN k USING (domain, reporter) "
    "GROUP BY 1, 2) "
    "SELECT domain, reporter, reports, "
    "floor(extract(epoch FROM last_end)) FROM t WHERE reports > 0 "
    "ORDER BY 3 DESC, 1, 2 LIMIT $1";
static const char sql_totals[] =
    "SELECT (SELECT count(*) FROM tlsrpt.rejected_message), "
    "floor(extract(epoch FROM "
    "(SELECT max(received_at) FROM tlsrpt.report)))";
static const char sql_monitoring[] =
    "SELECT to_regclass('tlsrpt.monitored_domain') IS NOT NULL";
static const char sql_monitored_any[] =
    "SELECT EXISTS (SELECT FROM tlsrpt.monitored_domain)";

enum {
	Q_SESSIONS,
	Q_FAILURES,
	Q_REPORTS,
	Q_TOTALS,
	Q_N
};

struct metrics {
	long max_series;
	PGresult *res[Q_N];
	int kept[Q_N];		/* rows written of each */
	bool truncated;
};

static void
metrics_help(FILE *fp)
{
	(void)fprintf(fp, "usage: tlsrpt-adm metrics [--output FILE] "
	    "[--max-series N]\n"
	    "Print the stored reports as Prometheus metrics (text format).\n"
	    "\n"
	    "  -o, --output FILE     write FILE (replaced whole, mode 0644) "
	    "instead of\n"
	    "                        standard output\n"
	    "  -n, --max-series N    at most N series per metric, the "
	    "busiest (default %d)\n"
	    "  -h, --help            this text\n", METRICS_DEFAULT_SERIES);
}

/*
 * Run the query body after the watched domains, for at most rows rows
 * (and one more, if there are more).  Returns the result, or NULL with
 * err.
 */
static PGresult *
metrics_select(struct adm *adm, const char *body, const char *watched,
    long rows, struct ti_err *err)
{
	char sql[4096];
	char limit[24];
	const char *params[2];

	if (ti_snprintf(sql, sizeof(sql), "WITH watched AS (%s)%s", watched,
	    body) != 0 ||
	    ti_snprintf(limit, sizeof(limit), "%ld", rows + 1) != 0) {
		ti_err_set(err, TI_KIND_INTERNAL, "query text too long");
		return NULL;
	}
	params[0] = limit;
	params[1] = watched == sql_all_domains ? "true" : "false";
	return adm_query(adm, sql, 2, params, err);
}

/* One boolean answer into *yes_r: 0, or -1 with err. */
static int
metrics_ask(struct adm *adm, const char *sql, bool *yes_r,
    struct ti_err *err)
{
	PGresult *res = adm_query(adm, sql, 0, NULL, err);

	if (res == NULL)
		return -1;
	*yes_r = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

/*
 * Fold the running totals, where this role may and the server is not a
 * standby: a role that may not reads the same totals, more slowly.
 */
static void
metrics_fold(struct adm *adm)
{
	struct ti_err err;
	PGresult *res = adm_query(adm, "SELECT tlsrpt.metrics_fold()", 0,
	    NULL, &err);

	if (res == NULL) {
		log_debug("metrics: running totals not folded: %s", err.msg);
		return;
	}
	PQclear(res);
}

/* Everything, in one read-only snapshot: 0, or -1 with err. */
static int
metrics_read(struct adm *adm, struct metrics *m, struct ti_err *err)
{
	const char *watched = sql_all_domains;
	bool yes = false;
	int rc = -1;

	if (adm_connect(adm, err) == NULL)
		return -1;
	metrics_fold(adm);
	if (adm_exec(adm, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    err) != 0)
		return -1;
	/* The guesses for the domain names' parts would make it compile
	 * the queries, which takes longer than running them. */
	if (adm_exec(adm, "SET LOCAL jit = off", err) != 0)
		goto out;
	if (metrics_ask(adm, sql_monitoring, &yes, err) != 0)
		goto out;
	if (yes && metrics_ask(adm, sql_monitored_any, &yes, err) != 0)
		goto out;
	if (yes)
		watched = sql_monitored_domains;
	/* Two series (success, failure) a row. */
	m->res[Q_SESSIONS] = metrics_select(adm, sql_sessions, watched,
	    m->max_series / 2, err);
	if (m->res[Q_SESSIONS] == NULL)
		goto out;
	m->res[Q_FAILURES] = metrics_select(adm, sql_failures, watched,
	    m->max_series, err);
	if (m->res[Q_FAILURES] == NULL)
		goto out;
	m->res[Q_REPORTS] = metrics_select(adm, sql_reports, watched,
	    m->max_series, err);
	if (m->res[Q_REPORTS] == NULL)
		goto out;
	m->res[Q_TOTALS] = adm_query(adm, sql_totals, 0, NULL, err);
	if (m->res[Q_TOTALS] == NULL)
		goto out;
	rc = adm_exec(adm, "COMMIT", err);
out:
	if (rc != 0) {
		struct ti_err ignored;

		if (adm_exec(adm, "ROLLBACK", &ignored) != 0)
			log_debug("metrics: ROLLBACK: %s", ignored.msg);
	}
	return rc;
}

/*
 * Keep at most rows rows of query q's answer: say so on stderr, and in
 * the metrics, when there were more.
 */
static void
metrics_cut(struct metrics *m, int q, const char *name, long rows)
{
	if (PQntuples(m->res[q]) <= rows)
		return;
	m->kept[q] = (int)rows;
	m->truncated = true;
	log_warning("metrics: %s: more than %ld series, the busiest %ld "
	    "kept (--max-series)", name, m->max_series,
	    rows * (q == Q_SESSIONS ? 2 : 1));
}

/*
 * Write a label value: backslash, double quote and LF escaped as the
 * exposition format says; control characters and bytes of no valid
 * UTF-8 character dropped (the database has dropped them already).
 */
static void
metrics_label(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), len;
	uint32_t cp;

	while (n > 0) {
		len = utf8_char_len(p, n, &cp);
		if (len == 0) {
			len = 1;
		} else if (cp == '\\' || cp == '"') {
			(void)fputc('\\', fp);
			(void)fputc((int)cp, fp);
		} else if (cp == '\n') {
			(void)fputs("\\n", fp);
		} else if (!utf8_is_control(cp)) {
			(void)fwrite(p, 1, len, fp);
		}
		p += len;
		n -= len;
	}
}

/*
 * A sample's value as the database wrote it (an integer, perhaps with a
 * fraction or a sign), or "NaN" for anything else.
 */
static void
metrics_value(FILE *fp, const char *v)
{
	const char *s = v[0] == '-' ? v + 1 : v;
	size_t n = strspn(s, "0123456789.");

	(void)fputs(n > 0 && s[n] == '\0' && n < 64 ? v : "NaN", fp);
}

static void
metrics_head(FILE *fp, const char *name, const char *type, const char *help)
{
	(void)fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* name{k0="v0",k1="v1"...} value: n labels from res's row, columns 0.. */
static void
metrics_sample(FILE *fp, const char *name, const char *const *keys,
    int n, const PGresult *res, int row, const char *extra,
    const char *value)
{
	int i;

	(void)fprintf(fp, "%s{", name);
	for (i = 0; i < n; i++) {
		(void)fprintf(fp, "%s%s=\"", i > 0 ? "," : "", keys[i]);
		metrics_label(fp, PQgetvalue(res, row, i));
		(void)fputc('"', fp);
	}
	(void)fprintf(fp, "%s} ", extra);
	metrics_value(fp, value);
	(void)fputc('\n', fp);
}

static void
metrics_write(FILE *fp, const struct metrics *m, time_t now)
{
	static const char *const session_keys[] = { "domain", "reporter",
	    "policy_type" };
	static const char *const failure_keys[] = { "domain", "result_type" };
	static const char *const report_keys[] = { "domain", "reporter" };
	const PGresult *res = NULL;
	int i;

	res = m->res[Q_SESSIONS];
	metrics_head(fp, "tlsrpt_sessions_total", "counter",
	    "SMTP sessions the reports count, by policy domain, reporter, "
	    "policy type and result (sums of the policy summaries).");
	for (i = 0; i < m->kept[Q_SESSIONS]; i++) {
		metrics_sample(fp, "tlsrpt_sessions_total", session_keys, 3,
		    res, i, ",result=\"success\"", PQgetvalue(res, i, 3));
		metrics_sample(fp, "tlsrpt_sessions_total", session_keys, 3,
		    res, i, ",result=\"failure\"", PQgetvalue(res, i, 4));
	}
	res = m->res[Q_FAILURES];
	metrics_head(fp, "tlsrpt_failed_sessions_total", "counter",
	    "Failed SMTP sessions by policy domain and result type "
	    "(sums of the failure details).");
	for (i = 0; i < m->kept[Q_FAILURES]; i++)
		metrics_sample(fp, "tlsrpt_failed_sessions_total",
		    failure_keys, 2, res, i, "", PQgetvalue(res, i, 2));
	res = m->res[Q_REPORTS];
	metrics_head(fp, "tlsrpt_reports_total", "counter",
	    "Reports stored, by policy domain and reporter.");
	for (i = 0; i < m->kept[Q_REPORTS]; i++)
		metrics_sample(fp, "tlsrpt_reports_total", report_keys, 2,
		    res, i, "", PQgetvalue(res, i, 2));
	metrics_head(fp, "tlsrpt_last_report_timestamp_seconds", "gauge",
	    "End of the newest report's date range (at most its arrival), "
	    "by policy domain and reporter.");
	for (i = 0; i < m->kept[Q_REPORTS]; i++)
		metrics_sample(fp, "tlsrpt_last_report_timestamp_seconds",
		    report_keys, 2, res, i, "", PQgetvalue(res, i, 3));
	res = m->res[Q_TOTALS];
	metrics_head(fp, "tlsrpt_rejected_messages_total", "counter",
	    "Messages kept aside because no report could be stored "
	    "from them.");
	(void)fputs("tlsrpt_rejected_messages_total ", fp);
	metrics_value(fp, PQgetvalue(res, 0, 0));
	(void)fputc('\n', fp);
	metrics_head(fp, "tlsrpt_last_received_timestamp_seconds", "gauge",
	    "When the newest report was received.");
	if (!PQgetisnull(res, 0, 1)) {
		(void)fputs("tlsrpt_last_received_timestamp_seconds ", fp);
		metrics_value(fp, PQgetvalue(res, 0, 1));
		(void)fputc('\n', fp);
	}
	metrics_head(fp, "tlsrpt_metrics_truncated", "gauge",
	    "1 when a metric lost series to --max-series.");
	(void)fprintf(fp, "tlsrpt_metrics_truncated %d\n",
	    m->truncated ? 1 : 0);
	metrics_head(fp, "tlsrpt_metrics_generated_timestamp_seconds",
	    "gauge", "When these metrics were generated.");
	(void)fprintf(fp, "tlsrpt_metrics_generated_timestamp_seconds "
	    "%lld\n", (long long)now);
}

/* The rename of path, on disk: worth trying, not worth failing for. */
static void
metrics_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL;
	int fd = -1;

	if (slash == NULL)
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if ((dir = strndup(path, slash == path ? 1 :
	    (size_t)(slash - path))) != NULL)
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fsync(fd) != 0)
		log_debug("metrics: %s: directory not synced", path);
	if (fd != -1)
		(void)close(fd);
	free(dir);
}

/*
 * Write the metrics to path: a temporary file beside it (mode 0644),
 * synced, then renamed over it.  Returns 0, or an exit code with the
 * reason logged: EX_CANTCREAT when the file cannot be made, EX_IOERR
 * when it cannot be written; path is left as it was either way.
 */
static int
metrics_to_file(const char *path, const struct metrics *m, time_t now)
{
	char tmp[PATH_MAX];
	FILE *fp = NULL;
	int fd = -1, code = EX_IOERR;

	if (ti_snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) != 0) {
		log_err("metrics: %s: name too long", path);
		return EX_CANTCREAT;
	}
	fd = mkstemp(tmp);
	if (fd == -1) {
		log_err("metrics: cannot create %s: %s", tmp, strerror(errno));
		return EX_CANTCREAT;
	}
	if (fchmod(fd, 0644) != 0 || (fp = fdopen(fd, "w")) == NULL) {
		log_err("metrics: %s: %s", tmp, strerror(errno));
		code = EX_CANTCREAT;
		goto out;
	}
	fd = -1;
	metrics_write(fp, m, now);
	if (fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0) {
		log_err("metrics: cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fclose(fp) != 0) {
		fp = NULL;
		log_err("metrics: cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fp = NULL;
	if (rename(tmp, path) != 0) {
		log_err("metrics: cannot rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	code = EX_OK;
	metrics_sync_dir(path);
out:
	if (fp != NULL)
		(void)fclose(fp);
	if (fd != -1)
		(void)close(fd);
	if (tmp[0] != '\0')
		(void)unlink(tmp);
	return code;
}

static int
metrics_to_stdout(const struct metrics *m, time_t now)
{
	metrics_write(stdout, m, now);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_err("metrics: cannot write to standard output: %s",
		    strerror(errno));
		return EX_IOERR;
	}
	return EX_OK;
}

int
adm_metrics(struct adm *adm, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "max-series", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct metrics m;
	struct ti_err err;
	const char *output = NULL;
	char *end = NULL;
	int c, i, code;

	memset(&m, 0, sizeof(m));
	m.max_series = METRICS_DEFAULT_SERIES;
	while ((c = getopt_long(argc, argv, "o:n:h", longs, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'n':
			errno = 0;
			m.max_series = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    m.max_series < 2 ||
			    m.max_series > METRICS_MAX_SERIES)
				return adm_usage("metrics", "--max-series: "
				    "a number from 2 to 1000000");
			break;
		case 'h':
			metrics_help(stdout);
			return EX_OK;
		default:
			return adm_usage("metrics", "unknown option");
		}
	}
	if (optind < argc)
		return adm_usage("metrics", "no arguments expected");
	if (output != NULL && output[0] == '\0')
		return adm_usage("metrics", "--output: a file name");
	if (metrics_read(adm, &m, &err) != 0) {
		/* Whatever the database said: try again later. */
		log_err("metrics: %s", err.msg);
		code = EX_TEMPFAIL;
		goto out;
	}
	for (i = 0; i < Q_N; i++)
		m.kept[i] = PQntuples(m.res[i]);
	metrics_cut(&m, Q_SESSIONS, "tlsrpt_sessions_total",
	    m.max_series / 2);
	metrics_cut(&m, Q_FAILURES, "tlsrpt_failed_sessions_total",
	    m.max_series);
	metrics_cut(&m, Q_REPORTS, "tlsrpt_reports_total", m.max_series);
	code = output != NULL ? metrics_to_file(output, &m, time(NULL)) :
	    metrics_to_stdout(&m, time(NULL));
out:
	for (i = 0; i < Q_N; i++)
		PQclear(m.res[i]);
	return code;
}
