/*
 * http_listen.c - the HTTP port's address, its listening socket, and
 * the TLS certificate and key files (http_listen.h).
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_listen.h"

/* [ADDR:]PORT: *sa and host (HTTP_HOST_BYTES) filled when an address
 * is given, and *port_r. */
int
http_listen_parse(const char *spec, struct sockaddr_storage *sa,
    bool *have_addr_r, unsigned *port_r, char *host, struct ti_err *err)
{
	const char *colon = strrchr(spec, ':'), *port = spec;
	struct addrinfo hints, *ai = NULL;
	char *end = NULL;
	unsigned long n;
	size_t len;

	*have_addr_r = colon != NULL;
	if (colon != NULL) {
		port = colon + 1;
		len = (size_t)(colon - spec);
		if (len >= 2 && spec[0] == '[' && spec[len - 1] == ']') {
			spec++;
			len -= 2;
		}
		if (len == 0 || len >= HTTP_HOST_BYTES)
			return ti_err_set(err, TI_KIND_CONFIG, "http: '%.64s': "
			    "expected [ADDRESS:]PORT", spec);
		memcpy(host, spec, len);
		host[len] = '\0';
	}
	n = port[0] >= '0' && port[0] <= '9' ? strtoul(port, &end, 10) : 0;
	if (end == NULL || *end != '\0' || n > 65535)
		return ti_err_set(err, TI_KIND_CONFIG, "http: '%.64s': "
		    "expected [ADDRESS:]PORT", spec);
	*port_r = (unsigned)n;
	if (colon == NULL)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
		return ti_err_set(err, TI_KIND_CONFIG, "http: '%.64s' is not "
		    "a numeric address", host);
	memset(sa, 0, sizeof(*sa));
	memcpy(sa, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

/* A listening socket, non-blocking: on the address, or on every one
 * (dual stack, else IPv4).  -1 with errno set. */
int
http_listen_open(const struct sockaddr_storage *sa, bool have_addr,
    unsigned port)
{
	struct sockaddr_storage any;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&any;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&any;
	const int on = 1, off = 0;
	int fd = -1, tries, saved;
	socklen_t len;

	for (tries = have_addr ? 1 : 2; tries > 0; tries--) {
		memset(&any, 0, sizeof(any));
		if (have_addr)
			memcpy(&any, sa, sizeof(any));
		else if (tries == 2) {
			in6->sin6_family = AF_INET6;
			in6->sin6_addr = in6addr_any;
			in6->sin6_port = htons((uint16_t)port);
		} else {
			in4->sin_family = AF_INET;
			in4->sin_addr.s_addr = htonl(INADDR_ANY);
			in4->sin_port = htons((uint16_t)port);
		}
		len = any.ss_family == AF_INET6 ? sizeof(*in6) : sizeof(*in4);
		fd = socket(any.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (fd >= 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == 0 &&
		    (have_addr || any.ss_family != AF_INET6 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
		    sizeof(off)) == 0) &&
		    bind(fd, (struct sockaddr *)&any, len) == 0 &&
		    listen(fd, HTTP_BACKLOG) == 0)
			return fd;
		saved = errno;
		if (fd >= 0)
			(void)close(fd);
		errno = saved;
		fd = -1;
	}
	return -1;
}

/* A PEM file of setting: returns owned text, NUL-terminated, at most
 * HTTP_TLS_FILE_BYTES; NULL with CONFIG. */
char *
http_listen_read_pem(const char *setting, const char *path, struct ti_err *err)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0, size;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ti_err_set(err, TI_KIND_CONFIG, "%s: %.200s: %s", setting,
		    path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uintmax_t)st.st_size > HTTP_TLS_FILE_BYTES) {
		ti_err_set(err, TI_KIND_CONFIG, "%s: %.200s: %s", setting,
		    path, !S_ISREG(st.st_mode) ? "not a regular file" :
		    st.st_size <= 0 ? "empty" : "larger than 1 MiB");
		(void)close(fd);
		return NULL;
	}
	size = (size_t)st.st_size;
	text = malloc(size + 1);
	while (text != NULL && got < size) {
		n = read(fd, text + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	(void)close(fd);
	if (text == NULL || got < size) {
		ti_err_set(err, text == NULL ? TI_KIND_TEMP : TI_KIND_CONFIG,
		    "%s: %.200s: %s", setting, path, text == NULL ?
		    "out of memory" : "cut short while read");
		if (text != NULL)
			explicit_bzero(text, got);
		free(text);
		return NULL;
	}
	text[size] = '\0';
	return text;
}

/* Wipe and free a file read by http_listen_read_pem(); NULL-safe. */
void
http_listen_free_pem(char **textp)
{
	if (*textp == NULL)
		return;
	explicit_bzero(*textp, strlen(*textp));
	free(*textp);
	*textp = NULL;
}
