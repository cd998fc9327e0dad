/*
 * log.c - logging to syslog (facility mail, as mail tools do) or to
 * stderr.  Every line carries the queue id and the source it is about.
 * Untrusted text reaches a log line only through log_sanitize(): valid
 * UTF-8 (utf8.c) stays as it is, except the characters that would hide,
 * reorder or break the line (utf8_is_control), which are escaped like
 * invalid bytes; at most LOG_SANITIZE_IN_BYTES of input are shown.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "utf8.h"

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

/* Input bytes of untrusted text that one log line shows. */
#define LOG_SANITIZE_IN_BYTES 256

/*
 * Write into out the escape of the byte at p (k == 0: it starts no
 * character) or of the character cp it starts: \xHH for a byte or an
 * ASCII character, \uHHHH for the others (all below U+10000).
 */
static size_t
log_escape(const unsigned char *p, size_t k, uint32_t cp, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t v = k == 0 ? p[0] : cp;
	size_t digits = k == 0 || cp < 0x80 ? 2 : 4;
	size_t i;

	out[0] = '\\';
	out[1] = digits == 2 ? 'x' : 'u';
	for (i = 0; i < digits; i++)
		out[2 + i] = hex[(v >> (4 * (digits - 1 - i))) & 0xf];
	return 2 + digits;
}

const char *
log_sanitize(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	char esc[8];
	uint32_t cp = 0;
	size_t len;
	size_t used = 0;
	size_t pos = 0;
	size_t k;
	size_t w;

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
	/* Enough to finish a character that starts within the cut. */
	len = strnlen(in, LOG_SANITIZE_IN_BYTES + 4);
	while (pos < len && pos < LOG_SANITIZE_IN_BYTES) {
		k = utf8_char_len(p + pos, len - pos, &cp);
		if (k == 0 || utf8_is_control(cp) || cp == '\\') {
			w = log_escape(p + pos, k, cp, esc);
			k = k == 0 ? 1 : k;
		} else {
			w = k;
			memcpy(esc, p + pos, k);
		}
		/* Room stays for "..." and the NUL. */
		if (used + w >= size - 4)
			break;
		memcpy(out + used, esc, w);
		used += w;
		pos += k;
	}
	if (pos < len) {
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
