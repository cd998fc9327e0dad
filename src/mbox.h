/*
 * mbox.h - read the messages of an mbox file (mboxrd, mboxo), read-only.
 */
#ifndef TI_MBOX_H
#define TI_MBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

struct mbox;

/* Map path read-only.  Returns owned, or NULL with IO. */
struct mbox *mbox_open(const char *path, struct ti_err *err);

/* Read from borrowed memory (valid while the mbox is used). */
struct mbox *mbox_open_mem(const struct ti_bytes *mem, struct ti_err *err);

/* NULL-safe; unmaps, sets *mbp to NULL. */
void mbox_close(struct mbox **mbp);

/* The number of messages (a scan for From_ lines). */
size_t mbox_count(const struct mbox *mb);

/*
 * The next message without its From_ line, with ">From " lines unescaped
 * (one '>' removed, as mboxrd writes them) and the blank line that ends
 * it removed.  A message over max bytes is cut there and *truncated_r
 * set.  Returns 1 and *msg_r (owned), 0 at the end, -1 with TEMP.
 */
int mbox_next(struct mbox *mb, size_t max, struct buf **msg_r,
    bool *truncated_r, struct ti_err *err) TI_MUST_CHECK;

#endif
