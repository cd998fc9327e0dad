/*
 * input.h - stage 1: read one message, capped, from a descriptor or a
 * named file.
 */
#ifndef TI_INPUT_H
#define TI_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

/*
 * Read fd to its end into a new buffer (owned, *out_r) of at most max
 * bytes.  When the input is longer, the first max bytes are kept, the
 * rest is read and discarded (so a pipe writer is never cut off), and
 * *truncated_r is set: the caller decides what that means.  Read errors
 * are TEMP (stdin of a mail system) unless io_kind says otherwise.  With
 * regular_only anything but a regular file (a FIFO, a device) is refused
 * ("not a regular file", io_kind) without a read.
 */
int input_read_fd(int fd, size_t max, enum ti_kind io_kind,
    bool regular_only, struct buf **out_r, bool *truncated_r,
    struct ti_err *err) TI_MUST_CHECK;

/*
 * Same for a named file; it must be a regular file.  Open and read
 * errors are IO ("cannot open FILE: reason").
 */
int input_read_file(const char *path, size_t max, struct buf **out_r,
    bool *truncated_r, struct ti_err *err) TI_MUST_CHECK;

#endif
