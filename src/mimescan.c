/*
 * mimescan.c - stage 2, before GMime: bound what GMime may build.
 *
 * GMime turns every boundary line into a part object and every header
 * line into a header object, about a kilobyte for each five-byte "--b"
 * line, and builds the whole tree before we can walk it.  This single
 * pass over the raw message counts, with no allocation and in time
 * linear in the message, an upper bound of those objects, and refuses
 * the message before GMime sees it when a count passes its bound.
 *
 * Trust: the message is hostile.  Nothing here depends on GMime reading
 * the message as we do, so every count errs on the high side:
 * - every line starting with "--" may be a boundary (real reports have
 *   a handful);
 * - a header block is the top one, each one after a "--" line, and the
 *   one after a block whose Content-Type names "message" (a message/rfc822
 *   part's own headers) or, once any Content-Type has named "digest", after
 *   a block that follows a "--" line (a digest's parts are messages); it
 *   ends at an empty line ("" or "\r"), and every other line in it counts
 *   its bytes, and a field unless it starts with a space or a tab;
 * - depth is the longest run of blocks each declaring a message inside
 *   the one before: multipart nesting is not known without matching
 *   boundaries, and is left to mime.c's walk; the count of "--" lines
 *   bounds it here.
 * The limits (mimescan.h) derive from lim->mime_parts and lim->mime_depth.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mimescan.h"

struct mimescan {
	const struct ti_limits *lim;
	struct mimescan_counts c;
	size_t max_boundaries;
	size_t max_fields;
	bool in_headers;	/* inside a header block */
	bool after_dashes;	/* this block follows a "--" line */
	bool in_type;		/* the current field is Content-Type */
	bool is_message;	/* this block declares a message inside */
	bool digest;		/* some Content-Type named "digest" */
	size_t chain;		/* blocks of messages nested so far */
	size_t fields;		/* of this block */
	size_t bytes;		/* of this block */
};

static inline unsigned char
mimescan_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Whether p[0..n) starts with word (lower case), ignoring case. */
static bool
mimescan_starts(const uint8_t *p, size_t n, const char *word)
{
	size_t len = strlen(word);
	size_t i;

	if (n < len)
		return false;
	for (i = 0; i < len; i++) {
		if (mimescan_lower(p[i]) != (unsigned char)word[i])
			return false;
	}
	return true;
}

/* Whether word (lower case, a few bytes) is in p[0..n), ignoring case. */
static bool
mimescan_has(const uint8_t *p, size_t n, const char *word)
{
	size_t len = strlen(word);
	size_t i;

	for (i = 0; i + len <= n; i++) {
		if (mimescan_lower(p[i]) == (unsigned char)word[0] &&
		    mimescan_starts(p + i, n - i, word))
			return true;
	}
	return false;
}

static void
mimescan_block(struct mimescan *s, bool after_dashes)
{
	s->in_headers = true;
	s->after_dashes = after_dashes;
	s->in_type = false;
	s->is_message = false;
	s->fields = 0;
	s->bytes = 0;
	s->c.blocks++;
}

static int
mimescan_dashes(struct mimescan *s, struct ti_err *err)
{
	s->c.boundaries++;
	if (s->c.boundaries > s->max_boundaries)
		return ti_err_set(err, TI_KIND_DATA,
		    "more than %zu MIME boundary lines", s->max_boundaries);
	s->chain = 0;
	mimescan_block(s, true);
	return 0;
}

/* An empty line ends a block: a message's headers may follow. */
static int
mimescan_block_end(struct mimescan *s, struct ti_err *err)
{
	if (!s->is_message && !(s->after_dashes && s->digest)) {
		s->chain = 0;
		s->in_headers = false;
		return 0;
	}
	s->chain++;
	if (s->chain > s->c.depth)
		s->c.depth = s->chain;
	if (s->chain > s->lim->mime_depth)
		return ti_err_set(err, TI_KIND_DATA,
		    "MIME nesting deeper than %zu", s->lim->mime_depth);
	mimescan_block(s, false);
	return 0;
}

/* A line of a header block, not empty, its newline included in n. */
static int
mimescan_header(struct mimescan *s, const uint8_t *p, size_t n,
    struct ti_err *err)
{
	s->bytes += n;
	if (s->bytes > s->c.block_bytes)
		s->c.block_bytes = s->bytes;
	if (s->bytes > MIMESCAN_BLOCK_BYTES)
		return ti_err_set(err, TI_KIND_DATA,
		    "header block larger than %zu bytes",
		    (size_t)MIMESCAN_BLOCK_BYTES);
	if (p[0] != ' ' && p[0] != '\t') {
		s->fields++;
		s->c.fields++;
		if (s->fields > s->c.block_fields)
			s->c.block_fields = s->fields;
		if (s->fields > MIMESCAN_BLOCK_FIELDS)
			return ti_err_set(err, TI_KIND_DATA, "more than %zu "
			    "header fields in one header block",
			    (size_t)MIMESCAN_BLOCK_FIELDS);
		if (s->c.fields > s->max_fields)
			return ti_err_set(err, TI_KIND_DATA,
			    "more than %zu header fields", s->max_fields);
		s->in_type = mimescan_starts(p, n, "content-type");
	}
	if (!s->in_type)
		return 0;
	if (mimescan_has(p, n, "message"))
		s->is_message = true;
	if (mimescan_has(p, n, "digest"))
		s->digest = true;
	return 0;
}

static int
mimescan_line(struct mimescan *s, const uint8_t *p, size_t n,
    struct ti_err *err)
{
	bool empty = n == 0 || (p[0] == '\n') ||
	    (p[0] == '\r' && (n == 1 || p[1] == '\n'));

	if (n >= 2 && p[0] == '-' && p[1] == '-')
		return mimescan_dashes(s, err);
	if (!s->in_headers)
		return 0;
	if (empty)
		return mimescan_block_end(s, err);
	return mimescan_header(s, p, n, err);
}

int
mimescan_check(const struct ti_bytes *msg, const struct ti_limits *lim,
    struct mimescan_counts *counts_r, struct ti_err *err)
{
	struct mimescan s;
	const uint8_t *p = NULL;
	const uint8_t *nl = NULL;
	size_t left;
	size_t n;
	int rc = 0;

	if (msg == NULL || lim == NULL || (msg->data == NULL && msg->len > 0))
		return ti_err_set(err, TI_KIND_INTERNAL,
		    "mimescan_check: bad arguments");
	memset(&s, 0, sizeof(s));
	s.lim = lim;
	s.max_boundaries = MIMESCAN_BOUNDARIES_PER_PART * lim->mime_parts;
	s.max_fields = MIMESCAN_BLOCK_FIELDS + MIMESCAN_FIELDS_PER_PART *
	    lim->mime_parts;
	mimescan_block(&s, false);
	p = msg->data;
	left = msg->len;
	while (left > 0 && rc == 0) {
		nl = memchr(p, '\n', left);
		n = nl != NULL ? (size_t)(nl - p) + 1 : left;
		rc = mimescan_line(&s, p, n, err);
		p += n;
		left -= n;
	}
	if (counts_r != NULL)
		*counts_r = s.c;
	return rc;
}
