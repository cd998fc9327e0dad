/*
 * test_sha256.c - the digest kept with each report.
 *
 * FIPS 180-4's examples ("abc", the two-block message, a million 'a'),
 * and every length around the padding's edges (55, 56, 63, 64 bytes and
 * the same past one block), whose digests were computed independently.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sha256.h"

static void
hex(const unsigned char *d, char *out)
{
	size_t i;

	for (i = 0; i < SHA256_BYTES; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void
check(const void *data, size_t n, const char *want)
{
	unsigned char d[SHA256_BYTES];
	char got[2 * SHA256_BYTES + 1];

	sha256(data, n, d);
	hex(d, got);
	assert_string_equal(got, want);
}

static void
test_fips_examples(void **state)
{
	char *a = NULL;

	(void)state;
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	a = malloc(1000000);
	assert_non_null(a);
	memset(a, 'a', 1000000);
	check(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* Bytes (i * 7 + 3) mod 256, i from 0. */
static void
test_padding_edges(void **state)
{
	static const struct {
		size_t n;
		const char *want;
	} cases[] = {
		{ 0, "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855" },
		{ 1, "084fed08b978af4d7d196a7446a86b58"
		    "009e636b611db16211b65a9aadff29c5" },
		{ 55, "e7313d333c272e639f790978283f9eb3"
		    "92e843d0f29b7016828bb1daa4aac70b" },
		{ 56, "4324d65f3c103567f5589c710bc08f85"
		    "23f929a9272e3af36fc968e52abc6c27" },
		{ 57, "35df609437dcfea3279283ab79fd554e"
		    "2bf78f8f7ae2de532d8ee300b09e8f73" },
		{ 63, "81c80242132f230c3bd41b3e63bbcff1"
		    "6107339549214a99614ff26664625055" },
		{ 64, "39e3d7b6b5d075d37d053ad89b24b41b"
		    "ef4f3c29760c84447cab3f3be1882241" },
		{ 65, "aacca6ff74fdbb296d165a45cecfa04e"
		    "5127bc008770fbbdd48006f2d2fae95e" },
		{ 119, "9ce7368e4daf32341631b492e80359dc"
		    "9f594b48453cd0dd5bf0b19279cc177e" },
		{ 120, "7836b787757e95e58b3ca5aec90b1b00"
		    "4e8deba1e50e9675af9cabf1a13a04b5" },
		{ 127, "a8d23e75d936f303d248888d9b165ee5"
		    "43f4cbafcad3c9dd2a79bd84faa11d07" },
		{ 128, "d2742f1f4ac6bb7ca2b239ee18402ba8"
		    "b3f9f8e652d2a72973c2b9ba11c08cf6" },
		{ 129, "307f8fc2c1622b92762e818d39a185d4"
		    "d667ad49a4b07ceae1f4afa008a93ec4" },
		{ 1000, "1e9bc38cbf860b9ec31918b065f9b524"
		    "76c549a782e0e7990bed8ce3868d2371" },
	};
	unsigned char data[1000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check(data, cases[i].n, cases[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_examples),
		cmocka_unit_test(test_padding_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
