/*
 * http_client.h - who sent a report by HTTP: the peer, or the client a
 * trusted proxy (nginx) names in X-Real-IP or X-Forwarded-For; and how
 * many bodies each client has had kept aside in the last hour.
 */
#ifndef TI_HTTP_CLIENT_H
#define TI_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "status.h"

/* An address as text, NUL included (INET6_ADDRSTRLEN). */
#define HTTP_ADDR_TEXT_BYTES 46
/* Trusted proxies at most, and clients the cap follows at once. */
#define HTTP_PROXIES_MAX 64
#define HTTP_CAP_CLIENTS 4096

/* An IPv4 address is held IPv4-mapped (::ffff:a.b.c.d). */
struct http_addr {
	unsigned char b[16];
};

struct http_proxies;
struct http_cap;

/*
 * The trusted proxies: addresses or ADDRESS/PREFIX networks, separated
 * by spaces or commas; NULL means loopback (127.0.0.0/8 and ::1).
 * Returns owned, or NULL with CONFIG (names the entry) or TEMP.
 */
struct http_proxies *http_proxies_new(const char *list, struct ti_err *err);
void http_proxies_free(struct http_proxies **pp);

/*
 * The client of a request from peer: peer itself, unless it is a trusted
 * proxy and names a valid address in x_real_ip, else as the last entry
 * of x_forwarded_for (the one it added); both may be NULL.  Fills *addr
 * and its text (out, HTTP_ADDR_TEXT_BYTES); proxy_out gets the proxy's
 * address as text, or "" when the client came straight.
 */
void http_client_address(const struct http_proxies *p,
    const struct sockaddr *peer, const char *x_real_ip,
    const char *x_forwarded_for, struct http_addr *addr, char *out,
    char *proxy_out);

/* At most per_hour bodies kept aside per client (an IPv6 client counts
 * by its /64) in an hour.  Returns owned, or NULL with TEMP. */
struct http_cap *http_cap_new(unsigned per_hour, struct ti_err *err);
void http_cap_free(struct http_cap **cp);

/*
 * May client have one more body kept aside at now?  When not, *retry_r
 * is the seconds until it may (also when the table of clients is full
 * of this hour's).
 */
bool http_cap_allows(struct http_cap *c, const struct http_addr *client,
    time_t now, long *retry_r);

/* One more body of client's was kept aside at now. */
void http_cap_count(struct http_cap *c, const struct http_addr *client,
    time_t now);

#endif
