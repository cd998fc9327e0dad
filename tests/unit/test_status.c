/*
 * test_status.c - error kinds and exit codes.
 *
 * Every pair of exit codes the program uses ranks as the table in
 * status.c says, whichever comes first; 71 (EX_OSERR, a server that can
 * no longer wait for connections) wins over 0; a code never used ranks
 * as 70.  Each kind maps to its code, at a terminal and under a mail
 * system, where only 0, 65 and 75 appear.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sysexits.h>
#include <cmocka.h>

#include "status.h"

/* Every code the program exits with, least urgent first. */
static const int ranked[] = {
	EX_OK,
	EX_DATAERR,
	EX_USAGE,
	EX_CONFIG,
	EX_IOERR,
	EX_SOFTWARE,
	EX_OSERR,
	EX_TEMPFAIL,
};

#define N_RANKED (sizeof(ranked) / sizeof(ranked[0]))

static void
test_exit_pairs(void **state)
{
	size_t i, j;
	int want;

	(void)state;
	for (i = 0; i < N_RANKED; i++) {
		for (j = 0; j < N_RANKED; j++) {
			want = ranked[i > j ? i : j];
			assert_int_equal(ti_exit_worse(ranked[i], ranked[j]),
			    want);
		}
	}
}

static void
test_exit_oserr_wins_over_ok(void **state)
{
	(void)state;
	assert_int_equal(ti_exit_worse(EX_OK, EX_OSERR), EX_OSERR);
	assert_int_equal(ti_exit_worse(EX_OSERR, EX_OK), EX_OSERR);
	assert_int_equal(ti_exit_worse(EX_OSERR, EX_TEMPFAIL), EX_TEMPFAIL);
}

static void
test_exit_unknown(void **state)
{
	(void)state;
	assert_int_equal(ti_exit_worse(EX_OK, 1), 1);
	assert_int_equal(ti_exit_worse(EX_IOERR, 1), 1);
	assert_int_equal(ti_exit_worse(EX_SOFTWARE, 1), EX_SOFTWARE);
	assert_int_equal(ti_exit_worse(1, EX_OSERR), EX_OSERR);
}

static void
test_kind_exit(void **state)
{
	static const struct {
		enum ti_kind kind;
		int want, want_mta;
	} cases[] = {
		{ TI_KIND_NONE, EX_OK, EX_OK },
		{ TI_KIND_TEMP, EX_TEMPFAIL, EX_TEMPFAIL },
		{ TI_KIND_DATA, EX_DATAERR, EX_DATAERR },
		{ TI_KIND_CONFIG, EX_TEMPFAIL, EX_TEMPFAIL },
		{ TI_KIND_INTERNAL, EX_SOFTWARE, EX_TEMPFAIL },
		{ TI_KIND_USAGE, EX_USAGE, EX_TEMPFAIL },
		{ TI_KIND_IO, EX_IOERR, EX_TEMPFAIL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ti_kind_exit(cases[i].kind, 0),
		    cases[i].want);
		assert_int_equal(ti_kind_exit(cases[i].kind, 1),
		    cases[i].want_mta);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_pairs),
		cmocka_unit_test(test_exit_oserr_wins_over_ok),
		cmocka_unit_test(test_exit_unknown),
		cmocka_unit_test(test_kind_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
