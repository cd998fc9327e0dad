/*
 * http_client.c - a report's sender by HTTP, and its hourly cap.
 *
 * Trusted: the list of proxies (the settings).  Untrusted: X-Real-IP and
 * X-Forwarded-For, believed only from a trusted proxy and only when they
 * parse as an address (inet_pton); anything else leaves the peer as the
 * client.  The cap's table has a fixed size (HTTP_CAP_CLIENTS): an entry
 * is reused once its hour is over, and while every entry is in its hour
 * a new client is refused keeping aside, so that no number of addresses
 * makes the table grow or frees a client of its cap early.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"

#define HTTP_CAP_WINDOW_SECONDS 3600

struct http_net {
	struct http_addr addr;
	unsigned prefix;		/* bits of addr that count, 0-128 */
};

struct http_proxies {
	size_t n;
	struct http_net net[HTTP_PROXIES_MAX];
};

struct http_cap_entry {
	struct http_addr client;	/* masked: /64 for IPv6 */
	time_t since;			/* its hour began; 0: free */
	unsigned count;
};

struct http_cap {
	unsigned per_hour;
	struct http_cap_entry e[HTTP_CAP_CLIENTS];
};

static const unsigned char http_mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static bool
http_is_v4(const struct http_addr *a)
{
	return memcmp(a->b, http_mapped, sizeof(http_mapped)) == 0;
}

/* Text to address: IPv4 or IPv6, numeric only.  -1 when neither. */
static int
http_addr_parse(const char *s, struct http_addr *a)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		memcpy(a->b, http_mapped, sizeof(http_mapped));
		memcpy(a->b + 12, &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, a->b) == 1 ? 0 : -1;
}

static void
http_addr_text(const struct http_addr *a, char *out)
{
	if (http_is_v4(a))
		(void)inet_ntop(AF_INET, a->b + 12, out, HTTP_ADDR_TEXT_BYTES);
	else
		(void)inet_ntop(AF_INET6, a->b, out, HTTP_ADDR_TEXT_BYTES);
}

/* Does a fall in n? */
static bool
http_net_has(const struct http_net *n, const struct http_addr *a)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;
	unsigned char mask;

	if (memcmp(n->addr.b, a->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (n->addr.b[full] & mask) == (a->b[full] & mask);
}

/* One entry of the list: ADDRESS or ADDRESS/PREFIX. */
static int
http_net_parse(const char *word, struct http_net *n, struct ti_err *err)
{
	char buf[HTTP_ADDR_TEXT_BYTES + 8];
	char *slash = NULL, *end = NULL;
	unsigned long bits;

	if (strlen(word) >= sizeof(buf))
		return ti_err_set(err, TI_KIND_CONFIG, "http_trusted_proxies: "
		    "'%.64s' is not an address", word);
	memcpy(buf, word, strlen(word) + 1);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (http_addr_parse(buf, &n->addr) != 0)
		return ti_err_set(err, TI_KIND_CONFIG, "http_trusted_proxies: "
		    "'%.64s' is not an address", word);
	n->prefix = 128;
	if (slash == NULL)
		return 0;
	bits = isdigit((unsigned char)*slash) ? strtoul(slash, &end, 10) :
	    1000;
	if (http_is_v4(&n->addr))
		bits += 96;
	if (end == NULL || *end != '\0' || bits > 128)
		return ti_err_set(err, TI_KIND_CONFIG, "http_trusted_proxies: "
		    "'%.64s': bad prefix length", word);
	n->prefix = (unsigned)bits;
	return 0;
}

struct http_proxies *
http_proxies_new(const char *list, struct ti_err *err)
{
	struct http_proxies *p = NULL;
	const char *s = list != NULL ? list : "127.0.0.0/8 ::1";
	char word[128];
	size_t len;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	for (;;) {
		s += strspn(s, " \t,");
		if (*s == '\0')
			break;
		len = strcspn(s, " \t,");
		if (p->n == HTTP_PROXIES_MAX || len >= sizeof(word)) {
			ti_err_set(err, TI_KIND_CONFIG, "http_trusted_proxies: "
			    "%s", p->n == HTTP_PROXIES_MAX ? "too many entries" :
			    "an entry too long");
			http_proxies_free(&p);
			return NULL;
		}
		memcpy(word, s, len);
		word[len] = '\0';
		s += len;
		if (http_net_parse(word, &p->net[p->n++], err) != 0) {
			http_proxies_free(&p);
			return NULL;
		}
	}
	return p;
}

void
http_proxies_free(struct http_proxies **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	free(*pp);
	*pp = NULL;
}

static bool
http_proxy_trusted(const struct http_proxies *p, const struct http_addr *a)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (http_net_has(&p->net[i], a))
			return true;
	}
	return false;
}

/* The address a header names: x_real_ip whole, or the last entry of
 * x_forwarded_for.  -1 when there is none, or it does not parse. */
static int
http_named(const char *x_real_ip, const char *x_forwarded_for,
    struct http_addr *a)
{
	char word[HTTP_ADDR_TEXT_BYTES];
	const char *s = x_real_ip, *comma = NULL;
	size_t len;

	if (s == NULL && x_forwarded_for != NULL) {
		comma = strrchr(x_forwarded_for, ',');
		s = comma != NULL ? comma + 1 : x_forwarded_for;
	}
	if (s == NULL)
		return -1;
	s += strspn(s, " \t");
	len = strcspn(s, " \t");
	if (len == 0 || len >= sizeof(word) || s[len + strspn(s + len,
	    " \t")] != '\0')
		return -1;
	memcpy(word, s, len);
	word[len] = '\0';
	return http_addr_parse(word, a);
}

void
http_client_address(const struct http_proxies *p,
    const struct sockaddr *peer, const char *x_real_ip,
    const char *x_forwarded_for, struct http_addr *addr, char *out,
    char *proxy_out)
{
	struct http_addr named;

	memset(addr, 0, sizeof(*addr));
	if (peer != NULL && peer->sa_family == AF_INET) {
		memcpy(addr->b, http_mapped, sizeof(http_mapped));
		memcpy(addr->b + 12,
		    &((const struct sockaddr_in *)(const void *)peer)->sin_addr,
		    4);
	} else if (peer != NULL && peer->sa_family == AF_INET6) {
		memcpy(addr->b,
		    &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr,
		    16);
	}
	proxy_out[0] = '\0';
	if (http_proxy_trusted(p, addr) &&
	    http_named(x_real_ip, x_forwarded_for, &named) == 0) {
		http_addr_text(addr, proxy_out);
		*addr = named;
	}
	http_addr_text(addr, out);
}

struct http_cap *
http_cap_new(unsigned per_hour, struct ti_err *err)
{
	struct http_cap *c = NULL;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		ti_err_set(err, TI_KIND_TEMP, "out of memory");
		return NULL;
	}
	c->per_hour = per_hour;
	return c;
}

void
http_cap_free(struct http_cap **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	free(*cp);
	*cp = NULL;
}

/*
 * client's entry, its hour not over, or NULL; *spare_r: a free (or
 * expired) entry, or NULL when none is left, and then *retry_r says
 * when the first frees.
 */
static struct http_cap_entry *
http_cap_find(struct http_cap *c, const struct http_addr *client,
    time_t now, struct http_cap_entry **spare_r, long *retry_r)
{
	struct http_addr key = *client;
	struct http_cap_entry *e = NULL;
	time_t oldest = now;
	size_t i;

	*spare_r = NULL;
	if (!http_is_v4(&key))
		memset(key.b + 8, 0, 8);
	for (i = 0; i < HTTP_CAP_CLIENTS; i++) {
		e = &c->e[i];
		if (e->since != 0 && now - e->since >= HTTP_CAP_WINDOW_SECONDS)
			e->since = 0;
		if (e->since == 0) {
			if (*spare_r == NULL)
				*spare_r = e;
			continue;
		}
		if (memcmp(e->client.b, key.b, sizeof(key.b)) == 0)
			return e;
		if (e->since < oldest)
			oldest = e->since;
	}
	*retry_r = (long)(oldest + HTTP_CAP_WINDOW_SECONDS - now);
	if (*spare_r != NULL) {
		(*spare_r)->client = key;
		(*spare_r)->count = 0;
	}
	return NULL;
}

bool
http_cap_allows(struct http_cap *c, const struct http_addr *client,
    time_t now, long *retry_r)
{
	struct http_cap_entry *e = NULL, *spare = NULL;

	e = http_cap_find(c, client, now, &spare, retry_r);
	if (c->per_hour == 0) {
		*retry_r = HTTP_CAP_WINDOW_SECONDS;
		return false;
	}
	if (e == NULL)
		return spare != NULL;
	if (e->count < c->per_hour)
		return true;
	*retry_r = (long)(e->since + HTTP_CAP_WINDOW_SECONDS - now);
	return false;
}

void
http_cap_count(struct http_cap *c, const struct http_addr *client,
    time_t now)
{
	struct http_cap_entry *e = NULL, *spare = NULL;
	long unused;

	e = http_cap_find(c, client, now, &spare, &unused);
	if (e == NULL && spare != NULL) {
		e = spare;
		e->since = now;
	}
	if (e != NULL)
		e->count++;
}
