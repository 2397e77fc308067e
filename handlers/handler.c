/*
 * handler.c - the handler table, result helpers, and the template helpers
 * the exec and http handlers share.
 */
#include "handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/template.h"
#include "bot/util.h"

#define HANDLER_DEFAULT_FIELD_MAX (64u * 1024u)

const struct handler_ops *
handler_for(enum cfg_handler_kind kind)
{
	switch (kind) {
	case CFG_HANDLER_EXEC:
		return &handler_exec;
	case CFG_HANDLER_HTTP:
		return &handler_http;
	}
	return NULL;
}

const char *
action_status_name(enum action_status s)
{
	switch (s) {
	case ACTION_SUCCEEDED:
		return "succeeded";
	case ACTION_FAILED:
		return "failed";
	case ACTION_TIMEOUT:
		return "timeout";
	case ACTION_CANCELED:
		return "canceled";
	}
	return "unknown";
}

void
action_result_free_fields(struct action_result *r)
{
	if (r == NULL)
		return;
	free(r->out);
	free(r->err);
	free(r->reason);
	if (r->json)
		json_decref(r->json);
	r->out = r->err = r->reason = NULL;
	r->json = NULL;
	r->out_len = r->err_len = r->out_dropped = r->err_dropped = 0;
}

char *
handler_render(const char *src, const json_t *ctx, size_t max, const char *what,
    char *err, size_t errlen)
{
	struct tmpl_error te;
	struct tmpl *t;
	struct buf b;
	char rerr[ACK_ERR_LEN];
	size_t len;

	if (max == 0)
		max = HANDLER_DEFAULT_FIELD_MAX;
	if (src == NULL)
		src = "";
	len = strlen(src);
	if (tmpl_is_literal(src, len)) {
		if (len > max) {
			ack_err(err, errlen, "%s is longer than %zu bytes", what, max);
			return NULL;
		}
		return xstrdup(src);
	}
	memset(&te, 0, sizeof te);
	t = tmpl_compile(src, len, &te);
	if (t == NULL) {
		ack_err(err, errlen, "bad template in %s: %s", what, te.msg);
		return NULL;
	}
	buf_init(&b, max);
	if (tmpl_render(t, ctx, &b, rerr, sizeof rerr) != 0) {
		tmpl_free(t);
		buf_free(&b);
		ack_err(err, errlen, "could not render %s: %s", what, rerr);
		return NULL;
	}
	tmpl_free(t);
	if (b.len > 0 && memchr(b.data, '\0', b.len) != NULL) {
		buf_free(&b);
		ack_err(err, errlen, "%s contains a NUL byte after rendering", what);
		return NULL;
	}
	return buf_steal(&b);
}

void
handler_check_template(const struct cfg_str *v, const char *what,
    const char *file, struct diag *d)
{
	struct tmpl_error te;
	struct tmpl *t;
	int line, col;

	if (v == NULL || v->s == NULL || tmpl_is_literal(v->s, strlen(v->s)))
		return;
	memset(&te, 0, sizeof te);
	t = tmpl_compile(v->s, strlen(v->s), &te);
	if (t != NULL) {
		tmpl_free(t);
		return;
	}
	/* v->pos is where the value starts (its opening quote), so the first
	 * character of a one-line string is one column further on. */
	line = v->pos.line;
	col = v->pos.col;
	if (line > 0 && te.line > 1) {
		line += te.line - 1;
		col = te.col;
	} else if (line > 0 && te.col > 0) {
		col += te.col;
	}
	diag_add(d, DIAG_ERROR, file, line, col, "%s: bad template: %s", what, te.msg);
}

void
handler_fmt_duration(uint64_t ms, char *out, size_t outlen)
{
	unsigned long long s, h, m;
	int n = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (ms < 1000) {
		snprintf(out, outlen, "%llums", (unsigned long long)ms);
		return;
	}
	if (ms % 1000 != 0) {
		snprintf(out, outlen, "%.1fs", (double)ms / 1000.0);
		return;
	}
	s = ms / 1000;
	h = s / 3600;
	m = (s % 3600) / 60;
	s %= 60;
	if (h)
		n += snprintf(out + n, outlen - (size_t)n, "%lluh", h);
	if (m && (size_t)n < outlen)
		n += snprintf(out + n, outlen - (size_t)n, "%llum", m);
	if (s && (size_t)n < outlen)
		snprintf(out + n, outlen - (size_t)n, "%llus", s);
}
