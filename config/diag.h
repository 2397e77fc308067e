/*
 * diag.h - a list of diagnostics (errors and warnings) with file:line:col.
 *
 * Config loading reports every problem at once instead of stopping at the
 * first, so each validator appends here and the caller prints the lot.
 */
#ifndef ACKBOT_DIAG_H
#define ACKBOT_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "../bot/util.h"

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag_item {
	enum diag_severity severity;
	char *file;                     /* owned copy */
	int line, col;                  /* 0 when unknown */
	char *msg;
};

struct diag {
	struct diag_item *items;
	size_t n, cap;
	size_t nerrors, nwarnings;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
void diag_add(struct diag *d, enum diag_severity sev, const char *file,
    int line, int col, const char *fmt, ...) ACK_PRINTF(6, 7);
/* Prints "file:line:col: error: msg" lines, in the order they were added. */
void diag_print(const struct diag *d, FILE *f);

#endif
