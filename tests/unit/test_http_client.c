/*
 * test_http_client.c - who sent a report by HTTP, and the hourly cap on
 * bodies kept aside: the proxy list parsed and refused, the client
 * address taken from a trusted proxy's headers only, and the cap's
 * counting, windows, /64 grouping and full table.  The server itself is
 * covered by tests/integration/https.sh.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_client.h"

/* A peer address from text. */
static void
peer(struct sockaddr_storage *ss, const char *text)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, &v6->sin6_addr), 1);
	v6->sin6_family = AF_INET6;
}

static void
test_proxies_refused(void **state)
{
	static const struct {
		const char *list;
		const char *want;
	} cases[] = {
		{ "10.0.0.1/33", "'10.0.0.1/33': bad prefix length" },
		{ "::1/129", "'::1/129': bad prefix length" },
		{ "10.0.0.1/", "'10.0.0.1/': bad prefix length" },
		{ "10.0.0.1/x", "'10.0.0.1/x': bad prefix length" },
		{ "localhost", "'localhost' is not an address" },
		{ "10.0.0.1 nginx", "'nginx' is not an address" },
	};
	struct http_proxies *p = NULL;
	struct ti_err err;
	char many[4096] = "";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = http_proxies_new(cases[i].list, &err);
		assert_null(p);
		assert_int_equal(err.kind, TI_KIND_CONFIG);
		assert_non_null(strstr(err.msg, cases[i].want));
	}
	for (i = 0; i <= HTTP_PROXIES_MAX; i++)
		memcpy(many + 9 * i, "10.0.0.1 ", 10);
	assert_null(http_proxies_new(many, &err));
	assert_non_null(strstr(err.msg, "too many entries"));
}

static void
test_client_address(void **state)
{
	static const struct {
		const char *name;
		const char *list;	/* NULL: loopback */
		const char *peer;
		const char *real_ip;
		const char *forwarded;
		const char *want;
		const char *want_proxy;
	} cases[] = {
		{ "straight", NULL, "192.0.2.1", NULL, NULL, "192.0.2.1", "" },
		{ "loopback proxy, X-Real-IP", NULL, "127.0.0.1",
		    "198.51.100.7", "203.0.113.1", "198.51.100.7",
		    "127.0.0.1" },
		{ "loopback proxy, X-Forwarded-For's last", NULL, "127.0.0.5",
		    NULL, "203.0.113.1, 198.51.100.9 ", "198.51.100.9",
		    "127.0.0.5" },
		{ "IPv6 loopback proxy", NULL, "::1", "2001:db8::7", NULL,
		    "2001:db8::7", "::1" },
		{ "mapped IPv4 peer", NULL, "::ffff:127.0.0.1",
		    "198.51.100.7", NULL, "198.51.100.7", "127.0.0.1" },
		{ "proxy names nothing", NULL, "127.0.0.1", NULL, NULL,
		    "127.0.0.1", "" },
		{ "proxy names garbage", NULL, "127.0.0.1", "unknown", NULL,
		    "127.0.0.1", "" },
		{ "proxy names two in X-Real-IP", NULL, "127.0.0.1",
		    "192.0.2.1 192.0.2.2", NULL, "127.0.0.1", "" },
		{ "untrusted peer", NULL, "192.0.2.1", "198.51.100.7", NULL,
		    "192.0.2.1", "" },
		{ "a listed network", "10.1.0.0/16, 2001:db8::/32",
		    "10.1.200.3", "192.0.2.9", NULL, "192.0.2.9", "10.1.200.3" },
		{ "outside it", "10.1.0.0/16", "10.2.0.1", "192.0.2.9", NULL,
		    "10.2.0.1", "" },
		{ "loopback not listed", "10.1.0.0/16", "127.0.0.1",
		    "192.0.2.9", NULL, "127.0.0.1", "" },
		{ "an IPv6 network", "2001:db8::/32", "2001:db8:ff::1",
		    "192.0.2.9", NULL, "192.0.2.9", "2001:db8:ff::1" },
	};
	struct http_proxies *p = NULL;
	struct sockaddr_storage ss;
	struct http_addr a;
	struct ti_err err;
	char got[HTTP_ADDR_TEXT_BYTES];
	char proxy[HTTP_ADDR_TEXT_BYTES];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = http_proxies_new(cases[i].list, &err);
		assert_non_null(p);
		peer(&ss, cases[i].peer);
		http_client_address(p, (struct sockaddr *)&ss,
		    cases[i].real_ip, cases[i].forwarded, &a, got, proxy);
		if (strcmp(got, cases[i].want) != 0 ||
		    strcmp(proxy, cases[i].want_proxy) != 0)
			fail_msg("%s: got %s via '%s', want %s via '%s'",
			    cases[i].name, got, proxy, cases[i].want,
			    cases[i].want_proxy);
		http_proxies_free(&p);
		assert_null(p);
	}
}

/* The client at text, as http_client_address gives it. */
static struct http_addr
client(const char *text)
{
	struct http_proxies *p = NULL;
	struct sockaddr_storage ss;
	struct http_addr a;
	struct ti_err err;
	char got[HTTP_ADDR_TEXT_BYTES];
	char proxy[HTTP_ADDR_TEXT_BYTES];

	p = http_proxies_new("", &err);
	assert_non_null(p);
	peer(&ss, text);
	http_client_address(p, (struct sockaddr *)&ss, NULL, NULL, &a, got,
	    proxy);
	http_proxies_free(&p);
	return a;
}

static void
test_cap(void **state)
{
	struct http_cap *c = NULL;
	struct http_addr one = client("192.0.2.1");
	struct http_addr two = client("192.0.2.2");
	struct http_addr v6a = client("2001:db8:1:2::1");
	struct http_addr v6b = client("2001:db8:1:2:ffff::9");
	struct http_addr v6c = client("2001:db8:1:3::1");
	struct ti_err err;
	time_t t = 1000000;
	long retry = 0;

	(void)state;
	c = http_cap_new(2, &err);
	assert_non_null(c);
	assert_true(http_cap_allows(c, &one, t, &retry));
	http_cap_count(c, &one, t);
	http_cap_count(c, &one, t + 10);
	assert_false(http_cap_allows(c, &one, t + 100, &retry));
	assert_int_equal(retry, 3500);
	assert_true(http_cap_allows(c, &two, t + 100, &retry));
	/* The hour over, it may again. */
	assert_true(http_cap_allows(c, &one, t + 3600, &retry));
	/* One /64 counts as one client. */
	http_cap_count(c, &v6a, t);
	http_cap_count(c, &v6b, t);
	assert_false(http_cap_allows(c, &v6a, t, &retry));
	assert_false(http_cap_allows(c, &v6b, t, &retry));
	assert_true(http_cap_allows(c, &v6c, t, &retry));
	http_cap_free(&c);
	assert_null(c);

	/* 0: nothing is ever kept. */
	c = http_cap_new(0, &err);
	assert_false(http_cap_allows(c, &one, t, &retry));
	assert_int_equal(retry, 3600);
	http_cap_free(&c);
}

static void
test_cap_full(void **state)
{
	struct http_cap *c = NULL;
	struct http_addr a;
	struct ti_err err;
	time_t t = 5000000;
	long retry = 0;
	uint32_t i;

	(void)state;
	c = http_cap_new(1, &err);
	assert_non_null(c);
	a = client("10.0.0.0");
	for (i = 0; i < HTTP_CAP_CLIENTS; i++) {
		memcpy(a.b + 12, &i, sizeof(i));
		assert_true(http_cap_allows(c, &a, t + (time_t)i % 60,
		    &retry));
		http_cap_count(c, &a, t + (time_t)i % 60);
	}
	/* Full of this hour's: a new client may not, until one expires. */
	i = HTTP_CAP_CLIENTS;
	memcpy(a.b + 12, &i, sizeof(i));
	assert_false(http_cap_allows(c, &a, t + 60, &retry));
	assert_int_equal(retry, 3540);
	assert_true(http_cap_allows(c, &a, t + 3600, &retry));
	http_cap_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxies_refused),
		cmocka_unit_test(test_client_address),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_cap_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
