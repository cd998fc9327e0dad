/*
 * mime_head.c - stage 2, the top-level header block: the fields kept of
 * a message (From, Subject, Date, Message-ID, TLS-Report-Domain,
 * TLS-Report-Submitter, every Authentication-Results) and its text for a
 * rejected message.
 *
 * Trust: the header block is hostile.  hdr.c reads it within
 * MIME_BLOCK_BYTES and MIME_FIELDS; every value kept is valid UTF-8
 * without NUL (utf8_clean), one line, at most MIME_VALUE_BYTES, and the
 * header block at most MIME_HEADERS_BYTES: they end up in PostgreSQL text
 * columns and logs.  GMime decodes RFC 2047 words, dates and message-ids.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "hdr.h"
#include "mime.h"
#include "mime_head.h"
#include "utf8.h"

#define MIME_VALUE_BYTES 4096		/* one header value, as kept */
#define MIME_HEADERS_BYTES (64 * 1024)	/* the header block, as kept */
#define MIME_BLOCK_BYTES (1024 * 1024)	/* the header block, as read */
#define MIME_FIELDS 1000		/* fields of the block, as read */

/* How far the top-level header block is read, for every use of it. */
static const struct hdr_limits mime_hdr_limits = {
	MIME_BLOCK_BYTES,
	MIME_FIELDS,
	MIME_HEADERS_BYTES,
};

/* The top-level fields kept (the first of each), and where. */
static const struct {
	const char *name;
	size_t off;			/* of its char * in struct mime_info */
	bool empty_is_null;
} mime_top_fields[] = {
	{ "From", offsetof(struct mime_info, from), false },
	{ "Subject", offsetof(struct mime_info, subject), false },
	{ "Date", offsetof(struct mime_info, date), false },
	{ "Message-ID", offsetof(struct mime_info, message_id), false },
	{ "TLS-Report-Domain", offsetof(struct mime_info, report_domain),
	    true },
	{ "TLS-Report-Submitter", offsetof(struct mime_info,
	    report_submitter), true },
};

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

int
mime_value_dup(char **dst, const char *src, bool empty_is_null,
    struct ti_err *err)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	if (utf8_clean_dup(src, strlen(src), MIME_VALUE_BYTES,
	    UTF8_CLEAN_ONE_LINE | UTF8_CLEAN_TRIM, dst, err) != 0)
		return -1;
	if (**dst == '\0' && empty_is_null) {
		free(*dst);
		*dst = NULL;
	}
	return 0;
}

/* True when s is 7-bit text holding no RFC 2047 encoded-word ("=?"). */
static bool
mime_plain_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80 || (s[0] == '=' && s[1] == '?'))
			return false;
	}
	return true;
}

/*
 * A field's value as GMime would give it: unfolded, RFC 2047 words
 * decoded (g_free).  The reader has already cut it to MIME_HEADERS_BYTES;
 * what is kept is cut far shorter anyway.
 */
static char *
mime_field_decode(const struct hdr_field *f)
{
	char *raw = NULL;
	char *unfolded = NULL;
	char *text = NULL;

	raw = g_strndup(f->value, f->value_len);
	unfolded = g_mime_utils_header_unfold(raw);
	g_free(raw);
	/* Plain ASCII without an encoded-word has nothing to decode. */
	if (mime_plain_ascii(unfolded))
		return unfolded;
	text = g_mime_utils_header_decode_text(NULL, unfolded);
	g_free(unfolded);
	return text;
}

static int
mime_add_authres(struct mime_info *info, const char *text,
    struct ti_err *err)
{
	char **grown = NULL;
	char *value = NULL;

	if (mime_value_dup(&value, text, false, err) != 0)
		return -1;
	if (value == NULL)
		return 0;
	grown = realloc(info->authres, (info->n_authres + 1) *
	    sizeof(*grown));
	if (grown == NULL) {
		free(value);
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	}
	info->authres = grown;
	info->authres[info->n_authres++] = value;
	return 0;
}

/* The date in info->date_usec, when GMime can read it. */
static void
mime_set_date(struct mime_info *info, const char *text)
{
	GDateTime *date = NULL;

	date = text != NULL ? g_mime_utils_header_decode_date(text) : NULL;
	if (date == NULL)
		return;
	/* GDateTime covers years 1 to 9999, well inside int64. */
	info->date_usec = (int64_t)g_date_time_to_unix(date) *
	    INT64_C(1000000) + g_date_time_get_microsecond(date);
	info->has_date_usec = true;
	g_date_time_unref(date);
}

/*
 * Keep what a top-level field says: the first of each kind in
 * mime_top_fields (bit i of *seen), and every Authentication-Results.
 */
static int
mime_keep(const struct hdr_field *f, unsigned *seen, struct mime_info *info,
    struct ti_err *err)
{
	char *text = NULL;
	char *id = NULL;
	char **slot = NULL;
	size_t i;
	int rc;

	if (hdr_name_is(f, "Authentication-Results")) {
		text = mime_field_decode(f);
		rc = mime_add_authres(info, text, err);
		g_free(text);
		return rc;
	}
	for (i = 0; i < G_N_ELEMENTS(mime_top_fields) &&
	    !hdr_name_is(f, mime_top_fields[i].name); i++)
		continue;
	if (i == G_N_ELEMENTS(mime_top_fields) || (*seen & (1U << i)) != 0)
		return 0;
	*seen |= 1U << i;
	text = mime_field_decode(f);
	slot = (char **)(void *)((char *)info + mime_top_fields[i].off);
	if (slot == &info->message_id) {
		id = text != NULL ? g_mime_utils_decode_message_id(text) :
		    NULL;
		rc = mime_value_dup(slot, id, false, err);
		g_free(id);
	} else {
		rc = mime_value_dup(slot, text, mime_top_fields[i].empty_is_null,
		    err);
	}
	if (slot == &info->date)
		mime_set_date(info, text);
	g_free(text);
	return rc;
}

int
mime_head_read(const struct ti_bytes *msg, struct mime_info *info,
    GByteArray *gmime, struct ti_err *err)
{
	struct hdr_reader r;
	struct hdr_field f;
	unsigned seen = 0;
	size_t from;

	/* GLib aborts when memory runs out: nothing here returns NULL. */
	g_byte_array_set_size(gmime, 0);
	hdr_init(&r, msg, &mime_hdr_limits);
	while (hdr_next(&r, &f) == HDR_FIELD) {
		if (f.name == NULL || (f.name_len > 8 &&
		    g_ascii_strncasecmp(f.name, "Content-", 8) == 0))
			g_byte_array_append(gmime, (const guint8 *)f.raw,
			    (guint)f.raw_len);
		else if (mime_keep(&f, &seen, info, err) != 0)
			return -1;
	}
	from = hdr_offset(&r);
	g_byte_array_append(gmime, msg->data + from,
	    (guint)(msg->len - from));
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
	return hdr_block_text(msg, &mime_hdr_limits, MIME_HEADERS_BYTES,
	    &info->headers, err);
}

