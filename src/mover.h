/*
 * mover.h - a Maildir sweep's file moves, done by a child process while
 * the sweep parses and stores the next messages.
 *
 * Moving a message is directory work in the kernel (a lookup in new/ or
 * cur/, an insert into the folder's cur/) that costs about a fifth of
 * the sweep's own time; a second process does it on the other core.
 * Every name given is one whose outcome is committed: a move that never
 * happens (the child killed, say) leaves the message where it was, to be
 * read again as a duplicate.
 */
#ifndef TI_MOVER_H
#define TI_MOVER_H

#include <stdbool.h>

#include "status.h"

/* Where messages come from and go; descriptors borrowed. */
struct mover_dirs {
	int sub[2];		/* new/ and cur/ */
	int done_fd;		/* the done folder's cur/, or -1 to delete */
	int rej_fd;		/* .Rejected/cur */
};

struct mover;

/*
 * Returns owned.  The descriptors must stay open until mover_free().
 * When no child can be started, the moves are done in this process
 * (the same code, only later by nothing).
 */
struct mover *mover_new(const struct mover_dirs *dirs, struct ti_err *err);

/*
 * Move message name of sub (0: new/, 1: cur/) into the done folder
 * (handled; deleted without one) or .Rejected (not handled).  Failures
 * are logged, one line each, and counted.
 */
void mover_move(struct mover *m, int sub, const char *name, bool handled);

/*
 * Wait for every move asked for; NULL-safe, sets *mp to NULL.  Returns
 * 0, or -1 when a move failed or the child ended badly (logged).
 */
int mover_free(struct mover **mp) TI_MUST_CHECK;

#endif
