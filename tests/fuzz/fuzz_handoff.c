/*
 * fuzz_handoff.c - libFuzzer target for the hand-off's wire format
 * (handoff.c): a request header as the server reads it, and a reply as
 * pipe mode reads it.
 *
 * The input is split at its first '\n': the request line before it, the
 * reply line after it (a NUL byte ends either early, as it would in the
 * C string the parsers get).  Whatever parses must come out of the
 * formatter as the same line: there is one way to write each request
 * and reply, so the two sides cannot disagree about one.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "handoff.h"

static void
fuzz_request(const char *line)
{
	char out[HANDOFF_HEADER_BYTES];
	struct handoff_request req;
	struct ti_err err;
	size_t n;

	ti_err_clear(&err);
	if (handoff_parse_request(line, &req, &err) != 0) {
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_DATA),
		    "handoff_parse_request");
		return;
	}
	fuzz_check(strlen(req.queue_id) <= HANDOFF_QUEUE_ID_BYTES,
	    "handoff_parse_request: queue id too long");
	n = handoff_format_request(out, sizeof(out), req.len, req.truncated,
	    req.queue_id);
	fuzz_check(n > 0 && out[n - 1] == '\n', "handoff_format_request");
	out[n - 1] = '\0';
	fuzz_check(strcmp(out, line) == 0,
	    "handoff_format_request: another line");
}

static void
fuzz_reply(const char *line)
{
	char out[HANDOFF_REPLY_BYTES];
	struct run_outcome ans;
	struct ti_err err;
	size_t n;

	ti_err_clear(&err);
	if (handoff_parse_reply(line, &ans, &err) != 0) {
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_DATA),
		    "handoff_parse_reply");
		fuzz_check(ans.outcome == JOB_NONE,
		    "handoff_parse_reply: an outcome from a bad line");
		return;
	}
	n = handoff_format_reply(out, sizeof(out), &ans);
	fuzz_check(n > 0 && out[n - 1] == '\n', "handoff_format_reply");
	out[n - 1] = '\0';
	fuzz_check(strcmp(out, line) == 0,
	    "handoff_format_reply: another line");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = NULL;
	char *nl = NULL;

	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	nl = memchr(text, '\n', size);
	if (nl != NULL)
		*nl = '\0';
	fuzz_request(text);
	fuzz_reply(nl != NULL ? nl + 1 : "");
	free(text);
	return 0;
}
