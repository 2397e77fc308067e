/*
 * help.c - builds the `help` reply from the aliases' display formats, and
 * the "did you mean" suggestions for a command that matched nothing.
 */
#include "help.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alias_pairs.h"
#include "util.h"

#define DEFAULT_CHUNK 3500
#define DEFAULT_LINES 40

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive substring search of needle[0..nl) in hay. */
static bool
contains_ci(const char *hay, const char *needle, size_t nl)
{
	size_t i, j, hl;

	if (hay == NULL)
		return false;
	hl = strlen(hay);
	for (i = 0; i + nl <= hl; i++) {
		for (j = 0; j < nl && lower(hay[i + j]) == lower(needle[j]); j++)
			;
		if (j == nl)
			return true;
	}
	return false;
}

static bool
shown_alias(const struct cfg_alias *a, help_visible_fn visible, void *arg)
{
	return a->enabled && (visible == NULL || visible(a, arg));
}

/* true if every whitespace-separated word of filter occurs in one of the
 * item's texts */
static bool
filter_ok(const struct help_item *it, const char *filter)
{
	size_t i = 0, n, w0, L;

	if (filter == NULL)
		return true;
	n = strlen(filter);
	for (;;) {
		while (i < n && (L = alias_space_len(filter, i, n)) > 0)
			i += L;
		if (i >= n)
			return true;
		w0 = i;
		while (i < n && alias_space_len(filter, i, n) == 0)
			i++;
		if (!contains_ci(it->display, filter + w0, i - w0) &&
		    !contains_ci(it->alias->description, filter + w0, i - w0) &&
		    !contains_ci(it->alias->name, filter + w0, i - w0) &&
		    !contains_ci(it->alias->category, filter + w0, i - w0))
			return false;
	}
}

static const char *
category(const struct cfg_alias *a)
{
	return a->category != NULL ? a->category : "general";
}

static int
item_cmp(const void *x, const void *y)
{
	const struct help_item *a = x, *b = y;
	int c = strcmp(category(a->alias), category(b->alias));

	if (c != 0)
		return c;
	c = strcasecmp(a->display, b->display);
	if (c != 0)
		return c;
	c = strcmp(a->display, b->display);
	if (c != 0)
		return c;
	return a->alias < b->alias ? -1 : a->alias > b->alias;
}

size_t
help_collect(const struct cfg *cfg, const struct help_opts *o, struct help_item **out)
{
	struct help_item *v = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < cfg->naliases; i++) {
		const struct cfg_alias *a = &cfg->aliases[i];

		if (!shown_alias(a, o->visible, o->arg))
			continue;
		for (j = 0; j < a->nformats; j++) {
			struct help_item it = { a, a->formats[j].display.s };

			if (it.display == NULL || !filter_ok(&it, o->filter))
				continue;
			v = xgrow(v, &cap, n + 1, sizeof *v);
			v[n++] = it;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof *v, item_cmp);
	*out = v;
	return n;
}

/* ------------------------------------------------------------------ */

struct chunker {
	struct help_text *t;
	struct buf cur;
	size_t max;
};

static void
chunk_flush(struct chunker *c)
{
	if (c->cur.len == 0)
		return;
	/* drop the final newline */
	if (c->cur.data[c->cur.len - 1] == '\n')
		c->cur.data[--c->cur.len] = '\0';
	c->t->chunks = xrealloc(c->t->chunks, (c->t->n + 1) * sizeof *c->t->chunks);
	c->t->chunks[c->t->n++] = buf_steal(&c->cur);
	buf_init(&c->cur, 0);
}

/* Adds one line (without its newline). A line longer than a chunk is cut at
 * a UTF-8 boundary and continues in the next chunk. */
static void
chunk_line(struct chunker *c, const char *s, size_t n)
{
	while (n > 0) {
		size_t room, take;

		if (c->cur.len > 0 && c->cur.len + n + 1 > c->max)
			chunk_flush(c);
		room = c->max - 1 - c->cur.len;
		take = n <= room ? n : room;
		while (take < n && take > 0 && ((unsigned char)s[take] & 0xc0) == 0x80)
			take--;
		if (take == 0)
			take = n < room ? n : (room ? room : 1);
		buf_append(&c->cur, s, take);
		s += take;
		n -= take;
		if (n > 0)
			chunk_flush(c);
	}
	buf_putc(&c->cur, '\n');
}

static void
chunk_printf(struct chunker *c, const char *fmt, ...) ACK_PRINTF(2, 3);

static void
chunk_printf(struct chunker *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	chunk_line(c, s, strlen(s));
	free(s);
}

void
help_render(const struct cfg *cfg, const struct help_opts *o, struct help_text *out)
{
	struct help_item *items;
	struct chunker c;
	size_t n, i, max_lines = o->max_lines ? o->max_lines : DEFAULT_LINES;
	const char *prefix = o->prefix ? o->prefix : "";
	const char *last = NULL;
	bool filtered = o->filter != NULL && o->filter[strspn(o->filter, " \t")] != '\0';

	out->chunks = NULL;
	out->n = 0;
	c.t = out;
	c.max = o->max_chunk ? o->max_chunk : DEFAULT_CHUNK;
	if (c.max < 64)
		c.max = 64;
	buf_init(&c.cur, 0);

	n = help_collect(cfg, o, &items);
	if (n == 0) {
		if (filtered)
			chunk_printf(&c, "No commands match \"%s\". Try `%shelp` for the full list.",
			    o->filter, prefix);
		else
			chunk_printf(&c, "No commands are available to you.");
	} else {
		chunk_printf(&c, "%s (%zu):", filtered ? "Matching commands" : "Commands", n);
	}
	for (i = 0; i < n && i < max_lines; i++) {
		const struct help_item *it = &items[i];
		const char *desc = it->alias->description;
		bool tick = strchr(it->display, '`') == NULL;

		if (last == NULL || strcmp(last, category(it->alias)) != 0) {
			last = category(it->alias);
			chunk_printf(&c, "[%s]", last);
		}
		chunk_printf(&c, "  %s%s%s%s%s%s", tick ? "`" : "", prefix, it->display,
		    tick ? "`" : "", desc != NULL && desc[0] != '\0' ? " - " : "",
		    desc != NULL ? desc : "");
	}
	if (n > max_lines)
		chunk_printf(&c, "... and %zu more. Narrow the list with `%shelp WORDS`.",
		    n - max_lines, prefix);
	chunk_flush(&c);
	buf_free(&c.cur);
	free(items);
}

void
help_text_free(struct help_text *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->chunks[i]);
	free(t->chunks);
	t->chunks = NULL;
	t->n = 0;
}

/* ------------------------------------------------------------------ */
/* suggestions                                                         */

/* Splits s into up to max lowercase words (ASCII-lowered) in buf. */
static size_t
words(const char *s, struct buf *b, size_t *off, size_t *len, size_t max)
{
	size_t i = 0, n = strlen(s), k = 0, L, w0;

	buf_reset(b);
	while (k < max) {
		while (i < n && (L = alias_space_len(s, i, n)) > 0)
			i += L;
		if (i >= n)
			break;
		w0 = i;
		while (i < n && alias_space_len(s, i, n) == 0)
			i++;
		off[k] = b->len;
		len[k] = i - w0;
		for (; w0 < i; w0++)
			buf_putc(b, lower(s[w0]));
		buf_putc(b, '\0');
		k++;
	}
	return k;
}

static bool
placeholder_word(const char *w)
{
	return strstr(w, "{{") != NULL || w[0] == '<' || w[0] == '[' || w[0] == '(';
}

static size_t
edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
	size_t row[65], i, j, prev, tmp;

	if (na > 64 || nb > 64)
		return 99;
	for (j = 0; j <= nb; j++)
		row[j] = j;
	for (i = 1; i <= na; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= nb; j++) {
			size_t best = prev + (a[i - 1] == b[j - 1] ? 0 : 1);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[nb];
}

struct cand {
	struct help_item it;
	int cls;                /* 0 same first word, 1 close, 2 substring */
	size_t shared, dist;
};

static int
cand_cmp(const struct cand *a, const struct cand *b)
{
	if (a->cls != b->cls)
		return a->cls < b->cls ? -1 : 1;
	if (a->shared != b->shared)
		return a->shared > b->shared ? -1 : 1;
	if (a->dist != b->dist)
		return a->dist < b->dist ? -1 : 1;
	return strcmp(a->it.display, b->it.display);
}

size_t
help_suggest(const struct cfg *cfg, const char *text, help_visible_fn visible,
    void *arg, struct help_item *out, size_t max)
{
	struct buf tb, db;
	size_t toff[8], tlen[8], doff[8], dlen[8], nt, nd, i, j, k, n = 0;
	struct cand *best = xcalloc(max ? max : 1, sizeof *best);

	buf_init(&tb, 0);
	buf_init(&db, 0);
	nt = words(text, &tb, toff, tlen, 8);
	if (nt == 0 || max == 0)
		goto out;
	for (i = 0; i < cfg->naliases; i++) {
		const struct cfg_alias *a = &cfg->aliases[i];
		struct cand c, have;
		bool got = false;

		if (!shown_alias(a, visible, arg))
			continue;
		memset(&have, 0, sizeof have);
		for (j = 0; j < a->nformats; j++) {
			const char *d = a->formats[j].display.s;
			const char *t0 = tb.data + toff[0], *d0;

			if (d == NULL)
				continue;
			nd = words(d, &db, doff, dlen, 8);
			if (nd == 0)
				continue;
			d0 = db.data + doff[0];
			memset(&c, 0, sizeof c);
			c.it.alias = a;
			c.it.display = d;
			if (placeholder_word(d0)) {
				continue;
			} else if (strcmp(t0, d0) == 0) {
				c.cls = 0;
				for (k = 0; k < nt && k < nd && !placeholder_word(db.data + doff[k]) &&
				    strcmp(tb.data + toff[k], db.data + doff[k]) == 0; k++)
					;
				c.shared = k;
			} else {
				c.dist = edit_distance(t0, tlen[0], d0, dlen[0]);
				if (c.dist <= (dlen[0] / 3 > 1 ? dlen[0] / 3 : 1) && c.dist < dlen[0])
					c.cls = 1;
				else if (tlen[0] >= 3 && (contains_ci(d, t0, tlen[0]) ||
				    contains_ci(a->name, t0, tlen[0])))
					c.cls = 2;
				else
					continue;
			}
			if (!got || cand_cmp(&c, &have) < 0)
				have = c;
			got = true;
		}
		if (!got)
			continue;
		/* insert into the sorted best[0..n) */
		for (k = n; k > 0 && cand_cmp(&have, &best[k - 1]) < 0; k--)
			if (k < max)
				best[k] = best[k - 1];
		if (k < max) {
			best[k] = have;
			if (n < max)
				n++;
		}
	}
	for (k = 0; k < n; k++)
		out[k] = best[k].it;
out:
	free(best);
	buf_free(&tb);
	buf_free(&db);
	return n;
}

char *
help_suggest_line(const struct cfg *cfg, const char *text, const char *prefix,
    help_visible_fn visible, void *arg)
{
	struct help_item it[3];
	struct buf b;
	size_t n = help_suggest(cfg, text, visible, arg, it, 3), i;

	buf_init(&b, 0);
	if (n == 0)
		return buf_steal(&b);
	buf_puts(&b, "Did you mean: ");
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s`%s%s`", i ? (i + 1 == n ? " or " : ", ") : "",
		    prefix ? prefix : "", it[i].display);
	buf_puts(&b, "?");
	return buf_steal(&b);
}
