/*
 * hdr.c - the bounded RFC 5322 header reader (see hdr.h for the syntax
 * it accepts and where it stops).
 *
 * Trust: the bytes are hostile.  The reader copies and allocates
 * nothing: every field points into the caller's bytes.  The limits are
 * the caller's: the bytes and the number of fields handed out, and the
 * length of one value.  Finding the end of a field is a memchr per line,
 * so a block costs time linear in its length whatever it holds.
 */
#include "autoconf.h"

#include <string.h>
#include <strings.h>

#include "hdr.h"
#include "utf8.h"

void
hdr_init(struct hdr_reader *r, const struct ti_bytes *msg,
    const struct hdr_limits *lim)
{
	memset(r, 0, sizeof(*r));
	r->p = (const char *)msg->data;
	r->len = msg->data != NULL ? msg->len : 0;
	r->lim = *lim;
}

size_t
hdr_offset(const struct hdr_reader *r)
{
	return r->pos;
}

bool
hdr_name_is(const struct hdr_field *field, const char *want)
{
	return field->name != NULL && strlen(want) == field->name_len &&
	    strncasecmp(field->name, want, field->name_len) == 0;
}

/* A byte of a field name (RFC 5322 ftext). */
static bool
hdr_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static bool
hdr_empty_line(const struct hdr_reader *r, size_t at)
{
	return r->p[at] == '\n' ||
	    (r->p[at] == '\r' && at + 1 < r->len && r->p[at + 1] == '\n');
}

/*
 * The field starting at start: where its value starts (start itself when
 * it has no name), where it ends before its last line end, and where the
 * next one starts.
 */
static void
hdr_scan(const struct hdr_reader *r, size_t start, size_t *value_r,
    size_t *end_r, size_t *next_r)
{
	const char *p = r->p;
	const char *nl = NULL;
	size_t q;
	size_t name_end;
	size_t end;
	size_t next;

	for (q = start; q < r->len && hdr_ftext((unsigned char)p[q]); q++)
		continue;
	name_end = q;
	while (q < r->len && (p[q] == ' ' || p[q] == '\t'))
		q++;
	if (name_end > start && q < r->len && p[q] == ':')
		*value_r = q + 1;
	else
		*value_r = start;
	/* The field runs on over continuation lines. */
	for (end = *value_r;; end = next) {
		nl = memchr(p + end, '\n', r->len - end);
		if (nl == NULL) {
			end = next = r->len;
			break;
		}
		end = (size_t)(nl - p);
		next = end + 1;
		if (next >= r->len || (p[next] != ' ' && p[next] != '\t'))
			break;
	}
	if (end > *value_r && p[end - 1] == '\r')
		end--;
	*end_r = end;
	*next_r = next;
}

enum hdr_status
hdr_next(struct hdr_reader *r, struct hdr_field *field)
{
	size_t start = r->pos;
	size_t value;
	size_t end;
	size_t next;
	size_t name_end;

	memset(field, 0, sizeof(*field));
	if (start >= r->len || hdr_empty_line(r, start))
		return HDR_END;
	hdr_scan(r, start, &value, &end, &next);
	if (r->nfields >= r->lim.fields || next > r->lim.block_bytes)
		return HDR_LIMIT;
	if (value > start) {
		for (name_end = start; hdr_ftext((unsigned char)r->p[name_end]);
		    name_end++)
			continue;
		field->name = r->p + start;
		field->name_len = name_end - start;
	}
	field->value = r->p + value;
	field->value_len = end - value;
	if (field->value_len > r->lim.value_bytes) {
		field->value_len = r->lim.value_bytes;
		field->value_cut = true;
	}
	field->raw = r->p + start;
	field->raw_len = next - start;
	r->nfields++;
	r->pos = next;
	return HDR_FIELD;
}

int
hdr_block_text(const struct ti_bytes *msg, const struct hdr_limits *lim,
    size_t max, char **text_r, struct ti_err *err)
{
	struct hdr_reader r;
	struct hdr_field f;

	*text_r = NULL;
	hdr_init(&r, msg, lim);
	while (hdr_next(&r, &f) == HDR_FIELD)
		continue;
	if (r.pos == 0)
		return 0;
	return utf8_clean_dup(r.p, r.pos, max, 0, text_r, err);
}
