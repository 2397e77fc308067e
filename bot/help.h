/*
 * help.h - the `help` command's text, and "did you mean" suggestions.
 *
 * help lists the display formats of every enabled alias (plain string
 * formats, and the `display` of table formats; representation-only formats
 * are hidden, display-only ones are shown), each with the alias's
 * description, grouped by category: categories in alphabetical order, then
 * displays. `help WORDS` keeps the lines where every word occurs
 * (case-insensitively) in the display, the description, the alias name or
 * the category. A predicate decides which aliases the asker may see.
 *
 * The text comes back as chunks, each under a byte limit, split on line
 * boundaries; nothing is cut silently: past a number of lines the rest is
 * counted and the reply says how to filter.
 *
 * Everything returned points into the struct cfg or is owned by the caller
 * as said below.
 */
#ifndef ACKBOT_HELP_H
#define ACKBOT_HELP_H

#include <stdbool.h>
#include <stddef.h>

#include "../config/config.h"

typedef bool (*help_visible_fn)(const struct cfg_alias *alias, void *arg);

struct help_item {
	const struct cfg_alias *alias;
	const char *display;
};

struct help_opts {
	const char *prefix;             /* shown before each display ("!"); NULL = "" */
	const char *filter;             /* the words after `help`; NULL/"" = all */
	help_visible_fn visible;        /* NULL = every enabled alias */
	void *arg;
	size_t max_chunk;               /* bytes per chunk; 0 = 3500 */
	size_t max_lines;               /* command lines shown; 0 = 40 */
};

/* The items help shows, filtered and sorted. Returns how many; *out is a
 * new array (free it; NULL when 0). */
size_t help_collect(const struct cfg *cfg, const struct help_opts *o,
    struct help_item **out);

struct help_text {
	char **chunks;                  /* each a NUL-terminated message */
	size_t n;
};

/* Renders the help reply (at least one chunk). Free with help_text_free. */
void help_render(const struct cfg *cfg, const struct help_opts *o, struct help_text *out);
void help_text_free(struct help_text *t);

/*
 * "Did you mean": up to max aliases (one display each) closest to text,
 * best first: same first word, then a first word within a small edit
 * distance, then a first word found inside a display or an alias name.
 * Returns how many were written to out.
 */
size_t help_suggest(const struct cfg *cfg, const char *text, help_visible_fn visible,
    void *arg, struct help_item *out, size_t max);

/* One line for a no-match reply: "Did you mean: `!a`, `!b`?" or "" when
 * there is nothing to suggest. New string. */
char *help_suggest_line(const struct cfg *cfg, const char *text, const char *prefix,
    help_visible_fn visible, void *arg);

#endif
