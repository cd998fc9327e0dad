/*
 * test_config.c - the settings table: defaults, parsing, limits that may
 * be lowered but never raised past their hard maximum, the file format.
 */
#include "autoconf.h"

#include "testutil.h"

#include <unistd.h>

#include "config.h"

struct config_case {
	const char *name;
	const char *pair;
	int want_rc;
	const char *want_err;	/* substring, or NULL */
};

static const struct config_case cases[] = {
	{ "size with M suffix", "max_message_size=2M", 0, NULL },
	{ "size at the hard maximum", "max_message_size=256M", 0, NULL },
	{ "size one past the hard maximum", "max_message_size=268435457", -1,
	    "exceeds the hard maximum 268435456" },
	{ "size below the minimum", "max_message_size=1023", -1,
	    "below the minimum 1024" },
	{ "size at the minimum", "max_message_size=1024", 0, NULL },
	{ "not a number", "max_policies=ten", -1, "expected a non-negative" },
	{ "negative", "max_policies=-1", -1, "expected a non-negative" },
	{ "bad suffix", "max_policies=10X", -1, "expected a non-negative" },
	{ "overflow", "max_inflated_size=99999999999999999999G", -1,
	    "expected a non-negative" },
	{ "unknown key", "max_bananas=3", -1, "unknown setting 'max_bananas'" },
	{ "bool yes", "require_dkim=yes", 0, NULL },
	{ "bool junk", "require_dkim=perhaps", -1, "expected yes or no" },
	{ "no equals sign", "require_dkim", -1, "expected key=value" },
	{ "spaces around", "  max_json_depth =  16 ", 0, NULL },
	{ "uint for seconds refuses suffixes", "timeout=5K", -1,
	    "expected a non-negative number" },
	{ "timeout at its maximum", "timeout=3600", 0, NULL },
	{ "timeout past its maximum", "timeout=3601", -1,
	    "exceeds the hard maximum 3600" },
	{ "TLS certificate file", "http_tls_certificate = /etc/t/cert.pem", 0,
	    NULL },
	{ "TLS key file", "http_tls_key=/etc/t/key.pem", 0, NULL },
	{ "TLS key misspelt", "http_tls_keys=/etc/t/key.pem", -1,
	    "unknown setting 'http_tls_keys'" },
};

static int
setup(void **state)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct ti_err err;

	assert_non_null(cfg);
	assert_int_equal(config_init(cfg, &err), 0);
	*state = cfg;
	return 0;
}

static int
teardown(void **state)
{
	config_clear(*state);
	free(*state);
	return 0;
}

static void
test_defaults(void **state)
{
	struct config *cfg = *state;

	assert_int_equal(cfg->lim.message_bytes, 32 * 1024 * 1024);
	assert_int_equal(cfg->lim.inflated_bytes, 64 * 1024 * 1024);
	assert_int_equal(cfg->lim.mime_depth, TI_DEFAULT_MIME_DEPTH);
	assert_int_equal(cfg->lim.timeout_seconds, 300);
	assert_int_equal(cfg->connect_timeout_seconds, 10);
	assert_false(cfg->require_dkim);
	assert_null(cfg->db);
	assert_null(cfg->authserv_id);
}

/* ti_limits_default() and config_init() give the same limits. */
static void
test_limits_default(void **state)
{
	struct config *cfg = *state;
	struct ti_limits lim;

	ti_limits_default(&lim);
	assert_int_equal(lim.message_bytes, cfg->lim.message_bytes);
	assert_int_equal(lim.mime_depth, cfg->lim.mime_depth);
	assert_int_equal(lim.mime_parts, cfg->lim.mime_parts);
	assert_int_equal(lim.inflated_bytes, cfg->lim.inflated_bytes);
	assert_int_equal(lim.json_depth, cfg->lim.json_depth);
	assert_int_equal(lim.policies, cfg->lim.policies);
	assert_int_equal(lim.failure_details, cfg->lim.failure_details);
	assert_int_equal(lim.policy_strings, cfg->lim.policy_strings);
	assert_int_equal(lim.string_bytes, cfg->lim.string_bytes);
	assert_int_equal(lim.timeout_seconds, cfg->lim.timeout_seconds);
	assert_int_equal(lim.json_depth, TI_DEFAULT_JSON_DEPTH);
	assert_int_equal(lim.policies, TI_DEFAULT_POLICIES);
	assert_int_equal(lim.string_bytes, TI_DEFAULT_STRING_BYTES);
}

static void
test_table(void **state)
{
	struct config *cfg = *state;
	struct ti_err err;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ti_err_clear(&err);
		rc = config_set_pair(cfg, cases[i].pair, &err);
		if (rc != cases[i].want_rc)
			fail_msg("%s: got rc %d, want %d (%s)", cases[i].name,
			    rc, cases[i].want_rc, err.msg);
		if (cases[i].want_err != NULL &&
		    strstr(err.msg, cases[i].want_err) == NULL)
			fail_msg("%s: got error '%s', want '%s'",
			    cases[i].name, err.msg, cases[i].want_err);
		if (rc != 0)
			assert_int_equal(err.kind, TI_KIND_CONFIG);
	}
	/* The values that were accepted took effect. */
	assert_int_equal(cfg->lim.message_bytes, 1024);
	assert_int_equal(cfg->lim.json_depth, 16);
	assert_true(cfg->require_dkim);
	assert_int_equal(cfg->lim.timeout_seconds, 3600);
}

static void
test_file(void **state)
{
	struct config *cfg = *state;
	struct ti_err err;
	char path[] = "/tmp/tlsrpt-config-XXXXXX";
	FILE *fp = NULL;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs("# a comment\n\ndb = dbname=tlsrpt password=x  # trailing\n"
	    "max_policies = 7\nauthserv_id=mx.example\n", fp);
	fclose(fp);
	assert_int_equal(config_load(cfg, path, true, &err), 0);
	assert_string_equal(cfg->db, "dbname=tlsrpt password=x");
	assert_int_equal(cfg->lim.policies, 7);
	assert_string_equal(cfg->authserv_id, "mx.example");

	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("max_policies = 7\nmax_policies = lots\n", fp);
	fclose(fp);
	assert_int_equal(config_load(cfg, path, true, &err), -1);
	assert_non_null(strstr(err.msg, ":2: max_policies: expected"));
	unlink(path);

	assert_int_equal(config_load(cfg, path, false, &err), 0);
	assert_int_equal(config_load(cfg, path, true, &err), -1);
	assert_int_equal(err.kind, TI_KIND_CONFIG);
}

static void
test_dump_hides_secret(void **state)
{
	struct config *cfg = *state;
	struct ti_err err;
	char *text = NULL;
	size_t len = 0;
	FILE *fp = NULL;
	size_t i;

	assert_int_equal(config_set(cfg, "db", "password=hunter2", &err), 0);
	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	config_dump(cfg, fp);
	fclose(fp);
	assert_null(strstr(text, "hunter2"));
	assert_non_null(strstr(text, "db = (set, not shown)\n"));
	for (i = 0; i < config_key_count(); i++)
		assert_non_null(strstr(text, config_key_name(i)));
	assert_null(config_key_name(config_key_count()));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_default, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_hides_secret, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
