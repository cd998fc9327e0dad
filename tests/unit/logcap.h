/*
 * logcap.h - a capturing log sink for the unit tests.  Every line logged
 * is kept (level, context, text); a test claims each line it expects with
 * logcap_expect(), and logcap_check() fails it on any error or warning
 * line it did not claim.  Include after testutil.h.
 *
 * Patterns: '*' matches any run of characters, '#' one or more digits
 * (for "ms=#"); every other character matches itself.
 */
#ifndef TI_LOGCAP_H
#define TI_LOGCAP_H

#include <stdbool.h>

#include "log.h"

#define LOGCAP_LINES 256

struct logcap_line {
	enum log_level level;
	char ctx[512];
	char line[2048];
	bool claimed;
};

static struct {
	struct logcap_line l[LOGCAP_LINES];
	size_t n;
	size_t calls;		/* sink calls, kept or not */
} logcap;

static inline void
logcap_sink(void *arg, enum log_level level, const char *ctx,
    const char *line)
{
	struct logcap_line *l = NULL;

	(void)arg;
	logcap.calls++;
	if (logcap.n == LOGCAP_LINES) {
		/* Lines past the last slot must not hide an error. */
		if (level <= LOG_LEVEL_WARNING)
			fail_msg("log capture full at: %s", line);
		return;
	}
	l = &logcap.l[logcap.n++];
	l->level = level;
	l->claimed = false;
	(void)snprintf(l->ctx, sizeof(l->ctx), "%s", ctx);
	(void)snprintf(l->line, sizeof(l->line), "%s", line);
}

/* Forget every line; keep capturing. */
static inline void
logcap_reset(void)
{
	memset(&logcap, 0, sizeof(logcap));
}

/* Capture every line up to max_level, with no queue id or source set. */
static inline void
logcap_start(enum log_level max_level)
{
	logcap_reset();
	log_init("test", 0, max_level);
	log_set_queue_id(NULL);
	log_set_source(NULL);
	log_set_sink(logcap_sink, NULL);
}

static inline void
logcap_stop(void)
{
	log_set_sink(NULL, NULL);
	log_set_queue_id(NULL);
	log_set_source(NULL);
}

static inline bool
logcap_match(const char *pat, const char *s)
{
	for (; *pat != '\0'; pat++, s++) {
		if (*pat == '*') {
			for (;; s++) {
				if (logcap_match(pat + 1, s))
					return true;
				if (*s == '\0')
					return false;
			}
		}
		if (*pat == '#') {
			if (*s < '0' || *s > '9')
				return false;
			while (s[1] >= '0' && s[1] <= '9') {
				if (logcap_match(pat + 1, s + 1))
					return true;
				s++;
			}
			continue;
		}
		if (*pat != *s)
			return false;
	}
	return *s == '\0';
}

static inline void
logcap_dump(void)
{
	static const char *name[] = { "err", "warning", "info", "debug" };
	size_t i;

	for (i = 0; i < logcap.n; i++)
		print_message("  [%s]%s %s%s\n", name[logcap.l[i].level],
		    logcap.l[i].claimed ? " (claimed)" : "", logcap.l[i].ctx,
		    logcap.l[i].line);
}

/*
 * Claim the first unclaimed line of this level whose text matches pat
 * (and whose context matches ctx, unless NULL); fail the test naming
 * what when there is none.  Returns the line.
 */
static inline const struct logcap_line *
logcap_expect(const char *what, enum log_level level, const char *ctx,
    const char *pat)
{
	struct logcap_line *l = NULL;
	size_t i;

	for (i = 0; i < logcap.n; i++) {
		l = &logcap.l[i];
		if (!l->claimed && l->level == level &&
		    logcap_match(pat, l->line) &&
		    (ctx == NULL || logcap_match(ctx, l->ctx))) {
			l->claimed = true;
			return l;
		}
	}
	logcap_dump();
	fail_msg("%s: no log line of level %d like \"%s\"", what, (int)level,
	    pat);
	return NULL;
}

/* Lines of a level, claimed or not. */
static inline size_t
logcap_count(enum log_level level)
{
	size_t i, n = 0;

	for (i = 0; i < logcap.n; i++) {
		if (logcap.l[i].level == level)
			n++;
	}
	return n;
}

/* Fail on any error or warning line the test did not claim. */
static inline void
logcap_check(const char *what)
{
	size_t i;

	for (i = 0; i < logcap.n; i++) {
		if (logcap.l[i].level <= LOG_LEVEL_WARNING &&
		    !logcap.l[i].claimed) {
			logcap_dump();
			fail_msg("%s: undeclared log line: %s%s", what,
			    logcap.l[i].ctx, logcap.l[i].line);
		}
	}
}

#endif
