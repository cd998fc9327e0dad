/*
 * log.c - logging to syslog (facility mail, as mail tools do) or to
 * stderr.  Every line carries the queue id and the source it is about.
 * Untrusted text reaches a log line only through log_sanitize().
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char *log_ident = "tlsrpt-ingest";
static int log_syslog;
static enum log_level log_max = LOG_LEVEL_INFO;
static const char *log_queue_id;
static const char *log_source;
static int log_errors_to_stderr;
static log_sink_fn *log_sink;
static void *log_sink_arg;

void
log_set_errors_to_stderr(int on)
{
	log_errors_to_stderr = on;
}

void
log_set_sink(log_sink_fn *fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

void
log_init(const char *ident, int use_syslog, enum log_level max_level)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_max = max_level;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_queue_id(const char *queue_id)
{
	log_queue_id = queue_id;
}

const char *
log_get_queue_id(void)
{
	return log_queue_id;
}

void
log_set_source(const char *source)
{
	log_source = source;
}

const char *
log_get_source(void)
{
	return log_source;
}

int
log_enabled(enum log_level level)
{
	return level <= log_max;
}

const char *
log_sanitize(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t used = 0;
	size_t taken = 0;
	size_t n;

	if (size < 8) {
		if (size > 0)
			out[0] = '\0';
		return out;
	}
	if (in == NULL) {
		out[0] = '-';
		out[1] = '\0';
		return out;
	}
	while (*p != '\0' && taken < 256) {
		n = 1;
		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			if (used + 1 >= size - 4)
				break;
			out[used++] = (char)*p;
		} else if (*p >= 0xc2 && *p <= 0xf4) {
			/* Keep a well-formed UTF-8 sequence as it is. */
			size_t want = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
			size_t i;

			for (i = 1; i < want; i++) {
				if ((p[i] & 0xc0) != 0x80)
					break;
			}
			if (i == want) {
				if (used + want >= size - 4)
					break;
				memcpy(out + used, p, want);
				used += want;
				n = want;
			} else {
				if (used + 4 >= size - 4)
					break;
				(void)snprintf(out + used, 5, "\\x%02x", *p);
				used += 4;
			}
		} else {
			if (used + 4 >= size - 4)
				break;
			(void)snprintf(out + used, 5, "\\x%02x", *p);
			used += 4;
		}
		p += n;
		taken += n;
	}
	if (*p != '\0') {
		memcpy(out + used, "...", 3);
		used += 3;
	}
	out[used] = '\0';
	return out;
}

static void log_vwrite(enum log_level level, const char *fmt, va_list ap)
    TI_PRINTF(2, 0);

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
	    LOG_DEBUG };
	static const char *name[] = { "error", "warning", "info", "debug" };
	char line[2048];
	char qid[LOG_SANITIZED_BYTES];
	char src[LOG_SANITIZED_BYTES];
	char ctx[2 * LOG_SANITIZED_BYTES + 16];
	int saved = errno;

	if (level > log_max) {
		errno = saved;
		return;
	}
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	ctx[0] = '\0';
	if (log_queue_id != NULL || log_source != NULL) {
		(void)snprintf(ctx, sizeof(ctx), "%s%s%s%s: ",
		    log_queue_id != NULL ?
		    log_sanitize(log_queue_id, qid, sizeof(qid)) : "",
		    log_queue_id != NULL && log_source != NULL ? " " : "",
		    log_source != NULL ? "source=" : "",
		    log_source != NULL ?
		    log_sanitize(log_source, src, sizeof(src)) : "");
	}
	if (log_sink != NULL) {
		log_sink(log_sink_arg, level, ctx, line);
		errno = saved;
		return;
	}
	if (log_syslog)
		syslog(prio[level], "%s%s", ctx, line);
	if (log_syslog && log_errors_to_stderr && level == LOG_LEVEL_ERR)
		(void)fprintf(stderr, "%s: %s\n", log_ident, line);
	else if (!log_syslog)
		(void)fprintf(stderr, "%s: %s: %s%s\n", log_ident,
		    name[level], ctx, line);
	errno = saved;
}

#define LOG_FN(fn, level) \
	void \
	fn(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		log_vwrite(level, fmt, ap); \
		va_end(ap); \
	}

LOG_FN(log_err, LOG_LEVEL_ERR)
LOG_FN(log_warning, LOG_LEVEL_WARNING)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
