/*
 * mime_head.h - stage 2, the top-level header block (mime_head.c), for
 * mime.c.
 */
#ifndef TI_MIME_HEAD_H
#define TI_MIME_HEAD_H

#include <stdbool.h>

#include <glib.h>

#include "buf.h"
#include "mime.h"
#include "status.h"

/*
 * Read the top-level header block into info, and put in gmime (emptied
 * first) only what GMime needs to build the body: the Content-* fields
 * and the lines that are no field, in their order, then everything from
 * the end of the block on.  (MIME-Version changes nothing in how GMime
 * reads a part.)  Where the reader stops at a limit, GMime gets the rest
 * of the block as written.
 */
int mime_head_read(const struct ti_bytes *msg, struct mime_info *info,
    GByteArray *gmime, struct ti_err *err) TI_MUST_CHECK;

/*
 * *dst = a cleaned, trimmed, one-line copy of src, cut to
 * MIME_VALUE_BYTES, or NULL when src is NULL (or empty after trimming,
 * if empty_is_null).  Returns 0, or -1 with TEMP.
 */
int mime_value_dup(char **dst, const char *src, bool empty_is_null,
    struct ti_err *err) TI_MUST_CHECK;

#endif
