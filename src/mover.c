/*
 * mover.c - a Maildir sweep's file moves: one renameat(2) (or unlinkat)
 * per message, relative to the sweep's directory descriptors.
 *
 * Names come from the directory; they are used only relative to its
 * descriptor, and one that is empty, too long or holds a '/' is refused.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mover.h"

int
mover_move(const struct mover_dirs *d, int sub, const char *name,
    bool handled)
{
	char target[NAME_MAX + 8];
	char clean[LOG_SANITIZED_BYTES];
	const char *to_name = name;
	size_t n = strlen(name);
	int to = handled ? d->done_fd : d->rej_fd;

	if (n == 0 || n > NAME_MAX || sub < 0 || sub > 1 ||
	    strchr(name, '/') != NULL) {
		log_err("cannot move a message: bad name");
		return -1;
	}
	if (handled && to < 0) {
		if (unlinkat(d->sub[sub], name, 0) == 0)
			return 0;
		log_err("%s: cannot delete: %s", log_sanitize(name, clean,
		    sizeof(clean)), strerror(errno));
		return -1;
	}
	/* From new/, the name gains the Maildir info part: "name:2,". */
	if (sub == 0 && strstr(name, ":2,") == NULL) {
		if (ti_snprintf(target, sizeof(target), "%s:2,", name) != 0) {
			log_err("%s: cannot move: name too long",
			    log_sanitize(name, clean, sizeof(clean)));
			return -1;
		}
		to_name = target;
	}
	if (renameat(d->sub[sub], name, to, to_name) == 0)
		return 0;
	log_err("%s: cannot move: %s", log_sanitize(name, clean,
	    sizeof(clean)), strerror(errno));
	return -1;
}
