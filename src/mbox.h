/*
 * mbox.h - read the messages of an mbox file (mboxrd, mboxo), read-only
 * and a chunk at a time; a file that changes while it is read is an
 * error, never a message cut short.
 */
#ifndef TI_MBOX_H
#define TI_MBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

struct mbox;

/* Open path, read-only, at its first message.  Returns owned, or NULL
 * with IO (or TEMP). */
struct mbox *mbox_open(const char *path, struct ti_err *err);

/*
 * The same for borrowed memory (valid while the mbox is used), read
 * chunk bytes at a time (0: as a file is), so that tests can have lines
 * cut anywhere between two reads.
 */
struct mbox *mbox_open_mem(const struct ti_bytes *mem, size_t chunk,
    struct ti_err *err);

/* NULL-safe; closes the file, sets *mbp to NULL. */
void mbox_close(struct mbox **mbp);

/*
 * The number of messages (lines that begin "From "), in a reading of the
 * whole file of its own.  Returns 0 with *n_r, or -1 with IO (the file
 * could not be read, or changed) or TEMP.
 */
int mbox_count(struct mbox *mb, size_t *n_r, struct ti_err *err)
    TI_MUST_CHECK;

/*
 * The next message without its From_ line, with ">From " lines unescaped
 * (one '>' removed, as mboxrd writes them) and the blank line that ends
 * it removed.  A message over max bytes is cut there and *truncated_r
 * set.  Returns 1 and *msg_r (owned), 0 at the end, or -1 with TEMP, or
 * with IO when the file could not be read or changed while it was read
 * (the message being read is then not returned, and the mbox is of no
 * further use).
 */
int mbox_next(struct mbox *mb, size_t max, struct buf **msg_r,
    bool *truncated_r, struct ti_err *err) TI_MUST_CHECK;

#endif
