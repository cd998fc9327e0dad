/*
 * report_load.c - stage 4, the text: a report's JSON text to a jansson
 * tree, within the limits.
 *
 * Trust: the text is hostile.  A byte order mark and leading white space
 * are skipped; report_scan.c then refuses nesting deeper than
 * lim->json_depth and more values than a report within the limits can
 * hold, so hostile shapes never reach the parser.  jansson parses with an
 * explicit length and JSON_REJECT_DUPLICATES; it also refuses invalid
 * UTF-8, \u0000 and integers beyond int64_t.  Its error, which may quote
 * the input, becomes one printable line.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "report_load.h"
#include "report_scan.h"
#include "utf8.h"

/* jansson's message, which may quote input, as one printable line. */
static void
rp_jansson_error(const json_error_t *jerr, size_t skipped_lines,
    size_t skipped_cols, struct ti_err *err)
{
	char text[JSON_ERROR_TEXT_LENGTH];
	size_t i, n;
	long line = jerr->line;
	long col = jerr->column;

	n = strnlen(jerr->text, sizeof(text) - 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)jerr->text[i];

		text[i] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
	}
	text[n] = '\0';
	/* Put back what we stripped, so the position matches the input. */
	if (line == 1 && col >= 0)
		col += (long)skipped_cols;
	if (line >= 1)
		line += (long)skipped_lines;
	ti_err_set(err, TI_KIND_DATA, "invalid JSON at line %ld column %ld: %s",
	    line, col, text);
}

/*
 * Skip a UTF-8 byte order mark and leading white space, which jansson
 * refuses or miscounts; *lines_r and *cols_r say how far the text moved.
 */
static void
rp_skip_lead(const unsigned char **p, size_t *len, size_t *lines_r,
    size_t *cols_r)
{
	size_t bom;

	*lines_r = 0;
	*cols_r = 0;
	if ((bom = utf8_bom_len(*p, *len)) > 0) {
		*p += bom;
		*len -= bom;
		*cols_r = 1;	/* jansson counts characters */
	}
	while (*len > 0 && (**p == ' ' || **p == '\t' || **p == '\r' ||
	    **p == '\n')) {
		if (**p == '\n') {
			(*lines_r)++;
			*cols_r = 0;
		} else {
			(*cols_r)++;
		}
		(*p)++;
		(*len)--;
	}
}

/*
 * jansson's memory from report_load() to report_unload(): the whole
 * tree is thrown away then, so its nodes come from an arena emptied
 * then, and jansson's frees in between cost nothing.  Outside them
 * (--json output) jansson gets malloc and free.  Parsing takes 6% more
 * instructions without it.
 */
static struct buf_arena *rp_json_arena;
static bool rp_json_in_arena;

static void *
rp_json_malloc(size_t n)
{
	if (!rp_json_in_arena)
		return malloc(n);
	return buf_arena_alloc(rp_json_arena, n);
}

static void
rp_json_free(void *p)
{
	if (!rp_json_in_arena)
		free(p);
}

/* Have jansson take its memory from rp_json_arena until rp_json_done. */
static void
rp_json_begin(void)
{
	struct ti_err err;

	if (rp_json_arena == NULL)
		rp_json_arena = buf_arena_new(64 * 1024, &err);
	json_set_alloc_funcs(rp_json_malloc, rp_json_free);
	rp_json_in_arena = rp_json_arena != NULL;
}

static void
rp_json_done(void)
{
	rp_json_in_arena = false;
	if (rp_json_arena != NULL)
		buf_arena_reset(rp_json_arena);
}

json_t *
report_load(const struct ti_bytes *json, const struct ti_limits *lim,
    struct ti_err *err)
{
	/* jansson refuses a NULL buffer even when it is empty. */
	const unsigned char *p = json->data != NULL ? json->data :
	    (const unsigned char *)"";
	size_t len = json->len;
	json_t *root = NULL;
	json_error_t jerr;
	size_t lines, cols;

	rp_json_begin();
	rp_skip_lead(&p, &len, &lines, &cols);
	if (report_scan(p, len, lim, err) != 0)
		return NULL;
	root = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (root == NULL) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			ti_err_set(err, TI_KIND_TEMP, "out of memory");
		else
			rp_jansson_error(&jerr, lines, cols, err);
		rp_json_done();
	}
	return root;
}

void
report_unload(json_t *root)
{
	json_decref(root);
	rp_json_done();
}

