/*
 * config.c - settings from one declarative table.  The configuration
 * file is trusted as far as its owner is, but still parsed strictly:
 * unknown keys and out-of-range values are errors, and no limit may be
 * raised past its hard maximum in ti_limits.h.
 */
#include "autoconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "config.h"

enum config_type {
	CONFIG_STRING,
	CONFIG_BOOL,
	CONFIG_SIZE,		/* size_t, bytes or a count; K/M/G suffixes */
	CONFIG_UINT,		/* unsigned, e.g. seconds */
};

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	uintmax_t def;		/* default; a string's is always NULL */
	uintmax_t min;
	uintmax_t max;		/* the hard maximum */
	bool secret;
};

#define LIM(field) (offsetof(struct config, lim) + \
	offsetof(struct ti_limits, field))

/* Limits take their default and hard maximum from ti_limits.h. */
static const struct config_key config_keys[] = {
	{ "authserv_id", CONFIG_STRING, offsetof(struct config, authserv_id),
	    0, 0, 0, false },
	{ "bounce_malformed", CONFIG_BOOL,
	    offsetof(struct config, bounce_malformed), 0, 0, 1, false },
	{ "connect_timeout", CONFIG_UINT,
	    offsetof(struct config, connect_timeout_seconds), 10, 1, 600,
	    false },
	{ "db", CONFIG_STRING, offsetof(struct config, db), 0, 0, 0, true },
	{ "http", CONFIG_STRING, offsetof(struct config, http_listen), 0, 0,
	    0, false },
	{ "http_client_connections", CONFIG_UINT,
	    offsetof(struct config, http_client_connections), 16, 1, 10000,
	    false },
	{ "http_connections", CONFIG_UINT,
	    offsetof(struct config, http_connections), 64, 1, 10000, false },
	{ "http_path", CONFIG_STRING, offsetof(struct config, http_path), 0,
	    0, 0, false },
	{ "http_rejects_per_hour", CONFIG_UINT,
	    offsetof(struct config, http_rejects_per_hour), 100, 0, 1000000,
	    false },
	{ "http_timeout", CONFIG_UINT,
	    offsetof(struct config, http_timeout_seconds), 30, 1, 3600,
	    false },
	{ "http_tls_certificate", CONFIG_STRING,
	    offsetof(struct config, http_tls_certificate), 0, 0, 0, false },
	{ "http_tls_key", CONFIG_STRING, offsetof(struct config, http_tls_key),
	    0, 0, 0, false },
	{ "http_trusted_proxies", CONFIG_STRING,
	    offsetof(struct config, http_proxies), 0, 0, 0, false },
	{ "max_failure_details", CONFIG_SIZE, LIM(failure_details),
	    TI_DEFAULT_FAILURE_DETAILS, 1, TI_HARD_FAILURE_DETAILS, false },
	{ "max_inflated_size", CONFIG_SIZE, LIM(inflated_bytes),
	    TI_DEFAULT_INFLATED_BYTES, 1024, TI_HARD_INFLATED_BYTES, false },
	{ "max_json_depth", CONFIG_SIZE, LIM(json_depth),
	    TI_DEFAULT_JSON_DEPTH, 8, TI_HARD_JSON_DEPTH, false },
	{ "max_message_size", CONFIG_SIZE, LIM(message_bytes),
	    TI_DEFAULT_MESSAGE_BYTES, 1024, TI_HARD_MESSAGE_BYTES, false },
	{ "max_mime_depth", CONFIG_SIZE, LIM(mime_depth),
	    TI_DEFAULT_MIME_DEPTH, 1, TI_HARD_MIME_DEPTH, false },
	{ "max_mime_parts", CONFIG_SIZE, LIM(mime_parts),
	    TI_DEFAULT_MIME_PARTS, 1, TI_HARD_MIME_PARTS, false },
	{ "max_policies", CONFIG_SIZE, LIM(policies), TI_DEFAULT_POLICIES, 1,
	    TI_HARD_POLICIES, false },
	{ "max_policy_strings", CONFIG_SIZE, LIM(policy_strings),
	    TI_DEFAULT_POLICY_STRINGS, 1, TI_HARD_POLICY_STRINGS, false },
	{ "max_string_size", CONFIG_SIZE, LIM(string_bytes),
	    TI_DEFAULT_STRING_BYTES, 64, TI_HARD_STRING_BYTES, false },
	{ "require_dkim", CONFIG_BOOL, offsetof(struct config, require_dkim),
	    0, 0, 1, false },
	{ "socket", CONFIG_STRING, offsetof(struct config, socket_path), 0, 0,
	    0, false },
	{ "statement_timeout", CONFIG_UINT,
	    offsetof(struct config, statement_timeout_seconds), 60, 1, 3600,
	    false },
	{ "timeout", CONFIG_UINT, LIM(timeout_seconds),
	    TI_DEFAULT_TIMEOUT_SECONDS, 1, TI_HARD_TIMEOUT_SECONDS, false },
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* Store n (within k's range) in the number or flag at field. */
static void
config_store(const struct config_key *k, void *field, uintmax_t n)
{
	switch (k->type) {
	case CONFIG_BOOL:
		*(bool *)field = n != 0;
		break;
	case CONFIG_SIZE:
		*(size_t *)field = (size_t)n;
		break;
	case CONFIG_UINT:
		*(unsigned *)field = (unsigned)n;
		break;
	case CONFIG_STRING:
		break;
	}
}

void
ti_limits_default(struct ti_limits *lim)
{
	const size_t from = offsetof(struct config, lim);
	const struct config_key *k = NULL;
	size_t i;

	memset(lim, 0, sizeof(*lim));
	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (k->offset >= from && k->offset < from + sizeof(*lim))
			config_store(k, (char *)lim + (k->offset - from),
			    k->def);
	}
}

static const struct config_key *
config_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

static int
config_parse_bool(const char *v, bool *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int
config_parse_number(const char *v, bool suffixes, uintmax_t *out)
{
	uintmax_t n;
	uintmax_t mult = 1;
	char *end = NULL;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoumax(v, &end, 10);
	if (errno != 0)
		return -1;
	if (suffixes && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k':
		case 'K':
			mult = 1024;
			break;
		case 'm':
		case 'M':
			mult = 1024 * 1024;
			break;
		case 'g':
		case 'G':
			mult = 1024 * 1024 * 1024;
			break;
		default:
			return -1;
		}
		end++;
	}
	if (*end != '\0')
		return -1;
	if (n > UINTMAX_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int
config_set(struct config *cfg, const char *key, const char *value,
    struct ti_err *err)
{
	const struct config_key *k = NULL;
	char *field = (char *)cfg;
	char *copy = NULL;
	char **sp = NULL;
	uintmax_t n;
	bool b;

	k = config_find(key);
	if (k == NULL)
		return ti_err_set(err, TI_KIND_CONFIG, "unknown setting '%.64s'",
		    key);
	field += k->offset;
	switch (k->type) {
	case CONFIG_STRING:
		copy = strdup(value);
		if (copy == NULL)
			return ti_err_set(err, TI_KIND_TEMP, "out of memory");
		sp = (char **)(void *)field;
		if (*sp != NULL && k->secret)
			memset(*sp, 0, strlen(*sp));
		free(*sp);
		*sp = copy;
		return 0;
	case CONFIG_BOOL:
		if (config_parse_bool(value, &b) != 0)
			return ti_err_set(err, TI_KIND_CONFIG,
			    "%s: expected yes or no", k->name);
		config_store(k, field, b);
		return 0;
	case CONFIG_SIZE:
	case CONFIG_UINT:
		if (config_parse_number(value, k->type == CONFIG_SIZE, &n) != 0)
			return ti_err_set(err, TI_KIND_CONFIG,
			    "%s: expected a non-negative number%s", k->name,
			    k->type == CONFIG_SIZE ?
			    " (K, M, G suffixes allowed)" : "");
		if (n < k->min)
			return ti_err_set(err, TI_KIND_CONFIG,
			    "%s: %ju is below the minimum %ju", k->name, n,
			    k->min);
		if (n > k->max)
			return ti_err_set(err, TI_KIND_CONFIG,
			    "%s: %ju exceeds the hard maximum %ju", k->name, n,
			    k->max);
		config_store(k, field, n);
		return 0;
	}
	return ti_err_set(err, TI_KIND_INTERNAL, "bad key type");
}

int
config_init(struct config *cfg, struct ti_err *err)
{
	size_t i;

	(void)err;
	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < CONFIG_NKEYS; i++)
		config_store(&config_keys[i],
		    (char *)cfg + config_keys[i].offset, config_keys[i].def);
	return 0;
}

void
config_clear(struct config *cfg)
{
	if (cfg == NULL)
		return;
	if (cfg->db != NULL)
		memset(cfg->db, 0, strlen(cfg->db));
	free(cfg->db);
	free(cfg->authserv_id);
	free(cfg->socket_path);
	free(cfg->http_listen);
	free(cfg->http_path);
	free(cfg->http_proxies);
	free(cfg->http_tls_certificate);
	free(cfg->http_tls_key);
	memset(cfg, 0, sizeof(*cfg));
}

static char *
config_trim(char *s)
{
	char *end = NULL;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

int
config_set_pair(struct config *cfg, const char *pair, struct ti_err *err)
{
	char *copy = NULL;
	char *eq = NULL;
	int rc = -1;

	copy = strdup(pair);
	if (copy == NULL)
		return ti_err_set(err, TI_KIND_TEMP, "out of memory");
	eq = strchr(copy, '=');
	if (eq == NULL) {
		ti_err_set(err, TI_KIND_CONFIG, "expected key=value");
		goto out;
	}
	*eq = '\0';
	rc = config_set(cfg, config_trim(copy), config_trim(eq + 1), err);
out:
	if (copy != NULL)
		memset(copy, 0, strlen(copy));
	free(copy);
	return rc;
}

int
config_load(struct config *cfg, const char *path, bool must_exist,
    struct ti_err *err)
{
	FILE *fp = NULL;
	char line[4096];
	char *p = NULL;
	unsigned lineno = 0;
	int rc = -1;

	fp = fopen(path, "re");
	if (fp == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return ti_err_set(err, TI_KIND_CONFIG, "%s: %s", path,
		    strerror(errno));
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			ti_err_set(err, TI_KIND_CONFIG, "%s:%u: line too long",
			    path, lineno);
			goto out;
		}
		p = strchr(line, '#');
		if (p != NULL)
			*p = '\0';
		p = config_trim(line);
		if (*p == '\0')
			continue;
		if (config_set_pair(cfg, p, err) != 0) {
			ti_err_prefix(err, "%s:%u", path, lineno);
			goto out;
		}
	}
	if (ferror(fp)) {
		ti_err_set(err, TI_KIND_CONFIG, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	memset(line, 0, sizeof(line));
	fclose(fp);
	return rc;
}

void
config_dump(const struct config *cfg, FILE *fp)
{
	const char *field = NULL;
	const char *s = NULL;
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];

		field = (const char *)cfg + k->offset;
		switch (k->type) {
		case CONFIG_STRING:
			s = *(char *const *)(const void *)field;
			if (s != NULL && k->secret)
				s = "(set, not shown)";
			(void)fprintf(fp, "%s = %s\n", k->name,
			    s != NULL ? s : "");
			break;
		case CONFIG_BOOL:
			(void)fprintf(fp, "%s = %s\n", k->name,
			    *(const bool *)(const void *)field ? "yes" : "no");
			break;
		case CONFIG_SIZE:
			(void)fprintf(fp, "%s = %zu\n", k->name,
			    *(const size_t *)(const void *)field);
			break;
		case CONFIG_UINT:
			(void)fprintf(fp, "%s = %u\n", k->name,
			    *(const unsigned *)(const void *)field);
			break;
		}
	}
}

size_t
config_key_count(void)
{
	return CONFIG_NKEYS;
}

const char *
config_key_name(size_t i)
{
	return i < CONFIG_NKEYS ? config_keys[i].name : NULL;
}
