/*
 * mime.c - stage 2: find the TLS-RPT report part in a message (GMime 3).
 *
 * Trust: the message is hostile.  mimescan.c first bounds what GMime may
 * build of it.  The top-level header block is read by mime_head.c; GMime
 * gets only its Content-* fields (and lines that are no field) and the
 * body, and parses them from memory.  Our walk of its tree bounds nesting
 * (lim->mime_depth) and parts (lim->mime_parts) exactly.  The chosen part
 * is decoded into a buffer bounded by lim->message_bytes.  Every string
 * handed out is cleaned as mime_value_dup() says.
 *
 * Which part is the report: the first part in tree order whose type is
 * application/tlsrpt+gzip, application/tlsrpt+json or application/tlsrpt.
 * Failing that, the first part of a generic type (gzip, zip, json,
 * octet-stream) that inflate_is_report() accepts by its file name or its
 * decoded bytes.
 *
 * GMime and GLib types stay in this file and mime_head.c.  GLib aborts
 * the process when memory runs out; our own allocations fail with TEMP.
 */
#include "autoconf.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "inflate.h"
#include "mime.h"
#include "mime_head.h"
#include "mimescan.h"

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

/* GMime cannot be initialised again once it has been shut down. */
static enum {
	MIME_STATE_NEW = 0,
	MIME_STATE_UP,
	MIME_STATE_DOWN,
} mime_state;

/*
 * One parser, reading one memory stream over one array (the message as
 * GMime is given it), serves every message in turn.  Made for each
 * message, the parser and the array were two blocks of some kilobytes;
 * after each, glibc's malloc merged its small free blocks, and the
 * hundreds GMime takes next came the slow way (5 % of a dry run's time).
 * mime_head_read() empties the array for each message; one grown past
 * MIME_BYTES_KEEP is let go after its message.
 */
static GMimeParser *mime_parser;
static GMimeStream *mime_stream;
static GByteArray *mime_bytes;
#define MIME_BYTES_KEEP ((guint)1 << 20)

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
	mime_stream = g_mime_stream_mem_new();
	mime_parser = g_mime_parser_new();
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
	g_mime_shutdown();
	mime_state = MIME_STATE_DOWN;
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

/* The part's file names: name=, filename= and Content-Description. */
static void
mime_part_names(GMimePart *part, const char *names[3])
{
	GMimeObject *obj = GMIME_OBJECT(part);

	names[0] = g_mime_object_get_content_type_parameter(obj, "name");
	names[1] = g_mime_object_get_content_disposition_parameter(obj,
	    "filename");
	names[2] = g_mime_part_get_content_description(part);
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
 * encoded bytes are read in chunks and decoded a chunk at a time.
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
	char plain[2 * sizeof(chunk)];
	ssize_t got;
	size_t n;
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
			/* Decoding makes at most what it reads, and a few
			 * bytes kept from the chunk before. */
			if (g_mime_encoding_outlen(&enc, (size_t)got) >
			    sizeof(plain)) {
				ti_err_set(err, TI_KIND_INTERNAL,
				    "mime_decode: output chunk too small");
				goto out;
			}
			n = g_mime_encoding_step(&enc, chunk, (size_t)got,
			    plain);
			if (buf_append(b, plain, n, err) != 0) {
				if (err->kind == TI_KIND_DATA)
					ti_err_set(err, TI_KIND_DATA, "report "
					    "part larger than %zu bytes", max);
				goto out;
			}
		}
		if (got < 0)
			goto bad;
	}
	/* Even an empty part gets its buffer and terminating NUL. */
	if (buf_append(b, "", 0, err) != 0)
		goto out;
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
	const char *names[3];
	struct buf *b = NULL;
	struct ti_bytes v;
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
		mime_part_names(w->cands[i].part, names);
		v = buf_bytes(b);
		if (inflate_is_report(&v, names, 3)) {
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
	const char *names[3];
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
		rc = mime_value_dup(&info->part_type, joined, true, err);
		g_free(joined);
		if (rc != 0)
			return -1;
		for (i = 0; info->part_type != NULL &&
		    info->part_type[i] != '\0'; i++)
			info->part_type[i] =
			    g_ascii_tolower(info->part_type[i]);
	}
	mime_part_names(part, names);
	for (i = 0; i < 3 && info->part_filename == NULL; i++) {
		if (mime_value_dup(&info->part_filename, names[i], true, err) != 0)
			return -1;
	}
	return 0;
}

/* GMime's tree of what mime_head_read put in mime_bytes, or NULL. */
static GMimeObject *
mime_parse(void)
{
	/* The stream reads the array from its start; it does not own it. */
	g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(mime_stream),
	    mime_bytes);
	g_mime_parser_init_with_stream(mime_parser, mime_stream);
	g_mime_parser_set_format(mime_parser, GMIME_FORMAT_MESSAGE);
	return g_mime_parser_construct_part(mime_parser, NULL);
}

int
mime_extract(const struct ti_bytes *msg, const struct ti_limits *lim,
    struct mime_info *info, struct buf **part_r, struct ti_err *err)
{
	struct mime_walk w;
	GMimeObject *body = NULL;
	GMimeMessage *holder = NULL;
	GMimePart *chosen = NULL;
	struct buf *part = NULL;
	int rc = -1;

	memset(&w, 0, sizeof(w));
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
	if (mime_head_read(msg, info, mime_bytes, err) != 0 ||
	    mimescan_check(msg, lim, NULL, err) != 0)
		goto out;
	body = mime_parse();
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
	if (buf_bytes(part).len == 0) {
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
	    mime_value_dup(&info->report_domain, g_mime_object_get_header(
	    GMIME_OBJECT(holder), "TLS-Report-Domain"), true, err) != 0)
		goto out;
	if (holder != NULL && info->report_submitter == NULL &&
	    mime_value_dup(&info->report_submitter, g_mime_object_get_header(
	    GMIME_OBJECT(holder), "TLS-Report-Submitter"), true, err) != 0)
		goto out;
	*part_r = part;
	part = NULL;
	rc = 0;
out:
	buf_free(&part);
	free(w.cands);
	g_clear_object(&body);
	if (mime_bytes->len > MIME_BYTES_KEEP) {
		g_byte_array_unref(mime_bytes);
		mime_bytes = g_byte_array_new();
		g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(mime_stream),
		    mime_bytes);
	}
	return rc;
}
