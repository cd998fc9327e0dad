/*
 * test_db.c - what the database stage decides without a server: the kind
 * of a failure from its SQLSTATE (which decides between keeping a message
 * as rejected and having the mail system try again), and connections
 * that cannot be made.  Storing is tested against a real PostgreSQL by
 * the integration tests.
 */
#include "autoconf.h"

#include "testutil.h"

#include "db.h"

struct state_case {
	const char *state;
	enum ti_kind want;
};

static const struct state_case states[] = {
	/* The report's values: the message is kept as rejected. */
	{ "22P02", TI_KIND_DATA },	/* invalid text representation */
	{ "22001", TI_KIND_DATA },	/* string data right truncation */
	{ "23505", TI_KIND_DATA },	/* unique violation */
	{ "23514", TI_KIND_DATA },	/* check violation */
	{ "54000", TI_KIND_DATA },	/* index row too large */
	/* The schema or the privileges: the operator must act. */
	{ "42501", TI_KIND_CONFIG },	/* insufficient privilege */
	{ "42883", TI_KIND_CONFIG },	/* undefined function */
	{ "42P01", TI_KIND_CONFIG },	/* undefined table */
	{ "3F000", TI_KIND_CONFIG },	/* invalid schema name */
	/* The server or the connection: try again later. */
	{ "08006", TI_KIND_TEMP },	/* connection failure */
	{ "40001", TI_KIND_TEMP },	/* serialization failure */
	{ "40P01", TI_KIND_TEMP },	/* deadlock detected */
	{ "53100", TI_KIND_TEMP },	/* disk full */
	{ "53300", TI_KIND_TEMP },	/* too many connections */
	{ "55P03", TI_KIND_TEMP },	/* lock not available */
	{ "57014", TI_KIND_TEMP },	/* query canceled (statement_timeout) */
	{ "57P01", TI_KIND_TEMP },	/* admin shutdown */
	{ "58030", TI_KIND_TEMP },	/* io error */
	{ "XX000", TI_KIND_TEMP },	/* internal error */
	{ NULL, TI_KIND_TEMP },		/* no SQLSTATE: connection lost */
	{ "", TI_KIND_TEMP },
	{ "22", TI_KIND_TEMP },		/* not a SQLSTATE */
};

static void
test_sqlstate_kind(void **state)
{
	size_t i;
	enum ti_kind got;

	(void)state;
	for (i = 0; i < NELEM(states); i++) {
		got = db_sqlstate_kind(states[i].state);
		if (got != states[i].want)
			fail_msg("%s: kind %d, want %d", states[i].state != NULL ?
			    states[i].state : "(none)", got, states[i].want);
	}
}

/* A conninfo that does not parse: CONFIG, and the text (which may hold
 * a password) is not repeated. */
static void
test_conninfo_does_not_parse(void **state)
{
	struct ti_err err;
	struct db *db = NULL;

	(void)state;
	ti_err_clear(&err);
	db = db_open("dbname=x password='Sekr1t", 1, 1, true, &err);
	assert_null(db);
	assert_int_equal(err.kind, TI_KIND_CONFIG);
	assert_string_equal(err.msg, "the database conninfo does not parse");
}

/* Nothing listens there: TEMP, one line, no password. */
static void
test_unavailable(void **state)
{
	struct ti_err err;
	struct db *db = NULL;
	char conninfo[256];
	char dir[] = "/tmp/tlsrpt-db.XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(conninfo, sizeof(conninfo),
	    "host=%s dbname=x password=Sekr1t", dir);
	ti_err_clear(&err);
	db = db_open(conninfo, 1, 1, true, &err);
	assert_null(db);
	assert_int_equal(err.kind, TI_KIND_TEMP);
	assert_int_equal(strncmp(err.msg, "database unavailable: ", 22), 0);
	assert_null(strchr(err.msg, '\n'));
	assert_null(strstr(err.msg, "Sekr1t"));
	/* Started without waiting, it fails when first needed. */
	ti_err_clear(&err);
	db = db_open(conninfo, 1, 1, false, &err);
	if (db != NULL) {
		assert_int_equal(db_batch_begin(db, &err), -1);
		assert_int_equal(err.kind, TI_KIND_TEMP);
		assert_null(strstr(err.msg, "Sekr1t"));
		db_close(&db);
		assert_null(db);
	} else {
		assert_int_equal(err.kind, TI_KIND_TEMP);
	}
	db_close(&db);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlstate_kind),
		cmocka_unit_test(test_conninfo_does_not_parse),
		cmocka_unit_test(test_unavailable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
