/*
 * mimescan.h - stage 2, before GMime: a bounded single pass over the raw
 * message that refuses the shapes which would make GMime build a tree far
 * larger than the message (countless parts, header fields or nested
 * messages).  No GMime here: what it counts is an upper bound of what
 * GMime would turn into objects.
 */
#ifndef TI_MIMESCAN_H
#define TI_MIMESCAN_H

#include <stddef.h>

#include "buf.h"
#include "status.h"
#include "ti_limits.h"

/* Lines that may be boundaries, per MIME part allowed (lim->mime_parts). */
#define MIMESCAN_BOUNDARIES_PER_PART 8
/*
 * Header fields and bytes of one header block, continuation lines
 * included: twice what mime.c reads of the top block (1000 fields, 1 MiB),
 * as GMime still gets the fields past those.
 */
#define MIMESCAN_BLOCK_FIELDS 2000
#define MIMESCAN_BLOCK_BYTES (2 * 1024 * 1024)
/* Header fields of all blocks but one, per MIME part allowed. */
#define MIMESCAN_FIELDS_PER_PART 32

/* What the scan saw (upper bounds, not what GMime will make of it). */
struct mimescan_counts {
	size_t boundaries;	/* lines starting with "--" */
	size_t blocks;		/* header blocks, the top one included */
	size_t fields;		/* header fields, all blocks */
	size_t block_fields;	/* header fields of the largest block */
	size_t block_bytes;	/* bytes of the largest block */
	size_t depth;		/* longest run of nested message headers */
};

/*
 * Scan msg (borrowed) against bounds derived from lim: at most
 * MIMESCAN_BOUNDARIES_PER_PART * lim->mime_parts lines starting with "--",
 * MIMESCAN_BLOCK_FIELDS fields and MIMESCAN_BLOCK_BYTES bytes in any
 * header block, MIMESCAN_BLOCK_FIELDS + MIMESCAN_FIELDS_PER_PART *
 * lim->mime_parts fields in all, and lim->mime_depth message/ parts
 * nested one right inside the other.  Time is linear in msg->len; no
 * memory is allocated.  Returns 0, or -1 with DATA and one line naming
 * the bound ("more than 512 MIME boundary lines").  counts_r, if not
 * NULL, gets what was seen up to the end or to the bound passed.
 */
int mimescan_check(const struct ti_bytes *msg, const struct ti_limits *lim,
    struct mimescan_counts *counts_r, struct ti_err *err) TI_MUST_CHECK;

#endif
