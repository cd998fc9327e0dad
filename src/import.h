/*
 * import.h - batch mode: import an mbox.
 */
#ifndef TI_IMPORT_H
#define TI_IMPORT_H

#include "run.h"

/* Every message of the mbox at path, read-only; the same outcomes as a
 * Maildir sweep, with nothing moved. */
void import_mbox(struct run *run, const char *path);

#endif
