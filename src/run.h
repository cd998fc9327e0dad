/*
 * run.h - one invocation's state shared by every mode: the settings, the
 * database connection (opened once, on first need), the counters, the
 * progress line and the exit code.
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

struct run_item;

struct run;

/* What became of one message, for the caller that moves files. */
enum run_result {
	RUN_HANDLED,		/* stored, duplicate, valid (dry run) */
	RUN_REJECTED,		/* kept in rejected_message, or invalid */
	RUN_RETRY,		/* not handled: stop, try again later */
};

/*
 * What became of one message, as a server tells the client that handed
 * it over (outcome JOB_NONE: not handled, why says what failed).  The
 * strings are sanitized for a log line.
 */
struct run_answer {
	enum job_outcome outcome;
	size_t policies;
	char org[LOG_SANITIZED_BYTES];
	char rid[LOG_SANITIZED_BYTES];
	char why[LOG_SANITIZED_BYTES];
};

/* Called for each message of a committed batch, in order: data is what
 * the mode passed to run_batch_message. */
typedef void run_done_fn(struct run *run, void *data, enum run_result res);

struct run {
	struct config cfg;
	bool dry_run;
	bool print_json;
	bool under_mta;		/* a mail system runs us: only 0 and 75 */
	bool progress;		/* draw a progress line on stderr */
	struct db *db;
	struct timespec t0;
	unsigned long n_stored, n_duplicate, n_rejected, n_valid, n_invalid;
	unsigned long n_failed;	/* left for a later try */
	unsigned long n_done, n_total;
	time_t armed_at;	/* second the time limit was armed, or 0 */
	time_t progress_drawn;	/* when the progress line was last drawn */
	bool progress_shown;	/* it is on the screen */
	int exit_code;
	/* The current batch: messages sent, not yet committed. */
	struct run_item *items;
	size_t n_items, cap_items;
	size_t batch_bytes;
	struct timespec batch_t0;
	/* Committed messages whose line and done() are still to come
	 * (run_batch_commit_later). */
	struct run_item *fin;
	size_t n_fin, fin_next, cap_fin;
	run_done_fn *fin_done;
};


/* Start the clock; settings must be in run->cfg. */
void run_begin(struct run *run);

/* The time limit for the next message of a batch; none (at the end). */
void run_arm(struct run *run);
void run_disarm(struct run *run);

/* Start connecting before a message is read (pipe mode). */
void run_db_start(struct run *run);

/*
 * One message (takes ownership of *input).  truncated: it was larger than
 * the size limit.  Logs its one line, updates counters and exit code.
 */
enum run_result run_message(struct run *run, struct buf **input,
    bool truncated);

/* The same, and what became of it in *ans (a server's answer). */
enum run_result run_message_answer(struct run *run, struct buf **input,
    bool truncated, struct run_answer *ans);

/* Log and count what a server answered for a message handed to it (ms:
 * since it was read). */
enum run_result run_answered(struct run *run, const struct run_answer *ans,
    long ms);

/*
 * One message in batch mode (takes ownership of *input): parsed now,
 * stored in the open batch, which is committed every so many messages or
 * bytes or the second, and by run_batch_commit.  done is called for each
 * message once its batch is committed (so a file is moved only then).
 * Returns RUN_RETRY when the run must stop: then nothing of the open batch
 * was committed, and done is never called for its messages.
 */
enum run_result run_batch_message(struct run *run, struct buf **input,
    bool truncated, void *data, run_done_fn *done);

/* Commit the open batch; -1 when it failed (the run must stop).  Every
 * message of it, and of any earlier batch, is through done on return. */
int run_batch_commit(struct run *run, run_done_fn *done);

/*
 * Commit the open batch, but leave its messages' lines and done() calls
 * to the next messages of the run: each run_batch_message finishes a few,
 * so that moving files overlaps the server storing the next ones.  The
 * data of these messages must stay valid until the next commit, which
 * finishes them all first (as do a failure and run_end).
 */
int run_batch_commit_later(struct run *run, run_done_fn *done);

/* Finish every message committed so far (no commit). */
void run_batch_finish(struct run *run);

/* Record a failure that is not one message's outcome (err's kind sets
 * the exit code). */
void run_fail(struct run *run, const struct ti_err *err);

/* Make code the exit code if it is worse than the current one. */
void run_exit(struct run *run, int code);

/* Redraw the progress line (at most once a second) and erase it. */
void run_progress(struct run *run);
void run_progress_clear(struct run *run);

/* The closing summary line, at info level: what is a label ("maildir
 * /x"). */
void run_summary(struct run *run, const char *what);

/* Milliseconds since run_begin, and since t0 (CLOCK_MONOTONIC). */
long run_elapsed_ms(const struct run *run);
long run_ms_since(const struct timespec *t0);

/* Close the database, release settings. */
void run_end(struct run *run);

#endif
