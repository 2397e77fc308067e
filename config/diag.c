/*
 * diag.c - collected diagnostics with positions.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>

void
diag_init(struct diag *d)
{
	d->items = NULL;
	d->n = d->cap = 0;
	d->nerrors = d->nwarnings = 0;
}

void
diag_free(struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].msg);
	}
	free(d->items);
	diag_init(d);
}

void
diag_add(struct diag *d, enum diag_severity sev, const char *file, int line,
    int col, const char *fmt, ...)
{
	struct diag_item *it;
	va_list ap;

	d->items = xgrow(d->items, &d->cap, d->n + 1, sizeof *d->items);
	it = &d->items[d->n++];
	it->severity = sev;
	it->file = xstrdup(file ? file : "<config>");
	it->line = line;
	it->col = col;
	va_start(ap, fmt);
	it->msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (sev == DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
}

void
diag_print(const struct diag *d, FILE *f)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct diag_item *it = &d->items[i];
		const char *sev = it->severity == DIAG_ERROR ? "error" : "warning";

		if (it->line > 0)
			fprintf(f, "%s:%d:%d: %s: %s\n", it->file, it->line,
			    it->col, sev, it->msg);
		else
			fprintf(f, "%s: %s: %s\n", it->file, sev, it->msg);
	}
}
