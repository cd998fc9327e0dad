/*
 * hdr.h - a bounded reader of an RFC 5322 header block, read straight
 * from the message's bytes.  Every caller that looks at a message's own
 * header fields reads them through here, so all of them agree on where
 * the block ends.
 *
 * The block ends at the first empty line: LF, or CR LF, at the start of
 * a line.  That is the one place it ends; if there is none, the block is
 * the whole input.  A line ends at LF (a CR before it belongs to the line
 * end; a CR anywhere else is data), and a line that starts with a space
 * or a tab continues the field before it.  A field is a name (printable
 * ASCII but ':'), optional blanks, ':' and the value.  A line that is not
 * a field (no colon, a blank in the name, a continuation with no field
 * before it) is handed out as a field without a name, and reading goes
 * on.  NUL and 8-bit bytes are data like any other: a name holding one
 * is no name; a value keeps them for its caller to clean.
 */
#ifndef TI_HDR_H
#define TI_HDR_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "status.h"

struct hdr_limits {
	size_t block_bytes;	/* the fields handed out, line ends included */
	size_t fields;		/* fields handed out, nameless ones included */
	size_t value_bytes;	/* one value: a longer one is cut */
};

/* One field, borrowed from the message bytes. */
struct hdr_field {
	const char *name;	/* NULL for a line that is not a field */
	size_t name_len;
	const char *value;	/* after the colon (for a nameless line, the
				 * line), folding kept, without the line end
				 * that closes the field */
	size_t value_len;	/* at most value_bytes */
	bool value_cut;		/* the value was longer */
	const char *raw;	/* the whole field with its line ends */
	size_t raw_len;
};

enum hdr_status {
	HDR_FIELD = 0,		/* *field is filled */
	HDR_END,		/* the empty line, or the end of the input */
	HDR_LIMIT,		/* the next field is past a limit */
};

struct hdr_reader {
	const char *p;
	size_t len;
	size_t pos;		/* where the next field starts */
	size_t nfields;
	struct hdr_limits lim;
};

/* Start reading the header block of msg (borrowed: it must outlive r). */
void hdr_init(struct hdr_reader *r, const struct ti_bytes *msg,
    const struct hdr_limits *lim);

/*
 * The next field.  After HDR_END or HDR_LIMIT every call returns the same
 * again and hdr_offset() stays put.
 */
enum hdr_status hdr_next(struct hdr_reader *r, struct hdr_field *field);

/*
 * Where reading stands: after HDR_END, the empty line that ends the block
 * (or the input's length); after HDR_LIMIT, the first field not handed
 * out; otherwise the start of the next field.
 */
size_t hdr_offset(const struct hdr_reader *r);

/* True when a field's name is want, ignoring ASCII case. */
bool hdr_name_is(const struct hdr_field *field, const char *want);

/*
 * The header block of msg as text, as far as hdr_next() reads it within
 * lim: cleaned by utf8_clean() (valid UTF-8, no NUL, CR LF as LF) and cut
 * to max bytes.  *text_r is owned (free()), or NULL for an empty block.
 * Returns 0, or -1 with TEMP (memory).
 */
int hdr_block_text(const struct ti_bytes *msg, const struct hdr_limits *lim,
    size_t max, char **text_r, struct ti_err *err) TI_MUST_CHECK;

#endif
