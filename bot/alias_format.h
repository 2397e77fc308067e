/*
 * alias_format.h - one StackStorm action-alias format string, compiled to a
 * PCRE2 regex once, and parameter extraction from a chat command.
 *
 * The grammar and the compilation steps follow st2-alias/spec.md §3-§6:
 * literal text is a (Python-compatible) regex, `{{name}}` and
 * `{{name=default}}` become named groups, user-written `(?P<name>...)`
 * groups are parameters too, `^\s*` / `\s*$` are added unless the format has
 * its own anchors, and the command is padded with one space on each side.
 * Where ackbot deviates from st2 on purpose it is said at the function and
 * listed in docs/aliases.md.
 *
 * Ownership: afmt_compile returns an object freed with afmt_free. A compiled
 * format is immutable and may be shared; matching needs a caller-owned
 * struct afmt_scratch (match data and buffers reused between calls, so that
 * the hot path does not allocate).
 */
#ifndef ACKBOT_ALIAS_FORMAT_H
#define ACKBOT_ALIAS_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "alias_pairs.h"
#include "util.h"

struct afmt;
struct afmt_scratch;

/* Why a format did not compile: a message and the byte offset in the format
 * string it points at. */
struct afmt_error {
	size_t offset;
	char msg[256];
};

/* Longest parameter name PCRE2 accepts as a group name. */
#define AFMT_MAX_NAME 32

/*
 * Compiles fmt[0..len) (UTF-8). multiple selects match_multiple (every
 * non-overlapping match is one result). Returns NULL and fills err when the
 * format is not valid: not UTF-8, a bad or repeated parameter name, or a
 * regex PCRE2 rejects (with PCRE2's message, mapped back to the format).
 */
struct afmt *afmt_compile(const char *fmt, size_t len, bool multiple,
    struct afmt_error *err);
void afmt_free(struct afmt *f);

const char *afmt_source(const struct afmt *f);
/* The final regex that is matched, for debugging and tests. */
const char *afmt_regex(const struct afmt *f);
bool afmt_multiple(const struct afmt *f);

/* Placeholders ({{...}}), in format order. */
size_t afmt_nparams(const struct afmt *f);
const char *afmt_param_name(const struct afmt *f, size_t i);
/* The default of an optional placeholder; NULL for a required one. */
const char *afmt_param_default(const struct afmt *f, size_t i);
/* true if the format (placeholder or regex group) has parameter name. */
bool afmt_has_param(const struct afmt *f, const char *name, size_t len);

/*
 * The literal first word every matching command starts with, for indexing;
 * NULL if there is none (the format starts with a placeholder or a regex
 * construct, or is not anchored at the start). *caseless is set when the
 * format starts with (?i): compare ASCII-lowercased then.
 */
const char *afmt_lead_word(const struct afmt *f, size_t *len, bool *caseless);

/* A command made from the format (placeholders filled with v1, v2...) that
 * it should match, for overlap warnings; NULL when the format has regex
 * constructs or is match_multiple. */
const char *afmt_sample(const struct afmt *f);

struct afmt_scratch *afmt_scratch_new(void);
void afmt_scratch_free(struct afmt_scratch *s);

/* How specific a match is: non-space characters matched by literal text
 * (outside parameters and their quotes), then parameters that took a value
 * from the command. Larger is more specific. */
struct afmt_score {
	unsigned literal;
	unsigned nparams;
};

/*
 * Matches cmd[0..len) (valid UTF-8) against f. pairs is the result of
 * apairs_scan on the same command (or NULL to scan here). On a match
 * returns 1 and sets *params to a new object (name -> string), or for a
 * match_multiple format to a new array of such objects, and *score if
 * given. Returns 0 when the command does not match (err says why, in st2's
 * words), or -1 when PCRE2 gave up (match limit).
 */
int afmt_extract(const struct afmt *f, const char *cmd, size_t len,
    const struct apairs *pairs, struct afmt_scratch *s, json_t **params,
    struct afmt_score *score, char *err, size_t errlen);

/* Compile + extract + free in one call (ackbot parse-format, the st2
 * vectors, the fuzzer). Returns 1 match, 0 no match, -1 bad format; err
 * says why. cmd may be any bytes: invalid UTF-8 is replaced by U+FFFD. */
int afmt_parse(const char *fmt, size_t fmtlen, const char *cmd, size_t len,
    bool multiple, json_t **params, char *err, size_t errlen);

/* Copies s[0..n) into out replacing each invalid UTF-8 sequence with
 * U+FFFD; returns false (and leaves out untouched) if s is already valid. */
bool afmt_utf8_sanitize(const char *s, size_t n, struct buf *out);

#endif
