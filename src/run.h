/*
 * run.h - one invocation's state shared by every mode: the settings, the
 * database connection (opened once, on first need), the counters, the
 * progress line and the exit code; and the per-message path.  Batches
 * are batch.h.
 */
#ifndef TI_RUN_H
#define TI_RUN_H

#include <stdbool.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "job.h"
#include "log.h"

struct run;

/* How the run was asked to behave; fixed when it starts. */
struct run_settings {
	bool dry_run;
	bool print_json;
	bool under_mta;		/* a mail system runs us: only 0 and 75 */
	bool progress;		/* draw a progress line on stderr */
};

/* What became of one message, for the caller that moves files. */
enum run_result {
	RUN_HANDLED,		/* stored, duplicate, valid (dry run) */
	RUN_REJECTED,		/* kept in rejected_message, or invalid */
	RUN_RETRY,		/* not handled: stop, try again later */
};

/*
 * What became of one message, with what its log line says of it
 * (outcome JOB_NONE: not handled, why says what failed).  The strings
 * are sanitized for a log line: no control characters.
 */
struct run_outcome {
	enum job_outcome outcome;
	size_t policies;
	char org[LOG_SANITIZED_BYTES];
	char rid[LOG_SANITIZED_BYTES];
	char why[LOG_SANITIZED_BYTES];
};

/*
 * Start a run: the clock starts now.  cfg is borrowed, valid until
 * run_free().  Returns owned, or NULL with TEMP.
 */
struct run *run_new(const struct config *cfg, const struct run_settings *set,
    struct ti_err *err);

/* Close the database; NULL-safe, sets *runp to NULL. */
void run_free(struct run **runp);

/* The settings and the configuration; borrowed, valid until run_free. */
const struct config *run_config(const struct run *run);
const struct run_settings *run_settings(const struct run *run);

/* The time limit for the next message (alarm(2)); none. */
void run_arm(const struct run *run);
void run_disarm(const struct run *run);

/*
 * Connect now, unless connected or dry: so that the server starts its
 * backend while a message is read, or a server shows a database problem
 * at once.  wait: see db_open.  A failure (in err) is met again when a
 * message is stored.
 */
int run_db_connect(struct run *run, bool wait, struct ti_err *err);

/* The connection, opened on first need: borrowed, or NULL with err. */
struct db *run_db(struct run *run, struct ti_err *err);

/* Close the connection: one that failed is not trusted again. */
void run_db_close(struct run *run);

/* Between a server's messages: a connection found closed while idle is
 * closed here (and logged), to be opened again with the next message. */
void run_db_check_idle(struct run *run);

/*
 * One message (takes ownership of *input).  truncated: it was larger than
 * the size limit.  Logs its one line, updates counters and exit code.
 * out (or NULL) receives what became of it.
 */
enum run_result run_message(struct run *run, struct buf **input,
    bool truncated, struct run_outcome *out);

/*
 * The same for a report that came by HTTPS (origin: see job_origin,
 * borrowed for the call): a body that may not be kept aside and is no
 * usable report comes out JOB_INVALID, nothing written.
 */
enum run_result run_report_body(struct run *run, struct buf **input,
    bool truncated, const struct job_origin *origin,
    struct run_outcome *out);

/*
 * Log and count one message's outcome (org, rid and why raw, may be
 * NULL; sanitized here when the line is written).  ms: its time.
 */
enum run_result run_count(struct run *run, enum job_outcome outcome,
    const char *org, const char *rid, const char *why, size_t policies,
    long ms);

/* Log and count what a server reported for a message handed to it (ms:
 * since it was read). */
enum run_result run_handed_off(struct run *run, const struct run_outcome *o,
    long ms);

/* --json: print the job's normalized report on standard output. */
void run_print_report(struct run *run, const struct job *job);

/* Record a failure that is not one message's outcome (err's kind sets
 * the exit code). */
void run_fail(struct run *run, const struct ti_err *err);

/* The same for a message left for a later try, which is counted. */
void run_fail_message(struct run *run, const struct ti_err *err);

/* How many messages the run expects (for progress and the summary);
 * one fewer, when one went away before it was read. */
void run_set_total(struct run *run, unsigned long n);
void run_total_drop(struct run *run);

/* Make code the exit code if it is more urgent (ti_exit_worse). */
void run_exit(struct run *run, int code);
int run_exit_code(const struct run *run);

/* Back to 0: a server's exit code is about the server, not the last
 * message. */
void run_exit_reset(struct run *run);

/* Redraw the progress line (at most once a second) and erase it. */
void run_progress(struct run *run);
void run_progress_clear(struct run *run);

/* The closing summary line, at info level: what is a label ("maildir
 * /x"). */
void run_summary(struct run *run, const char *what);

/* Milliseconds since t0 (CLOCK_MONOTONIC). */
long run_ms_since(const struct timespec *t0);

#endif
