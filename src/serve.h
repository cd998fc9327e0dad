/*
 * serve.h - the resident server (--serve): pipe mode hands it messages
 * over a Unix socket (handoff.h), and it stores them on a database
 * connection it keeps open.
 */
#ifndef TI_SERVE_H
#define TI_SERVE_H

#include "run.h"

/*
 * Listen on the socket setting (and on the http setting's port, for
 * reports POSTed by HTTP) and store each message handed over, one at a
 * time, until SIGTERM or SIGINT (SIGHUP reloads the HTTP TLS certificate
 * and key: http_reload()); then remove the socket, stop
 * accepting HTTP connections, serve the connections already queued (those
 * by HTTP for up to 5 seconds) and log a summary.  A failure to listen
 * (78) or to wait for connections (71) is in the run's exit code.
 */
void serve_run(struct run *run);

#endif
