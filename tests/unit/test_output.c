/*
 * test_output.c - splitting long text into chat-sized chunks: line
 * boundaries, exact limits, one huge line, multibyte text in code points and
 * bytes, code fences closed and reopened, the chunk cap and its notice, and
 * random texts checked for size, UTF-8, balanced fences and lost content.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bot/output.h"
#include "bot/util.h"

static struct output_chunks
split(const char *text, size_t max, enum output_unit unit, size_t max_chunks)
{
	struct output_opts o = { .max = max, .unit = unit, .max_chunks = max_chunks };
	struct output_chunks c;
	char err[256] = "";

	if (output_split(text, strlen(text), &o, &c, err, sizeof(err)) != 0)
		fail_msg("output_split: %s", err);
	return c;
}

static void
assert_sizes(const struct output_chunks *c, size_t max, enum output_unit unit)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		assert_int_equal(strlen(c->v[i]), c->len[i]);
		if (output_measure(c->v[i], c->len[i], unit) > max)
			fail_msg("chunk %zu has %zu units > %zu: [%s]", i,
			    output_measure(c->v[i], c->len[i], unit), max, c->v[i]);
	}
}

static char *
repeat(const char *s, size_t n)
{
	size_t l = strlen(s), i;
	char *p = xmalloc(l * n + 1);

	for (i = 0; i < n; i++)
		memcpy(p + i * l, s, l);
	p[l * n] = '\0';
	return p;
}

/* ---- plain text --------------------------------------------------------- */

static void
test_empty_and_short(void **state)
{
	struct output_chunks c = split("", 100, OUTPUT_CODEPOINTS, 0);

	assert_int_equal(c.n, 0);
	output_chunks_free(&c);
	c = split("hello", 100, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0], "hello");
	assert_int_equal(c.len[0], 5);
	output_chunks_free(&c);
	/* the final newline is not worth a character */
	c = split("hello\nworld\n", 100, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0], "hello\nworld");
	output_chunks_free(&c);
	/* blank-only text: nothing to send */
	c = split("\n\n  \n", 100, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 0);
	output_chunks_free(&c);
	(void)state;
}

static void
test_bad_opts(void **state)
{
	struct output_opts o = { .max = 15 };
	struct output_chunks c;
	char err[256] = "";

	assert_int_equal(output_split("abc", 3, &o, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "minimum"));
	assert_int_equal(c.n, 0);
	o.max = 40;
	o.max_chunks = 2;
	assert_int_equal(output_split("abc", 3, &o, &c, NULL, 0), -1);
	(void)state;
}

static void
test_line_boundaries_exact(void **state)
{
	char *text = repeat("aaaaaaaaa\n", 4);      /* 4 lines of 9 + '\n' */
	struct output_chunks c;

	/* two lines and the newline between them: 19 exactly */
	c = split(text, 19, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0], "aaaaaaaaa\naaaaaaaaa");
	assert_string_equal(c.v[1], "aaaaaaaaa\naaaaaaaaa");
	output_chunks_free(&c);
	/* one short of that: one line per chunk, never a split line */
	c = split(text, 18, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.v[3], "aaaaaaaaa");
	output_chunks_free(&c);
	/* everything: 39 */
	c = split(text, 39, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 1);
	output_chunks_free(&c);
	c = split(text, 38, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0], "aaaaaaaaa\naaaaaaaaa\naaaaaaaaa");
	assert_string_equal(c.v[1], "aaaaaaaaa");
	output_chunks_free(&c);
	free(text);
	(void)state;
}

static void
test_one_huge_line(void **state)
{
	char *text = repeat("x", 100);
	struct output_chunks c = split(text, 16, OUTPUT_CODEPOINTS, 0);
	struct buf all;
	size_t i;

	assert_int_equal(c.n, 7);       /* 6 x 16 + 4 */
	buf_init(&all, 0);
	for (i = 0; i < c.n; i++) {
		assert_int_equal(c.len[i], i < 6 ? 16 : 4);
		buf_puts(&all, c.v[i]);
	}
	assert_string_equal(all.data, text);
	buf_free(&all);
	output_chunks_free(&c);
	free(text);
	(void)state;
}

static void
test_long_line_prefers_space(void **state)
{
	const char *text = "alpha beta gamma delta epsilon zeta eta theta iota kappa";
	struct output_chunks c = split(text, 20, OUTPUT_CODEPOINTS, 0);
	struct buf all;
	size_t i;

	buf_init(&all, 0);
	for (i = 0; i < c.n; i++) {
		/* every chunk but the last ends after a space */
		if (i + 1 < c.n)
			assert_int_equal(c.v[i][c.len[i] - 1], ' ');
		buf_puts(&all, c.v[i]);
	}
	assert_string_equal(c.v[0], "alpha beta gamma ");
	assert_string_equal(all.data, text);
	assert_sizes(&c, 20, OUTPUT_CODEPOINTS);
	buf_free(&all);
	output_chunks_free(&c);
	/* a space early in the chunk is not worth a tiny chunk */
	c = split("a bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 16, OUTPUT_CODEPOINTS, 0);
	assert_string_equal(c.v[0], "a bbbbbbbbbbbbbb");
	output_chunks_free(&c);
	(void)state;
}

static void
test_lines_then_long_line(void **state)
{
	struct output_chunks c;
	char *text = xasprintf("short\n%s\nend", "0123456789012345678901234");

	/* the long line starts in the chunk that has room */
	c = split(text, 16, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.v[0], "short\n0123456789");
	assert_string_equal(c.v[1], "012345678901234");
	assert_string_equal(c.v[2], "end");
	output_chunks_free(&c);
	free(text);
	/* but a line that fits a chunk of its own is not split */
	c = split("0123456789\nabcdefghijk\nend", 16, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0], "0123456789");
	assert_string_equal(c.v[1], "abcdefghijk\nend");
	output_chunks_free(&c);
	(void)state;
}

/* ---- multibyte ---------------------------------------------------------- */

static void
test_multibyte_codepoints(void **state)
{
	char *text = repeat("\xC3\xA9", 30);          /* é x 30 */
	struct output_chunks c = split(text, 16, OUTPUT_CODEPOINTS, 0);

	assert_int_equal(c.n, 2);
	assert_int_equal(c.len[0], 32);
	assert_int_equal(output_measure(c.v[0], c.len[0], OUTPUT_CODEPOINTS), 16);
	assert_int_equal(c.len[1], 28);
	assert_true(utf8_valid(c.v[0], c.len[0]));
	assert_true(utf8_valid(c.v[1], c.len[1]));
	output_chunks_free(&c);
	free(text);
	(void)state;
}

static void
test_multibyte_bytes(void **state)
{
	char *e = repeat("\xC3\xA9", 30);
	char *emoji = repeat("\xF0\x9F\x98\x80", 10);  /* 4 bytes each */
	struct output_chunks c;
	size_t i;

	c = split(e, 17, OUTPUT_BYTES, 0);     /* 8 é = 16 bytes, never 8.5 */
	assert_int_equal(c.n, 4);
	for (i = 0; i < c.n; i++) {
		assert_true(c.len[i] <= 17);
		assert_true(utf8_valid(c.v[i], c.len[i]));
	}
	assert_int_equal(c.len[0], 16);
	output_chunks_free(&c);
	c = split(emoji, 18, OUTPUT_BYTES, 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.len[0], 16);
	assert_int_equal(c.len[2], 8);
	for (i = 0; i < c.n; i++)
		assert_true(utf8_valid(c.v[i], c.len[i]));
	output_chunks_free(&c);
	/* the same in code points: 10 fit in 16 */
	c = split(emoji, 16, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 1);
	output_chunks_free(&c);
	free(e);
	free(emoji);
	(void)state;
}

static void
test_invalid_utf8(void **state)
{
	/* stray continuation bytes and a truncated sequence: one unit each */
	const char text[] = "\x80\x80\xE2\x82" "abcdefghijklmnopqrstuvwxyz";
	struct output_chunks c;

	assert_int_equal(output_measure(text, strlen(text), OUTPUT_CODEPOINTS), 30);
	c = split(text, 16, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.len[0], 16);
	output_chunks_free(&c);
	(void)state;
}

/* ---- fences ------------------------------------------------------------- */

/* true if the chunk, read alone, ends outside a code block. */
static bool
fences_balanced(const char *s, char *info, size_t infolen)
{
	size_t ticks = 0;
	bool in = false;

	while (*s) {
		const char *eol = strchr(s, '\n');
		size_t n = eol ? (size_t)(eol - s) : strlen(s), i = 0, k = 0;

		while (i < 3 && i < n && s[i] == ' ')
			i++;
		while (i + k < n && s[i + k] == '`')
			k++;
		if (k >= 3) {
			const char *rest = s + i + k;
			size_t rn = n - i - k, r;

			if (!in && memchr(rest, '`', rn) == NULL) {
				in = true;
				ticks = k;
				if (info != NULL && infolen > 0) {
					size_t m = rn < infolen - 1 ? rn : infolen - 1;

					memcpy(info, rest, m);
					info[m] = '\0';
					info = NULL;    /* the first one only */
				}
			} else if (in && k >= ticks) {
				for (r = 0; r < rn; r++)
					if (rest[r] != ' ' && rest[r] != '\t')
						break;
				if (r == rn)
					in = false;
			}
		}
		s += n + (eol ? 1 : 0);
	}
	return !in;
}

static void
test_fence_closed_and_reopened(void **state)
{
	struct buf text;
	struct output_chunks c;
	char info[32];
	size_t i;

	buf_init(&text, 0);
	buf_puts(&text, "Result:\n```text\n");
	for (i = 1; i <= 12; i++)
		buf_printf(&text, "line %02zu\n", i);
	buf_puts(&text, "```\ndone");
	c = split(text.data, 40, OUTPUT_CODEPOINTS, 0);
	assert_sizes(&c, 40, OUTPUT_CODEPOINTS);
	assert_true(c.n >= 3);
	for (i = 0; i < c.n; i++) {
		assert_true(fences_balanced(c.v[i], info, sizeof(info)));
		if (i > 0 && i + 1 < c.n) {
			/* middle chunks are all code: reopened and closed */
			assert_memory_equal(c.v[i], "```text\n", 8);
			assert_string_equal(info, "text");
			assert_string_equal(c.v[i] + c.len[i] - 4, "\n```");
		}
	}
	assert_memory_equal(c.v[0], "Result:\n```text\nline 01", 23);
	assert_string_equal(c.v[c.n - 1] + c.len[c.n - 1] - 8, "```\ndone");
	output_chunks_free(&c);
	buf_free(&text);
	(void)state;
}

static void
test_fence_exact_small(void **state)
{
	const char *text = "```\naaaa\nbbbb\ncccc\n```";
	struct output_chunks c;

	/* "```\naaaa\nbbbb" + "\n```" is 17 units exactly */
	c = split(text, 17, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0], "```\naaaa\nbbbb\n```");
	assert_string_equal(c.v[1], "```\ncccc\n```");
	output_chunks_free(&c);
	/* one less, and the closing fence pushes bbbb out */
	c = split(text, 16, OUTPUT_CODEPOINTS, 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.v[0], "```\naaaa\n```");
	assert_string_equal(c.v[1], "```\nbbbb\n```");
	assert_string_equal(c.v[2], "```\ncccc\n```");
	output_chunks_free(&c);
	(void)state;
}

static void
test_fence_opener_moves_to_next_chunk(void **state)
{
	const char *text = "some text here\n```sh\necho one\necho two\n```";
	struct output_chunks c = split(text, 24, OUTPUT_CODEPOINTS, 0);

	assert_true(c.n >= 2);
	/* not "some text here\n```sh\n```" */
	assert_string_equal(c.v[0], "some text here");
	assert_memory_equal(c.v[1], "```sh\necho one", 14);
	output_chunks_free(&c);
	(void)state;
}

static void
test_inline_fence_does_not_toggle(void **state)
{
	const char *text = "```inline```\nplain line one\nplain line two\nthree";
	struct output_chunks c = split(text, 30, OUTPUT_CODEPOINTS, 0);
	size_t i;

	for (i = 0; i < c.n; i++)
		assert_null(strstr(c.v[i] + 1, "\n```"));
	assert_string_equal(c.v[0], "```inline```\nplain line one");
	output_chunks_free(&c);
	(void)state;
}

static void
test_long_line_in_fence(void **state)
{
	char *long_line = repeat("y", 60);
	char *text = xasprintf("```json\n%s\n```", long_line);
	struct output_chunks c = split(text, 30, OUTPUT_CODEPOINTS, 0);
	size_t i, ys = 0;

	assert_sizes(&c, 30, OUTPUT_CODEPOINTS);
	for (i = 0; i < c.n; i++) {
		const char *p;

		assert_true(fences_balanced(c.v[i], NULL, 0));
		if (i > 0)
			assert_memory_equal(c.v[i], "```json\n", 8);
		for (p = c.v[i]; *p; p++)
			ys += *p == 'y';
	}
	assert_int_equal(ys, 60);       /* nothing lost */
	output_chunks_free(&c);
	free(text);
	free(long_line);
	(void)state;
}

static void
test_longer_fence_marker(void **state)
{
	/* a ```` block holding a ``` line: only ```` closes it */
	const char *text = "````md\n```\nnot closed\n```\nstill code\n````\nafter";
	struct output_chunks c = split(text, 24, OUTPUT_CODEPOINTS, 0);
	size_t i;

	assert_sizes(&c, 24, OUTPUT_CODEPOINTS);
	for (i = 1; i < c.n; i++)
		if (strncmp(c.v[i], "after", 5) != 0)
			assert_memory_equal(c.v[i], "````md\n", 7);
	output_chunks_free(&c);
	(void)state;
}

static void
test_unclosed_fence_at_end(void **state)
{
	const char *text = "```\nabcdefgh\nijklmnop\nqrstuvwx";
	struct output_chunks c = split(text, 21, OUTPUT_CODEPOINTS, 0);

	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0], "```\nabcdefgh\n```");
	/* the last chunk stays as the text was: open */
	assert_string_equal(c.v[1], "```\nijklmnop\nqrstuvwx");
	output_chunks_free(&c);
	(void)state;
}

/* ---- the cap ------------------------------------------------------------ */

static void
test_cut_notice(void **state)
{
	struct buf text;
	struct output_chunks c;
	size_t i, first_tail, head_lines, tail_lines = 0;
	const char *p;

	buf_init(&text, 0);
	for (i = 1; i <= 5000; i++)
		buf_printf(&text, "line %zu\n", i);
	c = split(text.data, 200, OUTPUT_CODEPOINTS, 3);
	assert_int_equal(c.n, 3);
	assert_sizes(&c, 200, OUTPUT_CODEPOINTS);
	assert_memory_equal(c.v[0], "line 1\nline 2\n", 14);
	/* the tail: the notice, then the end of the text */
	assert_memory_equal(c.v[2], "\xE2\x80\xA6 4,9", 7);
	assert_non_null(strstr(c.v[2], " lines ("));
	assert_non_null(strstr(c.v[2], " KB) cut \xE2\x80\xA6\n"));
	assert_string_equal(c.v[2] + c.len[2] - 9, "line 5000");
	/* the counts add up: head lines + cut + tail lines = 5000 */
	head_lines = 0;
	for (i = 0; i < 2; i++)
		for (p = c.v[i]; *p; p++)
			head_lines += *p == '\n';
	head_lines += 2;                /* the last line of each has no '\n' */
	p = strchr(c.v[2], '\n') + 1;
	assert_true(sscanf(p, "line %zu", &first_tail) == 1);
	for (; *p; p++)
		tail_lines += *p == '\n';
	tail_lines++;
	assert_int_equal(first_tail, 5000 - tail_lines + 1);
	assert_int_equal(head_lines + c.cut_lines + tail_lines, 5000);
	assert_true(c.cut_bytes > 40000);
	{
		char want[64];
		char sep[16];

		snprintf(sep, sizeof(sep), "%zu", c.cut_lines);
		snprintf(want, sizeof(want), "\xE2\x80\xA6 %c,%s lines (%zu KB) cut",
		    sep[0], sep + 1, (c.cut_bytes + 512) / 1024);
		assert_memory_equal(c.v[2], want, strlen(want));
	}
	output_chunks_free(&c);

	/* under the cap: nothing cut */
	c = split(text.data, 200000, OUTPUT_CODEPOINTS, 3);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.cut_bytes, 0);
	output_chunks_free(&c);
	buf_free(&text);
	(void)state;
}

static void
test_cut_one_chunk_and_small(void **state)
{
	struct buf text;
	struct output_chunks c;
	size_t i;

	buf_init(&text, 0);
	for (i = 0; i < 30; i++)
		buf_puts(&text, "0123456789\n");
	/* max_chunks 1: the notice and the end */
	c = split(text.data, 100, OUTPUT_CODEPOINTS, 1);
	assert_int_equal(c.n, 1);
	assert_sizes(&c, 100, OUTPUT_CODEPOINTS);
	assert_int_equal(c.cut_lines + (size_t)(c.len[0] - strcspn(c.v[0], "\n")) / 11, 30);
	assert_non_null(strstr(c.v[0], "lines (2"));    /* a few hundred bytes */
	assert_non_null(strstr(c.v[0], " bytes) cut"));
	output_chunks_free(&c);
	buf_free(&text);
	(void)state;
}

static void
test_cut_inside_fence(void **state)
{
	struct buf text;
	struct output_chunks c;
	size_t i;

	buf_init(&text, 0);
	buf_puts(&text, "```log\n");
	for (i = 0; i < 400; i++)
		buf_printf(&text, "entry %03zu\n", i);
	buf_puts(&text, "```\nexit 0");
	c = split(text.data, 128, OUTPUT_CODEPOINTS, 2);
	assert_int_equal(c.n, 2);
	assert_sizes(&c, 128, OUTPUT_CODEPOINTS);
	assert_true(fences_balanced(c.v[0], NULL, 0));
	assert_true(fences_balanced(c.v[1], NULL, 0));
	/* notice outside the block, then the block reopened */
	assert_non_null(strstr(c.v[1], " cut \xE2\x80\xA6\n```log\nentry "));
	assert_string_equal(c.v[1] + c.len[1] - 10, "```\nexit 0");
	output_chunks_free(&c);
	buf_free(&text);
	(void)state;
}

static void
test_cut_huge_last_line(void **state)
{
	char *big = repeat("word ", 400);
	char *text = xasprintf("head\n%s", big);
	struct output_chunks c = split(text, 100, OUTPUT_CODEPOINTS, 2);

	assert_int_equal(c.n, 2);
	assert_sizes(&c, 100, OUTPUT_CODEPOINTS);
	assert_non_null(strstr(c.v[1], " cut \xE2\x80\xA6\n"));
	/* the tail piece starts at a word */
	assert_memory_equal(strchr(c.v[1], '\n') + 1, "word", 4);
	output_chunks_free(&c);
	free(text);
	free(big);
	(void)state;
}

/* ---- random texts ------------------------------------------------------- */

static uint64_t rng = 88172645463325252ull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Non-fence, non-blank characters of s, in order: what must survive. */
static void
essence(const char *s, struct buf *out)
{
	while (*s) {
		const char *eol = strchr(s, '\n');
		size_t n = eol ? (size_t)(eol - s) : strlen(s), i;

		if (!(n >= 3 && strncmp(s, "```", 3) == 0))
			for (i = 0; i < n; i++)
				if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
					buf_putc(out, s[i]);
		s += n + (eol ? 1 : 0);
	}
}

static void
random_text(struct buf *b)
{
	static const char *const pieces[] = {
		"a", "word ", "x", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
		"-", "0", "==", "\t",
	};
	size_t lines = 1 + rnd(60), i, j;

	for (i = 0; i < lines; i++) {
		uint32_t kind = rnd(20);

		if (kind == 0) {
			buf_puts(b, rnd(2) ? "```\n" : "```text\n");
			continue;
		}
		if (kind == 1) {
			buf_putc(b, '\n');
			continue;
		}
		j = kind == 2 ? 50 + rnd(200) : rnd(30);
		while (j-- > 0)
			buf_puts(b, pieces[rnd(ACK_ARRAY_LEN(pieces))]);
		if (i + 1 < lines || rnd(2))
			buf_putc(b, '\n');
	}
}

static void
test_random_texts(void **state)
{
	size_t iter;

	for (iter = 0; iter < 3000; iter++) {
		struct buf text, want, got;
		struct output_chunks c;
		enum output_unit unit = rnd(2) ? OUTPUT_CODEPOINTS : OUTPUT_BYTES;
		size_t max = OUTPUT_MIN_MAX + rnd(100), i;
		bool ends_open;

		buf_init(&text, 0);
		buf_init(&want, 0);
		buf_init(&got, 0);
		random_text(&text);
		c = split(text.data, max, unit, 0);
		assert_sizes(&c, max, unit);
		ends_open = !fences_balanced(text.data, NULL, 0);
		for (i = 0; i < c.n; i++) {
			assert_true(utf8_valid(c.v[i], c.len[i]));
			if (i + 1 < c.n || !ends_open)
				if (!fences_balanced(c.v[i], NULL, 0))
					fail_msg("iter %zu max %zu: chunk %zu ends in a "
					    "code block: [%s]", iter, max, i, c.v[i]);
			essence(c.v[i], &got);
		}
		essence(text.data, &want);
		if (strcmp(want.data ? want.data : "", got.data ? got.data : "") != 0)
			fail_msg("iter %zu max %zu: content changed\n[%s]\n[%s]",
			    iter, max, want.data, got.data);
		output_chunks_free(&c);

		/* capped: within the cap and the size, UTF-8 intact */
		if (max >= 4 * OUTPUT_MIN_MAX) {
			size_t cap = 1 + rnd(3);

			c = split(text.data, max, unit, cap);
			assert_true(c.n <= cap);
			assert_sizes(&c, max, unit);
			for (i = 0; i < c.n; i++)
				assert_true(utf8_valid(c.v[i], c.len[i]));
			if (c.cut_bytes > 0)
				assert_non_null(strstr(c.v[c.n - 1], " cut \xE2\x80\xA6"));
			output_chunks_free(&c);
		}
		buf_free(&text);
		buf_free(&want);
		buf_free(&got);
	}
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_and_short),
		cmocka_unit_test(test_bad_opts),
		cmocka_unit_test(test_line_boundaries_exact),
		cmocka_unit_test(test_one_huge_line),
		cmocka_unit_test(test_long_line_prefers_space),
		cmocka_unit_test(test_lines_then_long_line),
		cmocka_unit_test(test_multibyte_codepoints),
		cmocka_unit_test(test_multibyte_bytes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_fence_closed_and_reopened),
		cmocka_unit_test(test_fence_exact_small),
		cmocka_unit_test(test_fence_opener_moves_to_next_chunk),
		cmocka_unit_test(test_inline_fence_does_not_toggle),
		cmocka_unit_test(test_long_line_in_fence),
		cmocka_unit_test(test_longer_fence_marker),
		cmocka_unit_test(test_unclosed_fence_at_end),
		cmocka_unit_test(test_cut_notice),
		cmocka_unit_test(test_cut_one_chunk_and_small),
		cmocka_unit_test(test_cut_inside_fence),
		cmocka_unit_test(test_cut_huge_last_line),
		cmocka_unit_test(test_random_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
