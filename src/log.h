/*
 * log.h - the only place that writes to syslog or stderr.
 */
#ifndef TI_LOG_H
#define TI_LOG_H

#include <stddef.h>

#include "status.h"

enum log_level {
	LOG_LEVEL_ERR = 0,	/* an operator must act */
	LOG_LEVEL_WARNING,	/* a message was quarantined */
	LOG_LEVEL_INFO,		/* one line per message */
	LOG_LEVEL_DEBUG,	/* -v */
};

/*
 * ident: program name.  use_syslog: log to syslog (LOG_MAIL, LOG_PID)
 * instead of stderr.  max_level: lines above it are dropped.
 */
void log_init(const char *ident, int use_syslog, enum log_level max_level);

/* Context added to every line: queue id and current source (borrowed;
 * pass NULL to clear).  Both are sanitized when logged. */
void log_set_queue_id(const char *queue_id);
void log_set_source(const char *source);
const char *log_get_source(void);
const char *log_get_queue_id(void);

/*
 * With syslog, also write error lines to stderr: under a mail system that
 * is the one line the MTA shows in its log and queue (the reason a
 * message was deferred), even where no syslog daemon listens.
 */
void log_set_errors_to_stderr(int on);

/*
 * Hand every line to fn instead of syslog or stderr (NULL: back to
 * them), for tests: ctx is the queue id and source part ("" without),
 * line the rest.  Lines above the level set by log_init() still go
 * nowhere.
 */
typedef void log_sink_fn(void *arg, enum log_level level, const char *ctx,
    const char *line);
void log_set_sink(log_sink_fn *fn, void *arg);

/* True when lines of this level would be written. */
int log_enabled(enum log_level level);

/* Log functions preserve errno. */
void log_err(const char *fmt, ...) TI_PRINTF(1, 2);
void log_warning(const char *fmt, ...) TI_PRINTF(1, 2);
void log_info(const char *fmt, ...) TI_PRINTF(1, 2);
void log_debug(const char *fmt, ...) TI_PRINTF(1, 2);

/*
 * Copy untrusted text into out (size bytes, at least 8): valid UTF-8 is
 * kept, except that backslash and each byte of no valid character become
 * \xHH and the characters utf8_is_control() names become \xHH (ASCII)
 * or \uHHHH.  At most 256 bytes of input are shown, whole characters and
 * escapes only, and "..." marks a cut.  Returns out; NULL becomes "-".
 */
const char *log_sanitize(const char *in, char *out, size_t size);

#define LOG_SANITIZED_BYTES 1100

#endif
