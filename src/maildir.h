/*
 * maildir.h - batch mode: sweep a Maildir.
 */
#ifndef TI_MAILDIR_H
#define TI_MAILDIR_H

#include <stdbool.h>

#include "run.h"

/*
 * Process every message in dir/new and dir/cur.  A handled message
 * (stored, duplicate) is then moved to the Maildir++ folder done_folder
 * (".Processed" when NULL), or unlinked when delete_done; a rejected one
 * to ".Rejected".  Files move only after their rows are committed.  The
 * first temporary failure stops the sweep, leaving that message and the
 * rest in place.  An exclusive flock(2) on dir keeps overlapping sweeps
 * apart: a second one finds the lock taken and does nothing.
 * The outcome is in run's counters and exit code.
 */
void maildir_sweep(struct run *run, const char *dir, const char *done_folder,
    bool delete_done);

#endif
