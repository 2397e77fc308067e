/*
 * template_lex.c - splits a template into tokens: text between tags, the tag
 * delimiters, and the names, literals and operators inside tags. Comments,
 * {% raw %} blocks and whitespace control ({{- -}} {%- -%} {#- -#}) are
 * resolved here, so the parser never sees them.
 */
#include "template_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lexer {
	const char *src;
	size_t len;
	size_t pos;
	struct tokens *tv;
	struct buf *pool;
	struct tmpl_error *err;
	bool lstrip;            /* strip the leading whitespace of the next text */
	/* line/column tracking; positions are asked for in increasing order */
	size_t lc_off;
	uint32_t line, col;
};

void
tmpl_error_set(struct tmpl_error *err, size_t off, uint32_t line, uint32_t col,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->offset = off;
	err->line = (int)line;
	err->col = (int)col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

static void
lex_where(struct lexer *lx, size_t off, uint32_t *line, uint32_t *col)
{
	size_t i;

	if (off < lx->lc_off) {         /* not expected; start over */
		lx->lc_off = 0;
		lx->line = 1;
		lx->col = 1;
	}
	for (i = lx->lc_off; i < off && i < lx->len; i++) {
		unsigned char c = (unsigned char)lx->src[i];

		if (c == '\n') {
			lx->line++;
			lx->col = 1;
		} else if ((c & 0xC0) != 0x80) {
			lx->col++;
		}
	}
	lx->lc_off = off;
	*line = lx->line;
	*col = lx->col;
}

static int
lex_error(struct lexer *lx, size_t off, const char *fmt, ...) ACK_PRINTF(3, 4);

static int
lex_error(struct lexer *lx, size_t off, const char *fmt, ...)
{
	uint32_t line, col;
	char msg[sizeof lx->err->msg];
	va_list ap;

	lex_where(lx, off, &line, &col);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tmpl_error_set(lx->err, off, line, col, "%s", msg);
	return -1;
}

static struct token *
lex_push(struct lexer *lx, enum tok_kind kind, size_t off, size_t len)
{
	struct token *t;

	lx->tv->v = xgrow(lx->tv->v, &lx->tv->cap, lx->tv->n + 1, sizeof *t);
	t = &lx->tv->v[lx->tv->n++];
	memset(t, 0, sizeof *t);
	t->kind = kind;
	t->off = (uint32_t)off;
	t->len = (uint32_t)len;
	lex_where(lx, off, &t->line, &t->col);
	return t;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static bool
is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Emits text src[start, end), stripped as asked. */
static void
lex_text(struct lexer *lx, size_t start, size_t end, bool rstrip)
{
	struct token *t;

	if (lx->lstrip) {
		while (start < end && is_space(lx->src[start]))
			start++;
		lx->lstrip = false;
	}
	if (rstrip)
		while (end > start && is_space(lx->src[end - 1]))
			end--;
	if (start == end)
		return;
	t = lex_push(lx, TK_TEXT, start, end - start);
	t->soff = (uint32_t)lx->pool->len;
	t->slen = (uint32_t)(end - start);
	buf_append(lx->pool, lx->src + start, end - start);
}

/* Matches "{%" [-+]? ws* word ws* [-+]? "%}" at pos; returns the length, or
 * 0. *strip_before / *strip_after report the '-' modifiers. */
static size_t
match_tag(const struct lexer *lx, size_t pos, const char *word,
    bool *strip_before, bool *strip_after)
{
	const char *s = lx->src;
	size_t i = pos, wl = strlen(word);

	if (i + 2 > lx->len || s[i] != '{' || s[i + 1] != '%')
		return 0;
	i += 2;
	*strip_before = i < lx->len && s[i] == '-';
	if (i < lx->len && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < lx->len && is_space(s[i]))
		i++;
	if (lx->len - i < wl || memcmp(s + i, word, wl) != 0)
		return 0;
	i += wl;
	while (i < lx->len && is_space(s[i]))
		i++;
	*strip_after = i < lx->len && s[i] == '-';
	if (i < lx->len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i + 2 > lx->len || s[i] != '%' || s[i + 1] != '}')
		return 0;
	return i + 2 - pos;
}

/* {% raw %} at pos (already matched, n bytes): emits the content up to
 * {% endraw %} as text. */
static int
lex_raw(struct lexer *lx, size_t pos, size_t n, bool strip_after)
{
	size_t start = pos + n, i;
	bool sb, sa;

	for (i = start; i + 1 < lx->len; i++) {
		size_t m;

		if (lx->src[i] != '{' || lx->src[i + 1] != '%')
			continue;
		m = match_tag(lx, i, "endraw", &sb, &sa);
		if (m == 0)
			continue;
		lx->lstrip = strip_after;
		lex_text(lx, start, i, sb);
		lx->lstrip = sa;
		lx->pos = i + m;
		return 0;
	}
	return lex_error(lx, pos, "missing {%% endraw %%} for this {%% raw %%}");
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
put_utf8(struct buf *b, uint32_t cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xE0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		s[0] = (char)(0xF0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	buf_append(b, s, n);
}

/* A string literal at lx->pos; escapes as in Python: \\ \' \" \n \t \r \0
 * \xHH \uHHHH \UHHHHHHHH; any other backslash stays as it is. */
static int
lex_string(struct lexer *lx)
{
	const char *s = lx->src;
	size_t start = lx->pos, i = start + 1;
	char q = s[start];
	struct token *t = lex_push(lx, TK_STRING, start, 0);
	struct buf *b = lx->pool;

	t->soff = (uint32_t)b->len;
	while (i < lx->len && s[i] != q) {
		size_t run = i;

		while (i < lx->len && s[i] != q && s[i] != '\\')
			i++;
		buf_append(b, s + run, i - run);
		if (i >= lx->len || s[i] == q)
			break;
		/* backslash */
		if (i + 1 >= lx->len)
			break;
		i++;
		switch (s[i]) {
		case 'n': buf_putc(b, '\n'); i++; break;
		case 't': buf_putc(b, '\t'); i++; break;
		case 'r': buf_putc(b, '\r'); i++; break;
		case '0': buf_putc(b, '\0'); i++; break;
		case '\\': case '\'': case '"':
			buf_putc(b, s[i]);
			i++;
			break;
		case 'x': case 'u': case 'U': {
			size_t nd = s[i] == 'x' ? 2 : s[i] == 'u' ? 4 : 8, k;
			uint32_t cp = 0;

			for (k = 0; k < nd; k++) {
				int h = i + 1 + k < lx->len ? hexval(s[i + 1 + k]) : -1;

				if (h < 0)
					break;
				cp = cp * 16 + (uint32_t)h;
			}
			if (k < nd || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
				t = &lx->tv->v[lx->tv->n - 1];
				return lex_error(lx, i - 1,
				    "invalid \\%c escape in a string literal", s[i]);
			}
			put_utf8(b, cp);
			i += 1 + nd;
			break;
		}
		default:
			buf_putc(b, '\\');
			break;
		}
	}
	t = &lx->tv->v[lx->tv->n - 1];
	if (i >= lx->len)
		return lex_error(lx, start, "unterminated string literal");
	if (b->len - t->soff > UINT32_MAX)
		return lex_error(lx, start, "string literal too long");
	t->slen = (uint32_t)(b->len - t->soff);
	t->len = (uint32_t)(i + 1 - start);
	lx->pos = i + 1;
	return 0;
}

/* A number at lx->pos. After a '.', only digits (so that a.0.1 is a[0][1]). */
static int
lex_number(struct lexer *lx, bool after_dot)
{
	const char *s = lx->src;
	size_t start = lx->pos, i = start;
	bool real = false;
	char tmp[64];
	struct token *t;

	while (i < lx->len && is_digit(s[i]))
		i++;
	if (!after_dot) {
		if (i + 1 < lx->len && s[i] == '.' && is_digit(s[i + 1])) {
			real = true;
			i++;
			while (i < lx->len && is_digit(s[i]))
				i++;
		}
		if (i < lx->len && (s[i] == 'e' || s[i] == 'E')) {
			size_t j = i + 1;

			if (j < lx->len && (s[j] == '+' || s[j] == '-'))
				j++;
			if (j < lx->len && is_digit(s[j])) {
				real = true;
				i = j;
				while (i < lx->len && is_digit(s[i]))
					i++;
			}
		}
	}
	if (i - start >= sizeof tmp)
		return lex_error(lx, start, "number literal too long");
	memcpy(tmp, s + start, i - start);
	tmp[i - start] = '\0';
	t = lex_push(lx, TK_INT, start, i - start);
	if (!real) {
		errno = 0;
		t->i = (json_int_t)strtoll(tmp, NULL, 10);
		if (errno == ERANGE)
			real = true;
	}
	if (real) {
		t->kind = TK_REAL;
		t->d = strtod(tmp, NULL);
	}
	lx->pos = i;
	return 0;
}

static const struct {
	const char *s;
	enum tmpl_op op;
} ops[] = {
	{ "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE }, { ">=", OP_GE },
	{ "//", OP_FLOORDIV }, { "<", OP_LT }, { ">", OP_GT }, { "+", OP_ADD },
	{ "-", OP_SUB }, { "*", OP_MUL }, { "/", OP_DIV }, { "%", OP_MOD },
	{ "~", OP_TILDE }, { "|", OP_PIPE }, { ".", OP_DOT }, { ",", OP_COMMA },
	{ ":", OP_COLON }, { "=", OP_ASSIGN }, { "(", OP_LPAREN },
	{ ")", OP_RPAREN }, { "[", OP_LBRACKET }, { "]", OP_RBRACKET },
};

/* The inside of {{ ... }} or {% ... %}, up to and including the closing
 * delimiter. */
static int
lex_tag(struct lexer *lx, bool block, size_t open_tok)
{
	uint32_t oline = lx->tv->v[open_tok].line, ocol = lx->tv->v[open_tok].col;
	const char *s = lx->src;
	size_t i;

	for (;;) {
		struct token *prev;
		bool after_dot;

		while (lx->pos < lx->len && is_space(s[lx->pos]))
			lx->pos++;
		i = lx->pos;
		if (i >= lx->len)
			return lex_error(lx, i, "unexpected end of template inside %s "
			    "(opened at line %u, col %u)",
			    block ? "{% ... %}" : "{{ ... }}", oline, ocol);
		/* closing delimiters, with - (strip) or + (no-op) modifiers */
		if ((s[i] == '-' || s[i] == '+') && i + 2 < lx->len &&
		    ((s[i + 1] == '}' && s[i + 2] == '}' && s[i] == '-') ||
		    (s[i + 1] == '%' && s[i + 2] == '}'))) {
			lex_push(lx, s[i + 1] == '}' ? TK_VAR_END : TK_BLOCK_END, i, 3);
			lx->lstrip = s[i] == '-';
			lx->pos = i + 3;
			return 0;
		}
		if (i + 1 < lx->len && ((s[i] == '}' && s[i + 1] == '}') ||
		    (s[i] == '%' && s[i + 1] == '}'))) {
			lex_push(lx, s[i] == '}' ? TK_VAR_END : TK_BLOCK_END, i, 2);
			lx->pos = i + 2;
			return 0;
		}
		prev = lx->tv->n ? &lx->tv->v[lx->tv->n - 1] : NULL;
		after_dot = prev && prev->kind == TK_OP && prev->op == OP_DOT &&
		    prev->off + 1 == i;
		if (is_name_start(s[i])) {
			while (lx->pos < lx->len && (is_name_start(s[lx->pos]) ||
			    is_digit(s[lx->pos])))
				lx->pos++;
			lex_push(lx, TK_NAME, i, lx->pos - i);
		} else if (is_digit(s[i])) {
			if (lex_number(lx, after_dot) < 0)
				return -1;
		} else if (s[i] == '"' || s[i] == '\'') {
			if (lex_string(lx) < 0)
				return -1;
		} else {
			size_t k;

			for (k = 0; k < ACK_ARRAY_LEN(ops); k++) {
				size_t ol = strlen(ops[k].s);

				if (lx->len - i >= ol && memcmp(s + i, ops[k].s, ol) == 0)
					break;
			}
			if (k == ACK_ARRAY_LEN(ops)) {
				unsigned char c = (unsigned char)s[i];

				size_t sl = utf8_seqlen(s + i, lx->len - i);

				if (c == '}')
					return lex_error(lx, i, "expected '%s'",
					    block ? "%}" : "}}");
				if (c >= 0x20 && c < 0x7F)
					return lex_error(lx, i, "unexpected character '%c'", c);
				if (sl > 1)
					return lex_error(lx, i, "unexpected character '%.*s'",
					    (int)sl, s + i);
				return lex_error(lx, i, "unexpected byte 0x%02X", c);
			}
			lex_push(lx, TK_OP, i, strlen(ops[k].s))->op = ops[k].op;
			lx->pos = i + strlen(ops[k].s);
		}
	}
}

int
tmpl_lex(const char *src, size_t len, struct tokens *tv, struct buf *pool,
    struct tmpl_error *err)
{
	struct lexer lx;

	memset(&lx, 0, sizeof lx);
	lx.src = src;
	lx.len = len;
	lx.tv = tv;
	lx.pool = pool;
	lx.err = err;
	lx.line = 1;
	lx.col = 1;
	if (len > TMPL_MAX_SOURCE)
		return lex_error(&lx, 0, "template too large (%zu bytes, limit %u)",
		    len, TMPL_MAX_SOURCE);
	while (lx.pos < len) {
		size_t i = lx.pos, open;
		char kind;
		bool strip_before;

		/* find the next {{, {% or {# */
		for (;;) {
			const char *p = memchr(src + i, '{', len - i);

			if (p == NULL) {
				i = len;
				break;
			}
			i = (size_t)(p - src);
			if (i + 1 < len && (p[1] == '{' || p[1] == '%' || p[1] == '#'))
				break;
			i++;
		}
		if (i >= len) {
			lex_text(&lx, lx.pos, len, false);
			lx.pos = len;
			break;
		}
		open = i;
		kind = src[i + 1];
		strip_before = i + 2 < len && src[i + 2] == '-';
		if (kind == '%') {
			bool sb, sa;
			size_t m = match_tag(&lx, i, "raw", &sb, &sa);

			if (m) {
				lex_text(&lx, lx.pos, i, sb);
				if (lex_raw(&lx, i, m, sa) < 0)
					return -1;
				continue;
			}
		}
		lex_text(&lx, lx.pos, i, strip_before);
		lx.pos = i + 2;
		if (lx.pos < len && (src[lx.pos] == '-' || src[lx.pos] == '+'))
			lx.pos++;
		if (kind == '#') {
			const char *e = NULL;
			size_t k;

			for (k = lx.pos; k + 1 < len; k++)
				if (src[k] == '#' && src[k + 1] == '}') {
					e = src + k;
					break;
				}
			if (e == NULL)
				return lex_error(&lx, open, "unterminated comment");
			lx.lstrip = k > lx.pos && src[k - 1] == '-';
			lx.pos = k + 2;
			continue;
		}
		lex_push(&lx, kind == '{' ? TK_VAR_BEGIN : TK_BLOCK_BEGIN, open,
		    lx.pos - open);
		if (lex_tag(&lx, kind == '%', lx.tv->n - 1) < 0)
			return -1;
	}
	lex_push(&lx, TK_EOF, len, 0);
	return 0;
}
