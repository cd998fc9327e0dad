/*
 * status.c - error records, the kind-to-sysexits table and the ranking
 * of every exit code the program uses.
 * Trusts nothing about message text: it is cut to TI_ERR_MSG_BYTES.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "status.h"

static const struct {
	enum ti_kind kind;
	const char *name;
	int code;		/* for a person at a terminal */
	int code_mta;		/* when a mail system runs us */
} kinds[] = {
	{ TI_KIND_NONE, "ok", EX_OK, EX_OK },
	{ TI_KIND_TEMP, "temporary", EX_TEMPFAIL, EX_TEMPFAIL },
	{ TI_KIND_DATA, "data", EX_DATAERR, EX_DATAERR },
	{ TI_KIND_CONFIG, "config", EX_TEMPFAIL, EX_TEMPFAIL },
	{ TI_KIND_INTERNAL, "internal", EX_SOFTWARE, EX_TEMPFAIL },
	{ TI_KIND_USAGE, "usage", EX_USAGE, EX_TEMPFAIL },
	{ TI_KIND_IO, "io", EX_IOERR, EX_TEMPFAIL },
};

/*
 * Every code the program exits with, from the least to the most urgent:
 * when a run meets several, it exits with the last of them.  75 ranks
 * highest: whatever else went wrong, some message is left to retry.
 */
static const int exits[] = {
	EX_OK,
	EX_DATAERR,
	EX_USAGE,
	EX_CONFIG,
	EX_IOERR,
	EX_SOFTWARE,
	EX_OSERR,
	EX_TEMPFAIL,
};

void
ti_err_clear(struct ti_err *err)
{
	if (err == NULL)
		return;
	err->kind = TI_KIND_NONE;
	err->msg[0] = '\0';
}

int
ti_err_set(struct ti_err *err, enum ti_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->kind = kind;
	va_start(ap, fmt);
	/* Truncation is acceptable here: the message is for people. */
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
ti_err_prefix(struct ti_err *err, const char *fmt, ...)
{
	char line[2 * TI_ERR_MSG_BYTES + 2];
	size_t n;
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(line, TI_ERR_MSG_BYTES, fmt, ap);
	va_end(ap);
	n = strlen(line);
	memcpy(line + n, ": ", 2);
	memcpy(line + n + 2, err->msg, strnlen(err->msg, TI_ERR_MSG_BYTES - 1));
	line[n + 2 + strnlen(err->msg, TI_ERR_MSG_BYTES - 1)] = '\0';
	/* The message is for people: cutting it is acceptable. */
	memcpy(err->msg, line, TI_ERR_MSG_BYTES - 1);
	err->msg[TI_ERR_MSG_BYTES - 1] = '\0';
	return -1;
}

int
ti_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (ret < 0 || (size_t)ret >= size)
		return -1;
	return 0;
}

const char *
ti_kind_name(enum ti_kind kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (kinds[i].kind == kind)
			return kinds[i].name;
	}
	return "unknown";
}

int
ti_kind_exit(enum ti_kind kind, int under_mta)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (kinds[i].kind == kind)
			return under_mta ? kinds[i].code_mta : kinds[i].code;
	}
	return EX_TEMPFAIL;
}

/* A code's place in exits[]; a code not listed ranks as EX_SOFTWARE. */
static size_t
ti_exit_rank(int code)
{
	size_t i;

	for (i = 0; i < sizeof(exits) / sizeof(exits[0]); i++) {
		if (exits[i] == code)
			return i;
	}
	return ti_exit_rank(EX_SOFTWARE);
}

int
ti_exit_worse(int a, int b)
{
	return ti_exit_rank(b) > ti_exit_rank(a) ? b : a;
}
