/*
 * alias_pairs.c - finds the trailing key=value pairs of a chat command.
 *
 * StackStorm does this with the regex
 *     .*?(((?:^|\s+)\s*(\S+?)\s*=(""|''|"(.+?)"|'(.+?)'|({.+?})|(\S+))\s*)*)$
 * and then re-extracts the pairs with a second, unanchored scan (which is
 * what truncates nested JSON, Q11). Here the same grammar is parsed once by
 * dynamic programming from right to left, so the cost is linear in the
 * command length and no pathological input can make it backtrack:
 *
 *   R[j]  "the rest from j is whitespace, or whitespace then a pair then R"
 *   B[k]  "a pair body KEY\s*=VALUE starts at k and some value end j has R[j]"
 *
 * Quoted and braced values are lazy in st2 (the shortest that lets the rest
 * parse), so for each quote kind we keep "the next closing quote at or after
 * x whose end position has R": a lookup instead of a search.
 */
#include "alias_pairs.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define NONE ((size_t)-1)
/* Pairs are looked for in the last PAIRS_WINDOW bytes of a command only, so
 * that the scratch arrays stay small for absurdly long messages. */
#define PAIRS_WINDOW (64 * 1024)

size_t
alias_space_len(const char *s, size_t i, size_t n)
{
	const unsigned char *u = (const unsigned char *)s + i;
	size_t left = n - i;

	if (i >= n)
		return 0;
	switch (u[0]) {
	case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
		return 1;
	case 0xc2:              /* U+00A0 */
		return left >= 2 && u[1] == 0xa0 ? 2 : 0;
	case 0xe1:              /* U+1680 */
		return left >= 3 && u[1] == 0x9a && u[2] == 0x80 ? 3 : 0;
	case 0xe2:
		if (left < 3)
			return 0;
		if (u[1] == 0x80 && (u[2] <= 0x8a || u[2] == 0xa8 ||
		    u[2] == 0xa9 || u[2] == 0xaf) && u[2] >= 0x80)
			return 3;       /* U+2000..200A, 2028, 2029, 202F */
		if (u[1] == 0x81 && u[2] == 0x9f)
			return 3;       /* U+205F */
		return 0;
	case 0xe3:              /* U+3000 */
		return left >= 3 && u[1] == 0x80 && u[2] == 0x80 ? 3 : 0;
	default:
		return 0;
	}
}

static bool
name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

bool
alias_name_valid(const char *key, size_t n)
{
	size_t i;

	if (n == 0 || !name_start((unsigned char)key[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!name_char((unsigned char)key[i]))
			return false;
	return true;
}

void
apairs_init(struct apairs *p)
{
	memset(p, 0, sizeof *p);
}

void
apairs_free(struct apairs *p)
{
	free(p->v);
	free(p->ok);
	free(p->next);
	apairs_init(p);
}

enum { R_OK = 1, B_OK = 2 };

/* The scratch arrays, all indexed by position - base, 0..len inclusive. */
struct scan {
	const char *c;
	size_t base, n;         /* window [base, n) of c */
	unsigned char *ok;
	size_t *nws;            /* first non-space at or after i */
	size_t *nsp;            /* first space at or after i */
	size_t *nq, *na, *nb;   /* next " ' } at or after i whose end has R */
};

#define AT(arr, i) ((arr)[(i) - s->base])

/*
 * Parses a pair body at k. Returns the end of its value (the first value
 * alternative, in st2's order, after which the rest of the command parses),
 * or NONE. When out is given, fills it.
 */
static size_t
body_at(const struct scan *s, size_t k, struct apair *out)
{
	const char *c = s->c;
	size_t n = s->n, ke, e, v, q, end;

	if (k >= n || !name_start((unsigned char)c[k]))
		return NONE;
	for (ke = k + 1; ke < n && name_char((unsigned char)c[ke]); ke++)
		;
	if (ke >= n)
		return NONE;
	e = AT(s->nws, ke);
	if (e >= n || c[e] != '=')
		return NONE;
	v = e + 1;
	if (out != NULL) {
		out->key = c + k;
		out->key_len = ke - k;
	}
	/* "" and '' give the empty string */
	if (v + 1 < n && (c[v] == '"' || c[v] == '\'') && c[v + 1] == c[v] &&
	    (AT(s->ok, v + 2) & R_OK)) {
		end = v + 2;
		if (out != NULL) {
			out->val = c + v + 1;
			out->val_len = 0;
		}
		return end;
	}
	/* "(.+?)" then '(.+?)' then ({.+?}) */
	if (v + 2 <= n && (c[v] == '"' || c[v] == '\'' || c[v] == '{')) {
		const size_t *next = c[v] == '"' ? s->nq : c[v] == '\'' ? s->na : s->nb;

		q = AT(next, v + 2);
		if (q != NONE) {
			if (out != NULL) {
				if (c[v] == '{') {
					out->val = c + v;
					out->val_len = q + 1 - v;
				} else {
					out->val = c + v + 1;
					out->val_len = q - v - 1;
				}
			}
			return q + 1;
		}
	}
	/* (\S+): greedy, and only the whole run can be followed by R */
	if (v < n && alias_space_len(c, v, n) == 0) {
		end = AT(s->nsp, v);
		if (AT(s->ok, end) & R_OK) {
			if (out != NULL) {
				out->val = c + v;
				out->val_len = end - v;
			}
			return end;
		}
	}
	return NONE;
}

static void
grow_scratch(struct apairs *p, size_t need)
{
	if (need <= p->scap)
		return;
	free(p->ok);
	free(p->next);
	p->ok = xmalloc(need);
	p->next = xmalloc(need * 5 * sizeof *p->next);
	p->scap = need;
}

size_t
apairs_scan(struct apairs *p, const char *cmd, size_t len)
{
	struct scan sc, *s = &sc;
	size_t i, L, start, k, j, m, quotes;

	p->n = 0;
	if (len == 0 || memchr(cmd, '=', len) == NULL)
		return 0;

	s->c = cmd;
	s->n = len;
	s->base = len > PAIRS_WINDOW ? len - PAIRS_WINDOW : 0;
	m = len - s->base + 1;
	grow_scratch(p, m);
	s->ok = p->ok;
	s->nws = p->next;
	s->nsp = p->next + m;
	s->nq = p->next + 2 * m;
	s->na = p->next + 3 * m;
	s->nb = p->next + 4 * m;

	for (i = len + 1; i-- > s->base;) {
		unsigned char f = 0;

		if (i == len) {
			AT(s->nws, i) = len;
			AT(s->nsp, i) = len;
			AT(s->nq, i) = AT(s->na, i) = AT(s->nb, i) = NONE;
			AT(s->ok, i) = R_OK;
			continue;
		}
		L = alias_space_len(cmd, i, len);
		AT(s->nws, i) = L ? AT(s->nws, i + L) : i;
		AT(s->nsp, i) = L ? i : AT(s->nsp, i + 1);
		if (body_at(s, i, NULL) != NONE)
			f |= B_OK;
		AT(s->ok, i) = f;       /* body_at above reads only > i */
		if (AT(s->nws, i) == len)
			f |= R_OK;
		else if (L && (AT(s->ok, AT(s->nws, i)) & B_OK))
			f |= R_OK;
		AT(s->ok, i) = f;
		AT(s->nq, i) = cmd[i] == '"' && (AT(s->ok, i + 1) & R_OK) ? i : AT(s->nq, i + 1);
		AT(s->na, i) = cmd[i] == '\'' && (AT(s->ok, i + 1) & R_OK) ? i : AT(s->na, i + 1);
		AT(s->nb, i) = cmd[i] == '}' && (AT(s->ok, i + 1) & R_OK) ? i : AT(s->nb, i + 1);
	}

	/* The earliest start: the whole command (st2's ^ branch), or the
	 * first whitespace run followed by a sequence of pairs. Unlike st2,
	 * a start inside an open double quote does not count, so that
	 * `search "a b=c"` keeps its quoted text. */
	start = NONE;
	if (s->base == 0 && AT(s->nws, 0) < len && (AT(s->ok, AT(s->nws, 0)) & B_OK))
		start = 0;
	quotes = 0;
	for (i = 0; i < s->base; i++)
		quotes += cmd[i] == '"';
	for (i = s->base; start == NONE && i < len; i++) {
		k = AT(s->nws, i);
		if ((quotes & 1) == 0 && alias_space_len(cmd, i, len) && k < len &&
		    (AT(s->ok, k) & B_OK))
			start = i;
		quotes += cmd[i] == '"';
	}
	if (start == NONE)
		return 0;

	/* Walk forward taking, at each pair, the value st2's order prefers
	 * among those after which the rest still parses. */
	j = start;
	for (;;) {
		struct apair pr;

		k = AT(s->nws, j);
		if (k >= len)
			break;
		memset(&pr, 0, sizeof pr);
		pr.start = j;
		j = body_at(s, k, &pr);
		if (j == NONE)          /* cannot happen: B[k] held */
			break;
		p->v = xgrow(p->v, &p->cap, p->n + 1, sizeof *p->v);
		p->v[p->n++] = pr;
	}
	return p->n;
}
