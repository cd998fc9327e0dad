/*
 * batch.h - many messages stored in batches on one connection: a batch
 * commits every so many messages, bytes or seconds, and only then is
 * what became of each message logged and handed to the caller (which
 * moves its file then, never before its rows are durable).
 */
#ifndef TI_BATCH_H
#define TI_BATCH_H

#include <stdbool.h>

#include "buf.h"
#include "run.h"
#include "status.h"

struct batch;

/* Called for each message of a committed batch, in order: data is what
 * the caller passed to batch_message. */
typedef void batch_done_fn(void *arg, void *data, enum run_result res);

/* Returns owned, or NULL with TEMP.  run is borrowed, valid until
 * batch_free; done (or NULL) is called with arg. */
struct batch *batch_new(struct run *run, batch_done_fn *done, void *arg,
    struct ti_err *err);

/*
 * One message (takes ownership of *input): parsed now and queued in the
 * open batch, which may commit.  Returns RUN_RETRY when the run must
 * stop: then nothing of the open batch was committed, done is never
 * called for its messages, and the failure is logged and in the run's
 * exit code.
 */
enum run_result batch_message(struct batch *b, struct buf **input,
    bool truncated, void *data);

/* Commit the open batch; every message of it is through done on return.
 * -1 when it failed (logged; the run must stop). */
int batch_commit(struct batch *b);

/* Drop what is not committed; NULL-safe, sets *bp to NULL. */
void batch_free(struct batch **bp);

#endif
