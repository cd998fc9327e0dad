/*
 * fuzz_authres.c - libFuzzer target for authres.c (Authentication-Results
 * parsing, RFC 8601, and the contact-info domain).
 *
 * The input is split on '\n' into header values, topmost first, as
 * mime_extract() hands them over (a NUL byte ends a value early, as it
 * would in a C string).  authres_dkim() runs without an authserv-id and
 * with the first word of the first value as one; the reporting domain is
 * what domain_of_contact() makes of the last value.  Hostile input
 * is never an error: only TEMP may fail, and a domain handed out is lower
 * case, at most TI_DOMAIN_BYTES, and covers itself.
 */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "domain.h"
#include "fuzzutil.h"
#include "status.h"
#include "ti_limits.h"

/* At most this many header values, as a MIME part could not carry more. */
#define FUZZ_MAX_VALUES 4096

static void
fuzz_domain(const char *d, const char *what)
{
	size_t i;

	if (d == NULL)
		return;
	fuzz_check(d[0] != '\0', what);
	fuzz_check(strlen(d) <= TI_DOMAIN_BYTES, what);
	for (i = 0; d[i] != '\0'; i++)
		fuzz_check(d[i] < 'A' || d[i] > 'Z', what);
	fuzz_check(domain_covers(d, d), what);
}

static void
fuzz_dkim(char *const *values, size_t n, const char *id, const char *dom)
{
	struct authres_dkim out;
	struct ti_err err;

	ti_err_clear(&err);
	memset(&out, 0, sizeof(out));
	if (authres_dkim(values, n, id, dom, &out, &err) != 0) {
		fuzz_check_err(&err, FUZZ_KIND(TI_KIND_TEMP), "authres_dkim");
	} else {
		fuzz_check(out.result != NULL || (out.domain == NULL &&
		    out.authserv_id == NULL), "authres_dkim: no result");
		fuzz_check(out.result == NULL || out.result[0] != '\0',
		    "authres_dkim: empty result");
		fuzz_check(id == NULL || out.authserv_id == NULL ||
		    strcasecmp(id, out.authserv_id) == 0,
		    "authres_dkim: another authserv-id");
		fuzz_domain(out.domain, "authres_dkim: domain");
		if (out.domain != NULL && dom != NULL)
			(void)domain_covers(out.domain, dom);
	}
	authres_dkim_clear(&out);
	fuzz_check(out.result == NULL && out.domain == NULL &&
	    out.authserv_id == NULL, "authres_dkim_clear");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = NULL;
	char **values = NULL;
	char *id = NULL;
	char *dom = NULL;
	size_t n = 0;
	size_t i;
	size_t idn;

	text = malloc(size + 1);
	values = calloc(FUZZ_MAX_VALUES, sizeof(*values));
	if (text == NULL || values == NULL)
		goto out;
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	values[n++] = text;
	for (i = 0; i < size && n < FUZZ_MAX_VALUES; i++) {
		if (text[i] == '\n') {
			text[i] = '\0';
			values[n++] = text + i + 1;
		}
	}

	dom = domain_of_contact(values[n - 1]);
	fuzz_domain(dom, "domain_of_contact");
	idn = strcspn(values[0], " \t\r;");
	id = strndup(values[0], idn);
	if (id == NULL)
		goto out;

	fuzz_dkim(values, n, NULL, dom);
	fuzz_dkim(values, n, id, dom);
	fuzz_dkim(values, n, id, NULL);
	fuzz_dkim(values, 0, NULL, dom);
out:
	free(id);
	free(dom);
	free(values);
	free(text);
	return 0;
}
