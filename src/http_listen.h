/*
 * http_listen.h - the HTTP port: its [ADDR:]PORT setting, the listening
 * socket the server keeps while libmicrohttpd daemons come and go on it,
 * and the PEM files for TLS in the server, read bounded.
 */
#ifndef TI_HTTP_LISTEN_H
#define TI_HTTP_LISTEN_H

#include <stdbool.h>
#include <sys/socket.h>

#include "status.h"

/* An address to listen on, as written. */
#define HTTP_HOST_BYTES 128
#define HTTP_BACKLOG 128
/* A certificate or key file, at most. */
#define HTTP_TLS_FILE_BYTES ((size_t)1024 * 1024)

/*
 * Parse [ADDR:]PORT (ADDR numeric, IPv6 in brackets): *sa and host
 * (HTTP_HOST_BYTES) filled when an address is given, and *port_r.
 * CONFIG when it does not parse.
 */
int http_listen_parse(const char *spec, struct sockaddr_storage *sa,
    bool *have_addr_r, unsigned *port_r, char *host, struct ti_err *err)
    TI_MUST_CHECK;

/* A listening socket, non-blocking and close-on-exec: on the address,
 * or on every one (dual stack, else IPv4).  -1 with errno set. */
int http_listen_open(const struct sockaddr_storage *sa, bool have_addr,
    unsigned port) TI_MUST_CHECK;

/* The PEM file at path, for setting (named in errors): returns owned
 * text, NUL-terminated, at most HTTP_TLS_FILE_BYTES; NULL with CONFIG
 * (unreadable, not a regular file, empty, too large) or TEMP. */
char *http_listen_read_pem(const char *setting, const char *path,
    struct ti_err *err);

/* Wipe and free text from http_listen_read_pem(); NULL-safe, sets
 * *textp to NULL. */
void http_listen_free_pem(char **textp);

#endif
