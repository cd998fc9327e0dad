/*
 * http.h - the resident server's second door: reports POSTed by HTTP
 * (RFC 8460 section 3, rua=https://...), behind a TLS proxy or with TLS
 * of its own (http_tls_certificate, http_tls_key).
 * libmicrohttpd runs without a thread of its own: the server's poll()
 * loop waits on http_fd() and calls http_serve().
 */
#ifndef TI_HTTP_H
#define TI_HTTP_H

#include <stdbool.h>

#include "run.h"

struct http;

/*
 * Listen on the http setting ([ADDR:]PORT; PORT alone: every address;
 * port 0: any free one, logged).  run is borrowed, valid until
 * http_free.  Returns owned, or NULL with CONFIG (a setting that does
 * not parse, an address that cannot be bound) or TEMP.
 */
struct http *http_new(struct run *run, struct ti_err *err);

/* Close every connection and the listening socket; NULL-safe, sets *hp
 * to NULL. */
void http_free(struct http **hp);

/* The descriptor to wait on for input, and the longest wait in ms
 * before http_serve() must run again (-1: no limit). */
int http_fd(const struct http *h);
long http_wait_ms(struct http *h);

/* Read what has come, store each request read whole (one at a time,
 * through run_report_body()) and answer it; never blocks on a client. */
void http_serve(struct http *h);

/*
 * SIGHUP: with http_tls_certificate and http_tls_key, read both again
 * and serve with them on the same socket; if they do not load, keep
 * serving with the old ones and log why.  Connections open are closed
 * (their senders retry).
 */
void http_reload(struct http *h);

/* Stop accepting connections (those open are still served). */
void http_quiesce(struct http *h);

/* Connections open. */
unsigned http_connections(struct http *h);

#endif
