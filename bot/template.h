/*
 * template.h - a small Jinja subset for ack/result messages, argv elements,
 * HTTP fields and parameter values.
 *
 * Supported: {{ expr }} with dotted and [...] lookups, string/number
 * literals, comparisons (== != < <= > >=), and/or/not, in, filters (default,
 * upper, lower, trim, truncate(n), length, join(sep), tojson, indent), {% if
 * %}/{% elif %}/{% else %}/{% endif %}, {% for x in xs %}...{% endfor %} with
 * loop.index, and whitespace control ({%- -%} {{- -}}). The full list, and
 * where it differs from Jinja, is in docs/templates.md.
 *
 * Templates compile once (at config load) and render many times against a
 * jansson object. An undefined name renders as the empty string, as in
 * Jinja's default (lenient) mode; `default` covers it.
 *
 * Ownership: tmpl_compile returns an object the caller frees with tmpl_free;
 * it does not keep a pointer to src. Rendering never modifies the template or
 * the context, so one compiled template may be rendered from anywhere on the
 * loop.
 */
#ifndef ACKBOT_TEMPLATE_H
#define ACKBOT_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct tmpl;

struct tmpl_error {
	size_t offset;          /* byte offset in the template source */
	int line, col;          /* 1-based, relative to the template's start */
	char msg[256];
};

struct tmpl *tmpl_compile(const char *src, size_t len, struct tmpl_error *err);
void tmpl_free(struct tmpl *t);

/* true if src contains no template syntax at all ({{, {% or {#), so that
 * callers can skip rendering: such a template renders as itself. */
bool tmpl_is_literal(const char *src, size_t len);

/*
 * Renders t with ctx (an object; may be NULL) by appending to out. Output is
 * capped by out->max; going over it is an error. Returns 0, or -1 with a
 * message in err (output too large, a filter given a bad argument).
 */
int tmpl_render(const struct tmpl *t, const json_t *ctx, struct buf *out,
    char *err, size_t errlen);

/* Compile + render + free in one call; returns a new string or NULL with
 * err filled. For one-off rendering where speed does not matter. */
char *tmpl_render_string(const char *src, const json_t *ctx, char *err, size_t errlen);

#endif
