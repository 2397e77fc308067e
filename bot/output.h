/*
 * output.h - shapes a long text into chat-sized chunks.
 *
 * A chunk holds at most `max` units, counted in Unicode code points (what
 * Mattermost and Slack limit) or bytes. A chunk never ends inside a UTF-8
 * sequence (an invalid byte counts as one code point). Text is split between
 * lines where possible; a single line longer than a chunk is split at the
 * limit, after the last space in the second half of the chunk if there is
 * one (such a line starts in the current chunk when a quarter of it is still
 * free). The newline at a split between lines is dropped, and so is the
 * final newline of the text.
 *
 * Code fences: a line that starts (after at most three spaces) with three or
 * more backticks opens a fenced block, with the rest of the line as its info
 * string, and a line of at least as many backticks closes it (CommonMark's
 * rule; "```code```" on one line is inline and changes nothing). A chunk that
 * ends inside a block gets "\n```" at its end, and the next chunk starts
 * with the opening line again ("```text\n"); those characters count towards
 * max. An unclosed block at the very end is left as it was. An opening line
 * is not left alone at the end of a chunk when it can start the next one.
 *
 * Cap: with max_chunks set, a text that needs more chunks keeps the first
 * max_chunks - 1 chunks and ends with a chunk holding the end of the text,
 * preceded by a line such as "… 1,234 lines (56 KB) cut …". Nothing is
 * dropped silently; chunks made only of blank lines are left out.
 *
 * Ownership: output_split fills a caller-provided struct whose strings the
 * caller frees with output_chunks_free.
 */
#ifndef ACKBOT_OUTPUT_H
#define ACKBOT_OUTPUT_H

#include <stddef.h>

#define OUTPUT_MIN_MAX 16       /* the smallest chunk size accepted */

enum output_unit { OUTPUT_CODEPOINTS, OUTPUT_BYTES };

struct output_opts {
	size_t max;                     /* units per chunk, >= OUTPUT_MIN_MAX */
	enum output_unit unit;
	size_t max_chunks;              /* 0 = no cap */
};

struct output_chunks {
	char **v;                       /* n NUL-terminated chunks */
	size_t *len;                    /* their lengths in bytes */
	size_t n;
	size_t cut_bytes;               /* bytes of the input left out; 0 if none */
	size_t cut_lines;               /* lines (whole or partial) left out */
};

/*
 * Splits text[0..len) (empty text: no chunks). Returns 0, or -1 with a
 * message if opts are invalid; out is always initialized.
 */
int output_split(const char *text, size_t len, const struct output_opts *opts,
    struct output_chunks *out, char *err, size_t errlen);
void output_chunks_free(struct output_chunks *c);

/* The size of s[0..n) in the given unit, as output_split counts it. */
size_t output_measure(const char *s, size_t n, enum output_unit unit);

#endif
