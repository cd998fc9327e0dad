/*
 * inflate.h - stage 3: turn a report part's bytes (gzip, possibly
 * multi-member; a single-entry zip; or plain JSON) into the JSON text.
 */
#ifndef TI_INFLATE_H
#define TI_INFLATE_H

#include <stdbool.h>

#include "buf.h"
#include "ti_limits.h"
#include "status.h"

enum inflate_format {
	INFLATE_PLAIN = 0,	/* not compressed: returned as is */
	INFLATE_GZIP,
	INFLATE_ZIP,
};

/* What the first bytes say: gzip magic, zip local header, or plain. */
enum inflate_format inflate_sniff(const struct ti_bytes *in);

/*
 * The one answer to "is this a report?": true when one of the n file
 * names (NULL ones are skipped) ends in .json, .gz or .zip, ignoring
 * case and trailing white space, or when in starts like gzip or zip, or
 * is a JSON object (after an optional byte-order mark and white space).
 * in may be NULL.
 */
bool inflate_is_report(const struct ti_bytes *in, const char *const *names,
    size_t n);

/*
 * Decompress in (format chosen by inflate_sniff) into a new buffer that
 * never grows past max_out bytes.  Streams; never allocates max_out up
 * front.  Truncated, corrupt or trailing-garbage input is DATA; so is
 * output beyond max_out ("decompressed report exceeds N bytes").  Memory
 * exhaustion is TEMP.  Returns 0 and *out_r (owned), or -1.
 */
int inflate_report(const struct ti_bytes *in, size_t max_out,
    struct buf **out_r, enum inflate_format *format_r, struct ti_err *err)
    TI_MUST_CHECK;

/* Release the decompression state kept from one report to the next.
 * Harmless to call twice; inflate_report() still works after it. */
void inflate_shutdown(void);

#endif
