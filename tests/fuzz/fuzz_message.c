/*
 * fuzz_message.c - libFuzzer target for the whole message-to-report path.
 *
 * The input is one message (or bare report file) as an MTA would hand it
 * over.  It goes through job_run() as a dry run (no database) with the
 * default configuration: MIME, decompression, JSON validation and the
 * DKIM verdict.  Every input is hostile; besides what the sanitizers
 * catch, the target checks the contract of job_run(): a dry run ends
 * VALID (no reason) or INVALID (with a reason), and fails only with
 * TEMP (memory).  A valid report must also be written out as JSON.
 *
 * Peak memory: the process's peak RSS is reset before each input
 * (/proc/self/clear_refs) and read after it (VmHWM); growing more than
 * FUZZ_PEAK_PER_BYTE times the input plus FUZZ_PEAK_BASE_BYTES is a
 * failure, so that a shape that makes GMime (or any stage) build far more
 * than it reads is reported as a crash.  The decompressed report is
 * capped at FUZZ_INFLATED_BYTES, so that the JSON stage's share stays
 * within the base; without /proc the check is skipped.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "fuzzutil.h"
#include "job.h"
#include "mime.h"
#include "status.h"

/* The normalized JSON may be larger than its input (escapes). */
#define FUZZ_JSON_MAX_BYTES ((size_t)256 * 1024 * 1024)
/* Peak RSS growth allowed for one input: sanitizers included. */
#define FUZZ_PEAK_PER_BYTE 32
#define FUZZ_PEAK_BASE_BYTES ((size_t)96 * 1024 * 1024)
#define FUZZ_INFLATED_BYTES ((size_t)1024 * 1024)

/* The value of "key: N kB" in /proc/self/status in bytes, or 0. */
static size_t
fuzz_status_bytes(const char *key)
{
	char line[256];
	size_t len = strlen(key);
	unsigned long long kb = 0;
	FILE *fp = NULL;

	fp = fopen("/proc/self/status", "r");
	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, key, len) == 0 && line[len] == ':' &&
		    sscanf(line + len + 1, "%llu", &kb) == 1)
			break;
	}
	fclose(fp);
	return (size_t)kb * 1024;
}

/* Reset the peak RSS to the current RSS; false where Linux cannot. */
static bool
fuzz_peak_reset(void)
{
	FILE *fp = NULL;
	bool ok;

	fp = fopen("/proc/self/clear_refs", "w");
	if (fp == NULL)
		return false;
	ok = fputs("5", fp) >= 0;
	ok = fclose(fp) == 0 && ok;
	return ok;
}

/* Abort when the peak since fuzz_peak_reset grew past the bound. */
static void
fuzz_peak_check(size_t start, size_t size)
{
	char detail[128];
	size_t peak = fuzz_status_bytes("VmHWM");
	size_t bound = FUZZ_PEAK_PER_BYTE * size + FUZZ_PEAK_BASE_BYTES;

	if (start == 0 || peak <= start || peak - start <= bound)
		return;
	snprintf(detail, sizeof(detail), "%zu bytes of input, peak RSS grew "
	    "by %zu KiB, bound %zu KiB", size, (peak - start) / 1024,
	    bound / 1024);
	fuzz_fail("peak memory", detail);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mime_init();
	return 0;
}

static void
fuzz_valid(const struct job *job)
{
	struct buf *out = NULL;
	struct ti_bytes v;
	struct ti_err err;

	ti_err_clear(&err);
	fuzz_check(job_reason(job)[0] == '\0', "valid with a reason");
	fuzz_check(job_organization(job) != NULL, "valid without org");
	fuzz_check(job_report_id(job) != NULL, "valid without report id");
	out = fuzz_buf(NULL, 0, FUZZ_JSON_MAX_BYTES);
	if (job_report_json(job, out, &err) != 0) {
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_TEMP) |
		    FUZZ_KIND(TI_KIND_DATA), "job_report_json");
	} else {
		v = buf_bytes(out);
		fuzz_check(v.len > 0 && v.data[0] == '{',
		    "job_report_json: not an object");
	}
	fuzz_check_buf(out, "job_report_json: buffer");
	buf_free(&out);
}

/* The header block kept with a rejected message, read apart from the rest. */
static void
fuzz_headers(const uint8_t *data, size_t size)
{
	struct mime_info info;
	struct ti_bytes in = { data, size };
	struct ti_err err;

	memset(&info, 0, sizeof(info));
	ti_err_clear(&err);
	if (mime_headers(&in, &info, &err) != 0)
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_TEMP), "mime_headers");
	else if (info.headers != NULL)
		fuzz_check(info.headers[0] != '\0', "mime_headers: empty text");
	mime_info_clear(&info);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct job *job = NULL;
	struct buf *in = NULL;
	struct ti_err err;
	enum job_outcome got;
	size_t start = 0;
	int rc;

	if (fuzz_peak_reset())
		start = fuzz_status_bytes("VmRSS");
	ti_err_clear(&err);
	memset(&cfg, 0, sizeof(cfg));
	if (config_init(&cfg, &err) != 0)
		fuzz_fail("config_init", err.msg);
	cfg.lim.inflated_bytes = FUZZ_INFLATED_BYTES;
	job = job_new(&err);
	if (job == NULL)
		fuzz_fail("job_new", err.msg);
	fuzz_headers(data, size);
	in = fuzz_buf(data, size, cfg.lim.message_bytes);
	job_set_input(job, &in, false);
	fuzz_check(in == NULL, "job_set_input kept the caller's pointer");

	rc = job_run(job, NULL, &cfg, &err);
	if (rc != 0) {
		fuzz_check(rc == -1, "job_run: not 0 or -1");
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_TEMP), "job_run");
		goto out;
	}
	got = job_outcome(job);
	if (got == JOB_VALID)
		fuzz_valid(job);
	else if (got == JOB_INVALID)
		fuzz_check(job_reason(job)[0] != '\0', "invalid, no reason");
	else
		fuzz_fail("job_run: outcome of a dry run", job_reason(job));
out:
	job_free(&job);
	fuzz_check(job == NULL, "job_free left the pointer");
	config_clear(&cfg);
	fuzz_peak_check(start, size);
	return 0;
}
