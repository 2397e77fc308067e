/*
 * template.c - the public entry points of the template engine: compile
 * (lex + parse into one node array and one string pool), render, free.
 */
#include "template_int.h"

#include <stdlib.h>
#include <string.h>

struct tmpl *
tmpl_compile(const char *src, size_t len, struct tmpl_error *err)
{
	struct tmpl_error dummy;
	struct tokens tv = { NULL, 0, 0 };
	struct buf pool;
	struct tmpl *t;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof *err);
	if (src == NULL) {
		src = "";
		len = 0;
	}
	t = xcalloc(1, sizeof *t);
	buf_init(&pool, 0);
	if (tmpl_lex(src, len, &tv, &pool, err) < 0 ||
	    tmpl_parse(t, src, &tv, &pool, err) < 0) {
		free(tv.v);
		buf_free(&pool);
		tmpl_free(t);
		return NULL;
	}
	free(tv.v);
	t->poollen = pool.len;
	t->pool = buf_steal(&pool);
	return t;
}

void
tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->nodes);
	free(t->pool);
	free(t);
}

bool
tmpl_is_literal(const char *src, size_t len)
{
	const char *p = src, *end = src + len;

	while (p < end && (p = memchr(p, '{', (size_t)(end - p))) != NULL) {
		if (p + 1 < end && (p[1] == '{' || p[1] == '%' || p[1] == '#'))
			return false;
		p++;
	}
	return true;
}

int
tmpl_render(const struct tmpl *t, const json_t *ctx, struct buf *out,
    char *err, size_t errlen)
{
	struct rstate rs;
	size_t start = out->len;

	rs.t = t;
	rs.ctx = ctx && json_is_object(ctx) ? (json_t *)ctx : NULL;
	rs.out = out;
	rs.max = out->max < TMPL_MAX_VALUE ? out->max : TMPL_MAX_VALUE;
	rs.err = err;
	rs.errlen = errlen;
	rs.iterations = 0;
	rs.work = 0;
	if (err && errlen)
		err[0] = '\0';
	if (tmpl_render_body(&rs, t->root) < 0) {
		/* leave out as it was */
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}

char *
tmpl_render_string(const char *src, const json_t *ctx, char *err, size_t errlen)
{
	struct tmpl_error te;
	struct tmpl *t;
	struct buf out;

	if (src == NULL)
		src = "";
	t = tmpl_compile(src, strlen(src), &te);
	if (t == NULL) {
		ack_err(err, errlen, "line %d, col %d: %s", te.line, te.col, te.msg);
		return NULL;
	}
	buf_init(&out, 0);
	if (tmpl_render(t, ctx, &out, err, errlen) < 0) {
		buf_free(&out);
		tmpl_free(t);
		return NULL;
	}
	tmpl_free(t);
	return buf_steal(&out);
}
