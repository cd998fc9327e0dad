/*
 * import.c - batch mode: every message of an mbox, read-only, stored in
 * batches on one connection.  The file is only read; what becomes of
 * each message is in the run's counters, lines and exit code.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "batch.h"
#include "import.h"
#include "log.h"
#include "mbox.h"

/* Open the mbox and count its messages; NULL after logging why not. */
static struct mbox *
import_open(struct run *run, const char *path)
{
	struct mbox *mb = NULL;
	struct ti_err err;
	char label[LOG_SANITIZED_BYTES];
	size_t total = 0;

	mb = mbox_open(path, &err);
	if (mb == NULL || mbox_count(mb, &total, &err) != 0) {
		ti_err_prefix(&err, "%s", log_sanitize(path, label,
		    sizeof(label)));
		run_fail(run, &err);
		mbox_close(&mb);
		return NULL;
	}
	run_set_total(run, total);
	return mb;
}

/*
 * A file that cannot be read to its end, or changes meanwhile, stops the
 * import before the message being read: the batch open then is dropped,
 * those committed before stay.
 */
void
import_mbox(struct run *run, const char *path)
{
	struct mbox *mb = NULL;
	struct batch *batch = NULL;
	struct buf *msg = NULL;
	struct ti_err err;
	char label[LOG_SANITIZED_BYTES];
	char where[32];
	enum run_result res;
	bool truncated;
	size_t k = 0;
	int rc = -1;

	if ((mb = import_open(run, path)) == NULL)
		return;
	if (!run_settings(run)->dry_run &&
	    (batch = batch_new(run, NULL, NULL, &err)) == NULL) {
		run_fail(run, &err);
		mbox_close(&mb);
		return;
	}
	for (;;) {
		run_arm(run);
		rc = mbox_next(mb, run_config(run)->lim.message_bytes, &msg,
		    &truncated, &err);
		if (rc < 0) {
			log_set_source(NULL);
			ti_err_prefix(&err, "%s: message %zu",
			    log_sanitize(path, label, sizeof(label)), k + 1);
			run_fail(run, &err);
			break;
		}
		if (rc == 0)
			break;
		k++;
		(void)snprintf(where, sizeof(where), "message %zu", k);
		log_set_source(where);
		res = batch == NULL ? run_message(run, &msg, truncated, NULL) :
		    batch_message(batch, &msg, truncated, NULL);
		if (res == RUN_RETRY)
			break;
		run_progress(run);
	}
	log_set_source(NULL);
	if (rc == 0 && batch != NULL)
		(void)batch_commit(batch);
	run_disarm(run);
	(void)snprintf(label, sizeof(label), "mbox %s", path);
	run_summary(run, label);
	batch_free(&batch);
	mbox_close(&mb);
}
