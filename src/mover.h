/*
 * mover.h - a Maildir sweep's file moves: a message whose outcome is
 * committed goes to the done folder (or is deleted) or to .Rejected.
 * A move that never happens (a crash) leaves the message where it was,
 * to be read again as a duplicate.
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

/*
 * Move message name of sub (0: new/, 1: cur/) into the done folder
 * (handled; deleted without one) or .Rejected (not handled); from new/
 * the name gains ":2,".  Returns 0, or -1 after logging one line (a
 * name no directory lists is refused).
 */
int mover_move(const struct mover_dirs *dirs, int sub, const char *name,
    bool handled) TI_MUST_CHECK;

#endif
