/*
 * config.h - the program's settings: one declarative table of keys
 * (name, type, default, minimum, hard maximum), read from a file of
 * "key = value" lines and from -o key=value on the command line.
 */
#ifndef TI_CONFIG_H
#define TI_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "ti_limits.h"
#include "status.h"

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/tlsrpt-ingest.conf"

struct config {
	char *db;		/* libpq conninfo: a secret, never logged */
	char *authserv_id;	/* NULL: the topmost Authentication-Results */
	char *socket_path;	/* the server pipe mode hands messages to */
	char *http_listen;	/* the server's HTTP [ADDR:]PORT, or NULL */
	char *http_path;	/* the one path reports are posted to; NULL:
				 * any */
	char *http_proxies;	/* trusted proxies; NULL: loopback */
	char *http_tls_certificate;	/* PEM files: HTTPS in the server; */
	char *http_tls_key;		/* both or neither (http.c) */
	unsigned http_rejects_per_hour;	/* kept aside per client */
	unsigned http_connections;
	unsigned http_client_connections;
	unsigned http_timeout_seconds;	/* an idle HTTP connection */
	bool require_dkim;
	bool bounce_malformed;
	unsigned connect_timeout_seconds;
	unsigned statement_timeout_seconds;
	struct ti_limits lim;
};

/* Every key at its default (strings NULL).  Returns 0. */
int config_init(struct config *cfg, struct ti_err *err) TI_MUST_CHECK;

/* Release what cfg owns (the conninfo is wiped first). */
void config_clear(struct config *cfg);

/*
 * Set key to value (text as in the file).  CONFIG errors: unknown key,
 * a value that does not parse, is below the minimum or above the hard
 * maximum.  Sizes take K, M and G suffixes (powers of 1024).
 */
int config_set(struct config *cfg, const char *key, const char *value,
    struct ti_err *err) TI_MUST_CHECK;

/* Parse "key=value" (as given to -o). */
int config_set_pair(struct config *cfg, const char *pair,
    struct ti_err *err) TI_MUST_CHECK;

/*
 * Read a file of "key = value" lines ('#' starts a comment).  A missing
 * file is an error only when must_exist.  Errors name the file and line.
 */
int config_load(struct config *cfg, const char *path, bool must_exist,
    struct ti_err *err) TI_MUST_CHECK;

/* Write every key with its current value (secrets masked) to fp. */
void config_dump(const struct config *cfg, FILE *fp);

/* The number of keys and the i-th key's name, for documentation checks. */
size_t config_key_count(void);
const char *config_key_name(size_t i);

#endif
