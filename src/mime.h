/*
 * mime.h - stage 2: find the TLS-RPT report inside an RFC 5322 message
 * (GMime 3), decode its transfer encoding, and collect the headers that
 * are stored with it.  No GMime or GLib type leaves mime.c and mime_head.c.
 */
#ifndef TI_MIME_H
#define TI_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ti_limits.h"
#include "status.h"

/* What the message says about itself; every string is owned, or NULL. */
struct mime_info {
	char *message_id;	/* without the angle brackets */
	char *from;
	char *subject;		/* RFC 2047 decoded */
	char *date;		/* the Date header as written */
	bool has_date_usec;
	int64_t date_usec;	/* Date parsed, microseconds since the epoch */
	char *report_domain;	/* TLS-Report-Domain */
	char *report_submitter;	/* TLS-Report-Submitter */
	size_t n_authres;
	char **authres;		/* Authentication-Results values, topmost first */
	char *headers;		/* the top-level header block as text (sanitized
				 * to valid UTF-8), for rejected_message: only
				 * filled by mime_headers() */
	char *part_type;	/* media type of the chosen part, lower case */
	char *part_filename;	/* its filename, from name=, filename= or
				 * Content-Description, or NULL */
};

/* Call once per process before mime_extract (GMime initialisation). */
void mime_init(void);
void mime_shutdown(void);

/*
 * Parse msg and find the report part: mimescan_check() first refuses
 * what would make GMime's tree far larger than msg, then the whole MIME
 * tree is walked, message/rfc822 parts included, within lim->mime_depth
 * and lim->mime_parts.  Fills *info as far as the headers could be read,
 * even on failure (the caller frees it with mime_info_clear).  Returns 0 and
 * *part_r (owned: the part's bytes with the transfer encoding removed,
 * still compressed if it was), or -1 with DATA ("no TLS-RPT report part
 * found", "MIME nesting deeper than 8", "more than 512 MIME boundary
 * lines", ...) or TEMP (memory).
 */
int mime_extract(const struct ti_bytes *msg, const struct ti_limits *lim,
    struct mime_info *info, struct buf **part_r, struct ti_err *err)
    TI_MUST_CHECK;

/*
 * Fill info->headers from msg, whatever mime_extract made of it (or if
 * it was never called): the header block is kept only with a rejected
 * message, so only a rejection pays for it.  It is the block as far as
 * mime_extract reads its fields (hdr.h: up to the first empty line, within
 * the same limits).  Returns 0, or -1 with TEMP.
 */
int mime_headers(const struct ti_bytes *msg, struct mime_info *info,
    struct ti_err *err) TI_MUST_CHECK;

/* Release what info owns and zero it; NULL-safe. */
void mime_info_clear(struct mime_info *info);

#endif
