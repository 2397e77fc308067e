/*
 * alias_pairs.h - trailing `key=value` pairs of a chat command (StackStorm
 * "extra parameters", spec §4), and the whitespace rule shared by the alias
 * engine.
 *
 * A command may end with pairs such as `env=prod msg="two words"
 * data={"a": 1}`. They are found once per command, before any format is
 * tried: the earliest point from which the rest of the command is nothing
 * but whitespace-separated pairs. Deviations from StackStorm (see
 * docs/aliases.md):
 *   - a key must be a plain name ([A-Za-z_][A-Za-z0-9_]*), so a URL with a
 *     query string (`http://x?a=b`), a quoted value (`"a=b"`) or base64
 *     padding (`111==`) is never torn into a pair (st2 #3882, #5074);
 *   - each value is the one the whole-suffix parse used, so nested JSON in
 *     braces is kept whole (Q11);
 *   - pairs never start inside an open double quote, so `"a b=c"` stays
 *     one quoted value;
 *   - the pairs are cut off the end of the command only (Q3: st2 removes
 *     every occurrence of the text).
 *
 * Values point into the command; nothing is copied. The struct keeps its
 * scratch arrays between calls so that scanning does not allocate once warm.
 */
#ifndef ACKBOT_ALIAS_PAIRS_H
#define ACKBOT_ALIAS_PAIRS_H

#include <stdbool.h>
#include <stddef.h>

struct apair {
	size_t start;           /* where the whitespace before the pair begins:
	                           cutting the command here drops this pair and
	                           every later one */
	const char *key;
	size_t key_len;
	const char *val;        /* text between quotes, braces kept, or bare */
	size_t val_len;
};

struct apairs {
	struct apair *v;
	size_t n, cap;
	/* scan scratch, reused */
	unsigned char *ok;      /* per position: bit 0 "rest parses after a value" */
	size_t *next;           /* 3 arrays of candidate value ends */
	size_t scap;
};

void apairs_init(struct apairs *p);
void apairs_free(struct apairs *p);

/* Scans cmd[0..len) and fills p->v with its trailing pairs, in order.
 * Returns the number of pairs (0 if none). p->v[0].start is where the
 * pairs begin. cmd need not be NUL-terminated. */
size_t apairs_scan(struct apairs *p, const char *cmd, size_t len);

/* true if key[0..n) is a valid pair key / parameter name. */
bool alias_name_valid(const char *key, size_t n);

/* Length in bytes of the whitespace character at s[i] (s has n bytes), or 0.
 * Whitespace is what PCRE2 \s matches in UCP mode: ASCII \t\n\v\f\r and
 * space, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F and
 * U+3000. */
size_t alias_space_len(const char *s, size_t i, size_t n);

#endif
