/*
 * mime.c - stage 2: find the TLS-RPT report part in a message (GMime 3).
 *
 * Trust: the message is hostile.  GMime parses it from memory; we walk
 * the resulting tree ourselves, so that nesting (multiparts and
 * message/rfc822 parts, lim->mime_depth) and the number of parts visited
 * (lim->mime_parts) are bounded no matter what GMime built.  The chosen
 * part's transfer encoding is removed into a buffer bounded by
 * lim->message_bytes.  Every string handed out is valid UTF-8 without NUL
 * bytes (invalid bytes become '?'), one header value is at most
 * MIME_VALUE_BYTES and the header block at most MIME_HEADERS_BYTES, since
 * they end up in PostgreSQL text columns and logs.
 *
 * Which part is the report: the first part in tree order whose type is
 * application/tlsrpt+gzip, application/tlsrpt+json or application/tlsrpt.
 * Failing that, the first part of a generic type (gzip, zip, json,
 * octet-stream) whose file name ends in .json, .gz or .zip, or whose
 * decoded bytes look like gzip, zip or a JSON object.
 *
 * GMime and GLib types stay in this file.  GLib aborts the process when
 * memory runs out; our own allocations fail with TEMP.
 */
#include "autoconf.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mime.h"

#define MIME_VALUE_BYTES 4096		/* one header value */
#define MIME_HEADERS_BYTES (64 * 1024)	/* the whole header block */

/* A part of a generic type that may hold the report. */
struct mime_cand {
	GMimePart *part;		/* borrowed from the message tree */
	GMimeMessage *msg;		/* innermost message holding it, or
				 * NULL for the top level */
};

struct mime_walk {
	const struct ti_limits *lim;
	size_t nparts;			/* objects visited so far */
	GMimePart *exact;		/* first part of a TLS-RPT type */
	GMimeMessage *exact_msg;
	struct mime_cand *cands;	/* generic-type parts, tree order */
	size_t ncands;
};

/* Where a field's value lies in the message: after the colon, folding
 * kept, without the line end that closes it. */
struct mime_span {
	const char *p;			/* NULL: no such field */
	size_t n;
};

/* The top-level fields read without GMime; the first of each counts. */
enum {
	MIME_TOP_FROM,
	MIME_TOP_SUBJECT,
	MIME_TOP_DATE,
	MIME_TOP_MESSAGE_ID,
	MIME_TOP_REPORT_DOMAIN,
	MIME_TOP_REPORT_SUBMITTER,
	MIME_TOP_NFIELDS
};

static const char *const mime_top_names[MIME_TOP_NFIELDS] = {
	"From",
	"Subject",
	"Date",
	"Message-ID",
	"TLS-Report-Domain",
	"TLS-Report-Submitter",
};

struct mime_top {
	struct mime_span field[MIME_TOP_NFIELDS];
	struct mime_span *authres;	/* every Authentication-Results */
	size_t n_authres;
	size_t cap_authres;
	GByteArray *gmime;		/* what GMime is given to parse */
};

/* A growing string of sanitized UTF-8 with a hard cap on its length. */
struct mime_str {
	char *data;
	size_t len;
	size_t cap;
	size_t max;			/* in bytes, not counting NUL */
	bool oneline;			/* controls become spaces */
};

static const char *const mime_exact_types[] = {
	"tlsrpt+gzip",
	"tlsrpt+json",
	"tlsrpt",
};

static const char *const mime_lenient_types[] = {
	"gzip",
	"x-gzip",
	"json",
	"octet-stream",
	"zip",
	"x-zip-compressed",
};

/* .json.gz and .json.zip end in .gz and .zip. */
static const char *const mime_lenient_suffixes[] = {
	".json",
	".gz",
	".zip",
};

/* GMime cannot be initialised again once it has been shut down. */
static enum {
	MIME_STATE_NEW = 0,
	MIME_STATE_UP,
	MIME_STATE_DOWN,
} mime_state;

/*
 * One parser serves every message, reading one memory stream, whose
 * array of bytes (the message as GMime is given it) is also kept from one
 * message to the next: building and freeing them for each message cost
 * an object and a large allocation.  Between two messages the stream
 * reads an empty array.
 */
static GMimeParser *mime_parser;
static GMimeStream *mime_stream;
static GByteArray *mime_bytes;
static GByteArray *mime_none;
/* A message larger than this does not keep its array for the next. */
#define MIME_BYTES_KEEP ((guint)1 << 20)

static int mime_str_append(struct mime_str *s, const char *p, size_t n,
    struct ti_err *err) TI_MUST_CHECK;
static int mime_dup(char **dst, const char *src, bool empty_is_null,
    struct ti_err *err) TI_MUST_CHECK;
static int mime_walk_object(struct mime_walk *w, GMimeObject *obj,
    GMimeMessage *msg, size_t depth, struct ti_err *err) TI_MUST_CHECK;
static int mime_decode(GMimePart *part, size_t max, struct buf **out,
    struct ti_err *err) TI_MUST_CHECK;

void
mime_init(void)
{
	if (mime_state != MIME_STATE_NEW)
		return;
	g_mime_init();
	mime_bytes = g_byte_array_new();
	mime_none = g_byte_array_new();
	mime_stream = g_mime_stream_mem_new();
	g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(mime_stream),
	    mime_none);
	mime_parser = g_mime_parser_new_with_stream(mime_stream);
	g_mime_parser_set_format(mime_parser, GMIME_FORMAT_MESSAGE);
	mime_state = MIME_STATE_UP;
}

void
mime_shutdown(void)
{
	if (mime_state != MIME_STATE_UP)
		return;
	g_clear_object(&mime_parser);
	g_clear_object(&mime_stream);
	g_clear_pointer(&mime_bytes, g_byte_array_unref);
	g_clear_pointer(&mime_none, g_byte_array_unref);
	g_mime_shutdown();
	mime_state = MIME_STATE_DOWN;
}

void
mime_info_clear(struct mime_info *info)
{
	size_t i;

	if (info == NULL)
		return;
	free(info->message_id);
	free(info->from);
	free(info->subject);
	free(info->date);
	free(info->report_domain);
	free(info->report_submitter);
	for (i = 0; i < info->n_authres; i++)
		free(info->authres[i]);
	free(info->authres);
	free(info->headers);
	free(info->part_type);
	free(info->part_filename);
	memset(info, 0, sizeof(*info));
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0 if there is none.
 */
static size_t
mime_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80;
	unsigned char hi = 0xbf;
	size_t need;
	size_t i;

	if (p[0] < 0x80)
		return p[0] == 0 ? 0 : 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	}
	return need;
}

static int
mime_str_reserve(struct mime_str *s, size_t n, struct ti_err *err)
{
	char *p = NULL;
	size_t cap;

	if (s->len + n + 1 <= s->cap)
		return 0;
	cap = s->cap < 64 ? 64 : s->cap;
	while (cap < s->len + n + 1)
		cap *= 2;
	if (cap > s->max + 1)
		cap = s->max + 1;
	p = realloc(s->data, cap);
	if (p == NULL)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	s->data = p;
	s->cap = cap;
	return 0;
}

/* A byte that is copied as it is: printable ASCII, and tab and LF in text. */
static bool
mime_plain_byte(unsigned char c, bool oneline)
{
	if (c >= 0x20 && c < 0x7f)
		return true;
	return !oneline && (c == '\t' || c == '\n');
}

/*
 * Append n bytes, replacing each byte that starts no well-formed UTF-8
 * sequence with '?'.  What does not fit under max is dropped, whole
 * characters only.  CR LF becomes LF; in a one-line string every control
 * character becomes a space.  Runs of plain ASCII are copied at once.
 */
static int
mime_str_append(struct mime_str *s, const char *p, size_t n,
    struct ti_err *err)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned char c;
	size_t i = 0;
	size_t j;
	size_t k;

	while (i < n && s->len < s->max) {
		for (j = i; j < n && mime_plain_byte(u[j], s->oneline); j++)
			continue;
		if (j > i) {
			k = j - i;
			if (k > s->max - s->len)
				k = s->max - s->len;
			if (mime_str_reserve(s, k, err) != 0)
				return -1;
			memcpy(s->data + s->len, u + i, k);
			s->len += k;
			i += k;
			continue;
		}
		if (u[i] == '\r' && i + 1 < n && u[i + 1] == '\n' &&
		    !s->oneline) {
			i++;
			continue;
		}
		k = mime_utf8_len(u + i, n - i);
		if (s->len + (k == 0 ? 1 : k) > s->max)
			break;
		if (mime_str_reserve(s, k == 0 ? 1 : k, err) != 0)
			return -1;
		c = u[i];
		if (k == 0) {
			s->data[s->len++] = '?';
			i++;
		} else if (k == 1) {
			/* a control character (or CR alone) */
			s->data[s->len++] = s->oneline ? ' ' : (char)c;
			i++;
		} else {
			memcpy(s->data + s->len, u + i, k);
			s->len += k;
			i += k;
		}
	}
	if (mime_str_reserve(s, 0, err) != 0)
		return -1;
	s->data[s->len] = '\0';
	return 0;
}

/* Hand the string over to the caller; s is left empty. */
static char *
mime_str_take(struct mime_str *s)
{
	char *p = s->data;

	s->data = NULL;
	s->len = 0;
	s->cap = 0;
	return p;
}

static bool
mime_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * *dst = a sanitized, trimmed copy of src, cut to MIME_VALUE_BYTES, or
 * NULL when src is NULL (or empty after trimming, if empty_is_null).
 */
static int
mime_dup(char **dst, const char *src, bool empty_is_null, struct ti_err *err)
{
	struct mime_str s = { NULL, 0, 0, MIME_VALUE_BYTES, true };
	size_t n;

	*dst = NULL;
	if (src == NULL)
		return 0;
	while (mime_is_space(*src))
		src++;
	n = strlen(src);
	while (n > 0 && mime_is_space(src[n - 1]))
		n--;
	if (n == 0 && empty_is_null)
		return 0;
	if (mime_str_append(&s, src, n, err) != 0) {
		free(s.data);
		return -1;
	}
	/* Control characters at the edges became spaces: trim again. */
	while (s.len > 0 && s.data[s.len - 1] == ' ')
		s.data[--s.len] = '\0';
	if (s.len == 0 && empty_is_null) {
		free(s.data);
		return 0;
	}
	*dst = mime_str_take(&s);
	return 0;
}

/*
 * The top-level header block as written, up to the first empty line:
 * read from the bytes, not from a parse, so that it is there even when
 * nothing else could be read.
 */
static int
mime_headers_raw(const struct ti_bytes *msg, char **out, struct ti_err *err)
{
	struct mime_str s = { NULL, 0, 0, MIME_HEADERS_BYTES, false };
	const unsigned char *p = msg->data;
	size_t n = 0;

	while (n < msg->len) {
		if (p[n] == '\n' && n + 1 < msg->len && p[n + 1] == '\n')
			break;
		if (p[n] == '\n' && n + 2 < msg->len && p[n + 1] == '\r' &&
		    p[n + 2] == '\n')
			break;
		n++;
		if (n > MIME_HEADERS_BYTES * 2)
			break;
	}
	if (n < msg->len && p[n] == '\n')
		n++;
	if (mime_str_append(&s, (const char *)p, n, err) != 0) {
		free(s.data);
		return -1;
	}
	if (s.len == 0) {
		free(s.data);
		return 0;
	}
	*out = mime_str_take(&s);
	return 0;
}

/* A byte of a header field name (RFC 5322 ftext). */
static bool
mime_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static bool
mime_name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && g_ascii_strncasecmp(name, want, n) == 0;
}

/*
 * A field GMime needs to build the body: Content-*.  (MIME-Version
 * changes nothing in how GMime reads a part, and would be one more
 * object.)
 */
static bool
mime_name_is_mime(const char *name, size_t n)
{
	return (n > 8 && g_ascii_strncasecmp(name, "Content-", 8) == 0);
}

static int
mime_top_add_authres(struct mime_top *top, const char *p, size_t n,
    struct ti_err *err)
{
	struct mime_span *grown = NULL;
	size_t cap;

	if (top->n_authres == top->cap_authres) {
		cap = top->cap_authres == 0 ? 4 : top->cap_authres * 2;
		grown = realloc(top->authres, cap * sizeof(*grown));
		if (grown == NULL)
			return ti_err_set(err, TI_KIND_TEMP, "out of memory");
		top->authres = grown;
		top->cap_authres = cap;
	}
	top->authres[top->n_authres].p = p;
	top->authres[top->n_authres].n = n;
	top->n_authres++;
	return 0;
}

/* Note a field we read ourselves: the first of each kind, every A-R. */
static int
mime_top_note(struct mime_top *top, const char *name, size_t name_len,
    const char *value, size_t value_len, struct ti_err *err)
{
	size_t i;

	if (mime_name_is(name, name_len, "Authentication-Results"))
		return mime_top_add_authres(top, value, value_len, err);
	for (i = 0; i < MIME_TOP_NFIELDS; i++) {
		if (top->field[i].p == NULL &&
		    mime_name_is(name, name_len, mime_top_names[i])) {
			top->field[i].p = value;
			top->field[i].n = value_len;
			break;
		}
	}
	return 0;
}

/*
 * Read the top-level header block ourselves, and give GMime only what
 * it needs to build the body: the Content-* fields, then everything
 * from the end of the block on.  Every other field
 * (Received, DKIM-Signature, To...) would become objects GMime builds,
 * decodes and frees for nothing.  The block ends at the first empty
 * line; a line that is neither a field nor a continuation also ends
 * our reading, and GMime gets it and what follows as they are.
 */
static int
mime_scan_top(const struct ti_bytes *msg, struct mime_top *top,
    struct ti_err *err)
{
	const char *p = (const char *)msg->data;
	size_t n = msg->len;
	size_t pos = 0;
	size_t q, name_end, value, end, next;
	const char *nl = NULL;

	top->gmime = mime_bytes;
	g_byte_array_set_size(top->gmime, 0);
	while (pos < n) {
		if (p[pos] == '\n' || (p[pos] == '\r' && pos + 1 < n &&
		    p[pos + 1] == '\n'))
			break;
		for (q = pos; q < n && mime_ftext((unsigned char)p[q]); q++)
			continue;
		name_end = q;
		while (q < n && (p[q] == ' ' || p[q] == '\t'))
			q++;
		if (name_end == pos || q >= n || p[q] != ':')
			break;
		value = q + 1;
		/* The field runs on over continuation lines. */
		for (end = value;; end = next) {
			nl = memchr(p + end, '\n', n - end);
			if (nl == NULL) {
				end = next = n;
				break;
			}
			next = (size_t)(nl - p) + 1;
			end = (size_t)(nl - p);
			if (next >= n || (p[next] != ' ' && p[next] != '\t'))
				break;
		}
		if (end > value && p[end - 1] == '\r')
			end--;
		if (mime_name_is_mime(p + pos, name_end - pos))
			g_byte_array_append(top->gmime,
			    (const guint8 *)p + pos, (guint)(next - pos));
		else if (mime_top_note(top, p + pos, name_end - pos,
		    p + value, end - value, err) != 0)
			return -1;
		pos = next;
	}
	g_byte_array_append(top->gmime, (const guint8 *)p + pos,
	    (guint)(n - pos));
	return 0;
}

static void
mime_top_clear(struct mime_top *top)
{
	free(top->authres);
	/* The array is mime_bytes: kept, unless a large message grew it. */
	if (top->gmime != NULL && top->gmime->len > MIME_BYTES_KEEP) {
		g_byte_array_unref(mime_bytes);
		mime_bytes = g_byte_array_new();
	}
	memset(top, 0, sizeof(*top));
}

/* s without its leading and trailing blanks, in place. */
static char *
mime_trim(char *s)
{
	size_t i = 0;
	size_t n;

	while (s[i] == ' ' || s[i] == '\t')
		i++;
	n = strlen(s + i);
	while (n > 0 && (s[i + n - 1] == ' ' || s[i + n - 1] == '\t'))
		n--;
	memmove(s, s + i, n);
	s[n] = '\0';
	return s;
}

/* Printable ASCII and tabs only, no "=?": unfolding and decoding would
 * give it back unchanged but trimmed. */
static bool
mime_plain_value(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((*s < 0x20 && *s != '\t') || *s >= 0x7f)
			return false;
		if (s[0] == '=' && s[1] == '?')
			return false;
	}
	return true;
}

/*
 * A field's value as GMime would give it: unfolded, RFC 2047 words
 * decoded (g_free).  Only the first MIME_HEADERS_BYTES are read; what
 * is kept is cut far shorter anyway.
 */
static char *
mime_span_decode(const struct mime_span *v)
{
	char *raw = NULL;
	char *unfolded = NULL;
	char *text = NULL;

	if (v->p == NULL)
		return NULL;
	raw = g_strndup(v->p, v->n < MIME_HEADERS_BYTES ? v->n :
	    MIME_HEADERS_BYTES);
	/* One line of ASCII without encoded words: only trimmed. */
	if (mime_plain_value(raw))
		return mime_trim(raw);
	unfolded = g_mime_utils_header_unfold(raw);
	text = g_mime_utils_header_decode_text(NULL, unfolded);
	g_free(unfolded);
	g_free(raw);
	return text;
}

/* *dst = the sanitized, decoded value of a field, or NULL. */
static int
mime_dup_span(char **dst, const struct mime_span *v, bool empty_is_null,
    struct ti_err *err)
{
	char *text = mime_span_decode(v);
	int rc;

	rc = mime_dup(dst, text, empty_is_null, err);
	g_free(text);
	return rc;
}

/* What the top-level message says about itself. */
static int
mime_fill_info(const struct mime_top *top, struct mime_info *info,
    struct ti_err *err)
{
	GDateTime *date = NULL;
	char *text = NULL;
	char *id = NULL;
	size_t i;
	int rc;

	if (mime_dup_span(&info->from, &top->field[MIME_TOP_FROM], false,
	    err) != 0 ||
	    mime_dup_span(&info->subject, &top->field[MIME_TOP_SUBJECT], false,
	    err) != 0 ||
	    mime_dup_span(&info->date, &top->field[MIME_TOP_DATE], false,
	    err) != 0 ||
	    mime_dup_span(&info->report_domain,
	    &top->field[MIME_TOP_REPORT_DOMAIN], true, err) != 0 ||
	    mime_dup_span(&info->report_submitter,
	    &top->field[MIME_TOP_REPORT_SUBMITTER], true, err) != 0)
		return -1;
	text = mime_span_decode(&top->field[MIME_TOP_MESSAGE_ID]);
	id = text != NULL ? g_mime_utils_decode_message_id(text) : NULL;
	rc = mime_dup(&info->message_id, id, false, err);
	g_free(id);
	g_free(text);
	if (rc != 0)
		return -1;
	text = mime_span_decode(&top->field[MIME_TOP_DATE]);
	date = text != NULL ? g_mime_utils_header_decode_date(text) : NULL;
	g_free(text);
	if (date != NULL) {
		/* GDateTime covers years 1 to 9999, well inside int64. */
		info->date_usec = (int64_t)g_date_time_to_unix(date) *
		    INT64_C(1000000) + g_date_time_get_microsecond(date);
		info->has_date_usec = true;
		g_date_time_unref(date);
	}
	if (top->n_authres == 0)
		return 0;
	info->authres = calloc(top->n_authres, sizeof(*info->authres));
	if (info->authres == NULL)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	for (i = 0; i < top->n_authres; i++) {
		if (mime_dup_span(&info->authres[info->n_authres],
		    &top->authres[i], false, err) != 0)
			return -1;
		if (info->authres[info->n_authres] != NULL)
			info->n_authres++;
	}
	return 0;
}

static bool
mime_type_in(GMimeContentType *ct, const char *const *subtypes, size_t n)
{
	const char *type = NULL;
	const char *sub = NULL;
	size_t i;

	if (ct == NULL)
		return false;
	type = g_mime_content_type_get_media_type(ct);
	sub = g_mime_content_type_get_media_subtype(ct);
	if (type == NULL || sub == NULL ||
	    g_ascii_strcasecmp(type, "application") != 0)
		return false;
	for (i = 0; i < n; i++) {
		if (g_ascii_strcasecmp(sub, subtypes[i]) == 0)
			return true;
	}
	return false;
}

/* The part's file name: name=, then filename=, then Content-Description. */
static const char *
mime_part_filename(GMimePart *part, size_t which)
{
	GMimeObject *obj = GMIME_OBJECT(part);

	switch (which) {
	case 0:
		return g_mime_object_get_content_type_parameter(obj, "name");
	case 1:
		return g_mime_object_get_content_disposition_parameter(obj,
		    "filename");
	case 2:
		return g_mime_part_get_content_description(part);
	default:
		return NULL;
	}
}

static bool
mime_name_matches(const char *name)
{
	size_t n;
	size_t k;
	size_t i;

	if (name == NULL)
		return false;
	n = strlen(name);
	while (n > 0 && mime_is_space(name[n - 1]))
		n--;
	for (i = 0; i < G_N_ELEMENTS(mime_lenient_suffixes); i++) {
		k = strlen(mime_lenient_suffixes[i]);
		if (n >= k && g_ascii_strncasecmp(name + n - k,
		    mime_lenient_suffixes[i], k) == 0)
			return true;
	}
	return false;
}

static bool
mime_any_name_matches(GMimePart *part)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		if (mime_name_matches(mime_part_filename(part, i)))
			return true;
	}
	return false;
}

/* Decoded bytes that look like gzip, zip, or a JSON object. */
static bool
mime_bytes_match(const struct buf *b)
{
	const unsigned char *p = b->data;
	size_t n = b->len;
	size_t i = 0;

	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return true;
	if (n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0)
		return true;
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && mime_is_space((char)p[i]))
		i++;
	return i < n && p[i] == '{';
}

static int
mime_add_cand(struct mime_walk *w, GMimePart *part, GMimeMessage *msg,
    struct ti_err *err)
{
	if (w->cands == NULL) {
		/* nparts <= mime_parts, so this many always suffice. */
		w->cands = calloc(w->lim->mime_parts, sizeof(*w->cands));
		if (w->cands == NULL)
			return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	}
	assert(w->ncands < w->lim->mime_parts);
	w->cands[w->ncands].part = part;
	w->cands[w->ncands].msg = msg;
	w->ncands++;
	return 0;
}

/*
 * Visit obj, which sits inside depth containers (multiparts or message
 * parts) and belongs to message msg.  The whole tree is walked even after
 * the report is found, so that the limits hold for every message alike.
 * Recursion is bounded by lim->mime_depth.
 */
static int
mime_walk_object(struct mime_walk *w, GMimeObject *obj, GMimeMessage *msg,
    size_t depth, struct ti_err *err)
{
	GMimeMultipart *multi = NULL;
	GMimeMessage *inner = NULL;
	GMimeObject *child = NULL;
	GMimePart *part = NULL;
	GMimeContentType *ct = NULL;
	int n;
	int i;

	w->nparts++;
	if (w->nparts > w->lim->mime_parts)
		return ti_err_set(err, TI_KIND_DATA, "more than %zu MIME parts",
		    w->lim->mime_parts);
	if ((GMIME_IS_MULTIPART(obj) || GMIME_IS_MESSAGE_PART(obj)) &&
	    depth >= w->lim->mime_depth)
		return ti_err_set(err, TI_KIND_DATA,
		    "MIME nesting deeper than %zu", w->lim->mime_depth);
	if (GMIME_IS_MULTIPART(obj)) {
		multi = GMIME_MULTIPART(obj);
		n = g_mime_multipart_get_count(multi);
		for (i = 0; i < n; i++) {
			child = g_mime_multipart_get_part(multi, i);
			if (child == NULL)
				continue;
			if (mime_walk_object(w, child, msg, depth + 1,
			    err) != 0)
				return -1;
		}
		return 0;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		child = inner != NULL ? g_mime_message_get_mime_part(inner) :
		    NULL;
		if (child == NULL)
			return 0;
		return mime_walk_object(w, child, inner, depth + 1, err);
	}
	if (!GMIME_IS_PART(obj))
		return 0;
	part = GMIME_PART(obj);
	ct = g_mime_object_get_content_type(obj);
	if (mime_type_in(ct, mime_exact_types,
	    G_N_ELEMENTS(mime_exact_types))) {
		if (w->exact == NULL) {
			w->exact = part;
			w->exact_msg = msg;
		}
		return 0;
	}
	if (w->exact == NULL && mime_type_in(ct, mime_lenient_types,
	    G_N_ELEMENTS(mime_lenient_types)))
		return mime_add_cand(w, part, msg, err);
	return 0;
}

/*
 * The part's bytes with the transfer encoding removed, at most max.  The
 * encoded bytes are read in chunks and decoded straight into the buffer.
 */
static int
mime_decode(GMimePart *part, size_t max, struct buf **out,
    struct ti_err *err)
{
	GMimeDataWrapper *content = NULL;
	GMimeStream *raw = NULL;
	GMimeEncoding enc;
	struct buf *b = NULL;
	char chunk[4096];
	ssize_t got;
	size_t room;
	int rc = -1;

	*out = NULL;
	b = buf_new(max, err);
	if (b == NULL)
		return -1;
	content = g_mime_part_get_content(part);	/* borrowed */
	raw = content != NULL ? g_mime_data_wrapper_get_stream(content) :
	    NULL;
	if (raw != NULL) {
		g_mime_encoding_init_decode(&enc,
		    g_mime_data_wrapper_get_encoding(content));
		if (g_mime_stream_reset(raw) != 0)
			goto bad;
		while ((got = g_mime_stream_read(raw, chunk,
		    sizeof(chunk))) > 0) {
			room = g_mime_encoding_outlen(&enc, (size_t)got);
			if (buf_reserve(b, room, err) != 0) {
				if (err->kind == TI_KIND_DATA)
					ti_err_set(err, TI_KIND_DATA, "report "
					    "part larger than %zu bytes", max);
				goto out;
			}
			b->len += g_mime_encoding_step(&enc, chunk,
			    (size_t)got, (char *)b->data + b->len);
			b->data[b->len] = '\0';
		}
		if (got < 0)
			goto bad;
	}
	*out = b;
	b = NULL;
	rc = 0;
	goto out;
bad:
	ti_err_set(err, TI_KIND_DATA, "cannot decode the report part");
out:
	buf_free(&b);
	return rc;
}

/*
 * Choose the report part: the first exact match, else the first generic
 * part whose name or content fits.  *part_r gets its decoded bytes.
 */
static int
mime_choose(struct mime_walk *w, GMimePart **chosen, GMimeMessage **msg_r,
    struct buf **part_r, struct ti_err *err)
{
	struct buf *b = NULL;
	size_t i;

	*chosen = NULL;
	*msg_r = NULL;
	if (w->exact != NULL) {
		if (mime_decode(w->exact, w->lim->message_bytes, part_r,
		    err) != 0)
			return -1;
		*chosen = w->exact;
		*msg_r = w->exact_msg;
		return 0;
	}
	for (i = 0; i < w->ncands; i++) {
		if (mime_decode(w->cands[i].part, w->lim->message_bytes, &b,
		    err) != 0)
			return -1;
		if (mime_any_name_matches(w->cands[i].part) ||
		    mime_bytes_match(b)) {
			*part_r = b;
			*chosen = w->cands[i].part;
			*msg_r = w->cands[i].msg;
			return 0;
		}
		buf_free(&b);
	}
	return 0;
}

/* Media type ("type/subtype", lower case) and file name of the part. */
static int
mime_fill_part(GMimePart *part, struct mime_info *info, struct ti_err *err)
{
	GMimeContentType *ct = NULL;
	const char *type = NULL;
	const char *sub = NULL;
	char *joined = NULL;
	size_t i;
	int rc;

	ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
	type = ct != NULL ? g_mime_content_type_get_media_type(ct) : NULL;
	sub = ct != NULL ? g_mime_content_type_get_media_subtype(ct) : NULL;
	if (type != NULL && sub != NULL) {
		joined = g_strconcat(type, "/", sub, NULL);
		rc = mime_dup(&info->part_type, joined, true, err);
		g_free(joined);
		if (rc != 0)
			return -1;
		for (i = 0; info->part_type != NULL &&
		    info->part_type[i] != '\0'; i++)
			info->part_type[i] =
			    g_ascii_tolower(info->part_type[i]);
	}
	for (i = 0; i < 3 && info->part_filename == NULL; i++) {
		if (mime_dup(&info->part_filename, mime_part_filename(part, i),
		    true, err) != 0)
			return -1;
	}
	return 0;
}

int
mime_headers(const struct ti_bytes *msg, struct mime_info *info,
    struct ti_err *err)
{
	if (msg == NULL || info == NULL || (msg->data == NULL && msg->len > 0))
		return ti_err_set(err, TI_KIND_INTERNAL,
		    "mime_headers: bad arguments");
	if (info->headers != NULL)
		return 0;
	return mime_headers_raw(msg, &info->headers, err);
}

int
mime_extract(const struct ti_bytes *msg, const struct ti_limits *lim,
    struct mime_info *info, struct buf **part_r, struct ti_err *err)
{
	struct mime_walk w;
	struct mime_top top;
	GMimeObject *body = NULL;
	GMimeMessage *holder = NULL;
	GMimePart *chosen = NULL;
	struct buf *part = NULL;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	memset(&top, 0, sizeof(top));
	memset(info, 0, sizeof(*info));
	*part_r = NULL;
	if (msg == NULL || (msg->data == NULL && msg->len > 0) ||
	    lim == NULL)
		return ti_err_set(err, TI_KIND_INTERNAL,
		    "mime_extract: bad arguments");
	w.lim = lim;
	mime_init();
	if (mime_state != MIME_STATE_UP)
		return ti_err_set(err, TI_KIND_INTERNAL,
		    "mime_extract after mime_shutdown");
	if (mime_scan_top(msg, &top, err) != 0 ||
	    mime_fill_info(&top, info, err) != 0)
		goto out;
	/* GLib aborts when memory runs out: nothing here returns NULL. */
	g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(mime_stream),
	    top.gmime);
	g_mime_parser_init_with_stream(mime_parser, mime_stream);
	body = g_mime_parser_construct_part(mime_parser, NULL);
	if (body == NULL) {
		ti_err_set(err, TI_KIND_DATA,
		    "message has no parsable MIME structure");
		goto out;
	}
	if (mime_walk_object(&w, body, NULL, 0, err) != 0)
		goto out;
	if (mime_choose(&w, &chosen, &holder, &part, err) != 0)
		goto out;
	if (chosen == NULL) {
		ti_err_set(err, TI_KIND_DATA,
		    "no TLS-RPT report part found (%zu MIME parts)", w.nparts);
		goto out;
	}
	if (part->len == 0) {
		ti_err_set(err, TI_KIND_DATA, "report part is empty");
		goto out;
	}
	if (mime_fill_part(chosen, info, err) != 0)
		goto out;
	/*
	 * A report forwarded as a message/rfc822 attachment: the outer
	 * message is the forwarder's, so where it lacks TLS-Report-Domain or
	 * TLS-Report-Submitter take each from the innermost message holding
	 * the report.  All other fields stay those of the outer message.
	 */
	if (holder != NULL && info->report_domain == NULL &&
	    mime_dup(&info->report_domain, g_mime_object_get_header(
	    GMIME_OBJECT(holder), "TLS-Report-Domain"), true, err) != 0)
		goto out;
	if (holder != NULL && info->report_submitter == NULL &&
	    mime_dup(&info->report_submitter, g_mime_object_get_header(
	    GMIME_OBJECT(holder), "TLS-Report-Submitter"), true, err) != 0)
		goto out;
	*part_r = part;
	part = NULL;
	rc = 0;
out:
	buf_free(&part);
	free(w.cands);
	g_clear_object(&body);
	/* The stream lets go of the message's bytes until the next one. */
	g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(mime_stream),
	    mime_none);
	mime_top_clear(&top);
	return rc;
}
