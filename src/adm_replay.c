/*
 * adm_replay.c - tlsrpt-adm replay: run kept-aside messages through the
 * ingester again.
 *
 * After an upgrade that learned a new sender quirk, or once a domain is
 * monitored, a message kept in tlsrpt.rejected_message may now ingest.
 * Each one is read back, handed to the same pipeline as a delivery
 * (run_message: one transaction through the one writer), and then:
 *   stored or a duplicate	its rejected_message row is deleted;
 *   rejected again		its reason is brought up to date;
 *   a temporary failure	the replay stops, exit 75.
 * The report is committed before the row is deleted, so an interrupted
 * replay loses nothing, and running it again finds the report stored (a
 * duplicate) and deletes the row then: nothing is doubled.  A message
 * kept truncated (larger than the size limit) cannot be replayed and is
 * left alone.  One replay runs at a time (an advisory lock).
 */
#include "autoconf.h"

#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "adm.h"
#include "inflate.h"
#include "log.h"
#include "mime.h"
#include "run.h"

/* pg_advisory_lock(8460, 2): one replay at a time. */
#define REPLAY_LOCK "SELECT pg_try_advisory_lock(8460, 2)"

static const char replay_usage_text[] =
    "usage: tlsrpt-adm replay [--since WHEN] [--reason PATTERN] [--dry-run]\n"
    "Run kept-aside messages through the ingester again: those that now\n"
    "ingest leave rejected_message, the others get their new reason.\n"
    "\n"
    "  --since WHEN      kept since WHEN: a date or time (2026-12-01,\n"
    "                    2026-12-01T06:00:00Z) or an age (7d, 12h)\n"
    "  --reason PATTERN  whose reason matches PATTERN (a POSIX regular\n"
    "                    expression, case-insensitive)\n"
    "  -n, --dry-run     say what would become of each; change nothing\n"
    "  -h, --help        this text\n";

struct replay_counts {
	unsigned long stored, duplicate, rejected, truncated;
};

static void
replay_on_alarm(int sig)
{
	static const char msg[] =
	    "tlsrpt-adm: error: time limit reached; try again later\n";

	(void)sig;
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(EX_TEMPFAIL);
}

/*
 * --since as a timestamptz expression's text: an age "7d" or "12h"
 * becomes "7 days" or "12 hours" (taken from now()); anything else goes
 * to the server as a date or time, which refuses what does not parse.
 * Returns 0, or -1 when an age is malformed.
 */
static int
replay_since(const char *arg, char *age, size_t size, bool *is_age)
{
	size_t n = strspn(arg, "0123456789");
	const char *unit = NULL;

	*is_age = false;
	if (n == 0 || arg[n + 1] != '\0' || strchr("dh", arg[n]) == NULL)
		return 0;
	if (n > 6)
		return -1;
	unit = arg[n] == 'd' ? "days" : "hours";
	*is_age = true;
	return ti_snprintf(age, size, "%.*s %s", (int)n, arg, unit);
}

/* The ids to replay, oldest first. */
static PGresult *
replay_ids(struct adm *adm, const char *since, const char *reason,
    struct ti_err *err)
{
	const char *params[3] = { NULL, NULL, NULL };
	char age[32];
	bool is_age = false;

	if (since != NULL && replay_since(since, age, sizeof(age),
	    &is_age) != 0) {
		ti_err_set(err, TI_KIND_USAGE, "--since %s: an age is at most "
		    "6 digits and d or h", since);
		return NULL;
	}
	params[0] = is_age ? age : NULL;
	params[1] = is_age ? NULL : since;
	params[2] = reason;
	return adm_query(adm,
	    "SELECT id, raw_truncated FROM tlsrpt.rejected_message"
	    " WHERE ($1::interval IS NULL OR received_at >= now() - $1)"
	    "   AND ($2::timestamptz IS NULL OR received_at >= $2)"
	    "   AND ($3::text IS NULL OR reason ~* $3)"
	    " ORDER BY id", 3, params, err);
}

/* Read row id's bytes into a buffer for the pipeline; NULL when the row
 * has gone meanwhile (err clear) or on error. */
static struct buf *
replay_read(struct adm *adm, const char *id, struct ti_err *err)
{
	const char *params[1] = { id };
	PGresult *res = NULL;
	struct buf *input = NULL;
	unsigned char *raw = NULL;
	size_t n = 0;

	ti_err_clear(err);
	res = adm_query(adm, "SELECT raw FROM tlsrpt.rejected_message "
	    "WHERE id = $1", 1, params, err);
	if (res == NULL || PQntuples(res) == 0)
		goto done;
	raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0),
	    &n);
	if (raw == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		goto done;
	}
	if ((input = buf_new(n + 1, err)) != NULL &&
	    buf_append(input, raw, n, err) != 0)
		buf_free(&input);
done:
	PQfreemem(raw);
	PQclear(res);
	return input;
}

/* Settle row id after its message went through: deleted once stored,
 * its reason renewed once rejected again. */
static int
replay_settle(struct adm *adm, const char *id, const struct run_outcome *o,
    struct ti_err *err)
{
	const char *params[2] = { id, o->why };
	PGresult *res = NULL;

	if (o->outcome == JOB_STORED || o->outcome == JOB_DUPLICATE)
		res = adm_query(adm, "DELETE FROM tlsrpt.rejected_message "
		    "WHERE id = $1", 1, params, err);
	else
		res = adm_query(adm, "UPDATE tlsrpt.rejected_message "
		    "SET reason = $2 WHERE id = $1 AND reason <> $2", 2,
		    params, err);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* One row: read, ingest, settle, count.  Returns 0, or -1 with err. */
static int
replay_one(struct adm *adm, struct run *run, const char *id, bool dry,
    struct replay_counts *n, struct ti_err *err)
{
	struct run_outcome o;
	struct buf *input = NULL;
	char label[48];

	if ((input = replay_read(adm, id, err)) == NULL)
		return err->kind == TI_KIND_NONE ? 0 : -1;
	(void)snprintf(label, sizeof(label), "rejected_message %s", id);
	log_set_source(label);
	run_arm(run);
	(void)run_message(run, &input, false, &o);
	run_disarm(run);
	log_set_source(NULL);
	switch (o.outcome) {
	case JOB_STORED:
	case JOB_VALID:
		n->stored++;
		break;
	case JOB_DUPLICATE:
		n->duplicate++;
		break;
	case JOB_REJECTED:
	case JOB_INVALID:
		n->rejected++;
		break;
	case JOB_NONE:
		return ti_err_set(err, TI_KIND_TEMP, "%s: %s", label, o.why);
	}
	return dry ? 0 : replay_settle(adm, id, &o, err);
}

/* Every row the filters select; the exit code. */
static int
replay_all(struct adm *adm, PGresult *ids, bool dry,
    struct replay_counts *n)
{
	struct run_settings set;
	struct run *run = NULL;
	struct ti_err err;
	int i, code = EX_OK;

	memset(&set, 0, sizeof(set));
	set.dry_run = dry;
	if ((run = run_new(adm->cfg, &set, &err)) == NULL)
		return adm_fail(&err);
	mime_init();
	(void)signal(SIGALRM, replay_on_alarm);
	for (i = 0; i < PQntuples(ids); i++) {
		if (strcmp(PQgetvalue(ids, i, 1), "t") == 0) {
			n->truncated++;
			continue;
		}
		if (replay_one(adm, run, PQgetvalue(ids, i, 0), dry, n,
		    &err) != 0) {
			code = adm_fail(&err);
			break;
		}
	}
	mime_shutdown();
	inflate_shutdown();
	run_free(&run);
	return code;
}

int
adm_replay(struct adm *adm, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "since", required_argument, NULL, 's' },
		{ "reason", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct replay_counts n = { 0, 0, 0, 0 };
	const char *since = NULL, *reason = NULL;
	PGresult *res = NULL;
	struct ti_err err;
	bool dry = false;
	int c, code;

	while ((c = getopt_long(argc, argv, "nh", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			since = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'n':
			dry = true;
			break;
		case 'h':
			(void)fputs(replay_usage_text, stdout);
			return EX_OK;
		default:
			return adm_usage(argv[0], "unknown option");
		}
	}
	if (optind < argc)
		return adm_usage(argv[0], "no arguments besides the options");
	if ((res = adm_query(adm, REPLAY_LOCK, 0, NULL, &err)) == NULL)
		return adm_fail(&err);
	code = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? EX_OK : EX_TEMPFAIL;
	PQclear(res);
	if (code != EX_OK) {
		log_err("another replay is running; try again later");
		return code;
	}
	if ((res = replay_ids(adm, since, reason, &err)) == NULL)
		return err.kind == TI_KIND_USAGE ?
		    adm_usage(argv[0], err.msg) : adm_fail(&err);
	code = replay_all(adm, res, dry, &n);
	PQclear(res);
	if (dry)
		(void)printf("dry run: %lu would ingest, %lu still rejected, "
		    "%lu truncated (left alone)\n", n.stored, n.rejected,
		    n.truncated);
	else
		(void)printf("%lu stored, %lu duplicate, %lu still rejected, "
		    "%lu truncated (left alone)\n", n.stored, n.duplicate,
		    n.rejected, n.truncated);
	return code;
}
