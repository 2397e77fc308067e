/*
 * template_parse.c - builds the AST from the token list: statements ({% if
 * %}, {% for %}, text, {{ output }}) and expressions, by recursive descent
 * with Jinja's precedence. Loop variables are resolved to frame slots here,
 * and filter names and arguments are checked, so rendering never looks up a
 * name in the template.
 */
#include "template_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scope {
	const char *name1, *name2;      /* in the source */
	size_t len1, len2;
};

struct block {
	const char *tag;                /* "if" or "for" */
	const struct token *open;       /* the {% of its opening tag */
};

struct parser {
	const char *src;
	const struct token *tok;
	size_t ntok, pos;
	struct tmpl *t;
	struct buf *pool;
	struct tmpl_error *err;
	struct scope scopes[TMPL_MAX_NEST];
	int nscopes;
	struct block blocks[TMPL_MAX_NEST];
	int nblocks;
	int rdepth;                     /* expression recursion */
};

static uint32_t perr(struct parser *p, const struct token *at,
    const char *fmt, ...) ACK_PRINTF(3, 4);

static uint32_t
perr(struct parser *p, const struct token *at, const char *fmt, ...)
{
	char msg[sizeof p->err->msg];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	tmpl_error_set(p->err, at->off, at->line, at->col, "%s", msg);
	return 0;
}

static const struct token *
cur(const struct parser *p)
{
	return &p->tok[p->pos];
}

static const struct token *
advance(struct parser *p)
{
	const struct token *t = &p->tok[p->pos];

	if (t->kind != TK_EOF)
		p->pos++;
	return t;
}

static bool
is_op(const struct token *t, enum tmpl_op op)
{
	return t->kind == TK_OP && t->op == op;
}

static bool
is_name(const struct parser *p, const struct token *t, const char *name)
{
	size_t n = strlen(name);

	return t->kind == TK_NAME && t->len == n &&
	    memcmp(p->src + t->off, name, n) == 0;
}

/* How a token is shown in "expected X, got Y" messages. */
static const char *
tok_desc(const struct parser *p, const struct token *t, char *tmp, size_t n)
{
	switch (t->kind) {
	case TK_EOF: return "end of template";
	case TK_TEXT: return "text";
	case TK_VAR_BEGIN: return "'{{'";
	case TK_VAR_END: return "'}}'";
	case TK_BLOCK_BEGIN: return "'{%'";
	case TK_BLOCK_END: return "'%}'";
	case TK_STRING: return "a string";
	case TK_INT: case TK_REAL: return "a number";
	case TK_NAME: case TK_OP:
		snprintf(tmp, n, "'%.*s'", (int)(t->len > 40 ? 40 : t->len),
		    p->src + t->off);
		return tmp;
	}
	return "?";
}

static uint32_t
expect_fail(struct parser *p, const char *what)
{
	char tmp[64];
	const struct token *t = cur(p);

	if (t->kind == TK_EOF)
		return perr(p, t, "unexpected end of template, expected %s", what);
	return perr(p, t, "expected %s, got %s", what, tok_desc(p, t, tmp, sizeof tmp));
}

static uint32_t
new_node(struct parser *p, int kind, const struct token *at)
{
	struct tmpl *t = p->t;
	struct node *n;

	t->nodes = xgrow(t->nodes, &t->cap, t->nnodes + 1, sizeof *n);
	n = &t->nodes[t->nnodes];
	memset(n, 0, sizeof *n);
	n->kind = (uint8_t)kind;
	n->depth = 1;
	n->line = at->line;
	n->col = at->col;
	return (uint32_t)t->nnodes++;
}

static struct node *
N(struct parser *p, uint32_t i)
{
	return &p->t->nodes[i];
}

/* Sets children and checks the depth of the resulting tree. */
static uint32_t
set_kids(struct parser *p, uint32_t i, uint32_t a, uint32_t b, uint32_t c,
    const struct token *at)
{
	unsigned d = 0;
	uint32_t k[3] = { a, b, c };
	int j;

	for (j = 0; j < 3; j++)
		if (k[j] && N(p, k[j])->depth > d)
			d = N(p, k[j])->depth;
	if (d + 1 > TMPL_MAX_EXPR_DEPTH)
		return perr(p, at, "expression too deeply nested (limit %d)",
		    TMPL_MAX_EXPR_DEPTH);
	N(p, i)->a = a;
	N(p, i)->b = b;
	N(p, i)->c = c;
	N(p, i)->depth = (uint16_t)(d + 1);
	return i;
}

static uint32_t
mk(struct parser *p, int kind, int op, uint32_t a, uint32_t b, uint32_t c,
    const struct token *at)
{
	uint32_t i = new_node(p, kind, at);

	N(p, i)->op = (uint8_t)op;
	return set_kids(p, i, a, b, c, at);
}

static void
pool_str(struct parser *p, uint32_t i, const char *s, size_t n)
{
	N(p, i)->v.s.off = (uint32_t)p->pool->len;
	N(p, i)->v.s.len = (uint32_t)n;
	buf_append(p->pool, s, n);
}

/* Appends a copy of pool[off, off + len) to the pool (which may move). */
static void
pool_dup(struct buf *pool, uint32_t off, uint32_t len)
{
	char *tmp;

	if (len == 0)
		return;
	tmp = xstrndup(pool->data + off, len);

	buf_append(pool, tmp, len);
	free(tmp);
}

static uint32_t parse_expr(struct parser *p);
static uint32_t parse_or(struct parser *p);
static uint32_t parse_unary(struct parser *p, bool with_filter);

static uint32_t
resolve_name(struct parser *p, const struct token *t)
{
	const char *s = p->src + t->off;
	size_t n = t->len;
	uint32_t i;
	int d;

	for (d = p->nscopes - 1; d >= 0; d--) {
		const struct scope *sc = &p->scopes[d];
		int which = -1;

		if (sc->len1 == n && memcmp(sc->name1, s, n) == 0)
			which = 0;
		else if (sc->name2 && sc->len2 == n && memcmp(sc->name2, s, n) == 0)
			which = 1;
		else if (n == 4 && memcmp(s, "loop", 4) == 0)
			which = 2;
		if (which >= 0) {
			i = new_node(p, N_LOCAL, t);
			N(p, i)->a = (uint32_t)d;
			N(p, i)->op = (uint8_t)which;
			return i;
		}
	}
	i = new_node(p, N_NAME, t);
	pool_str(p, i, s, n);
	return i;
}

/* [a, b, ...] after the '['. */
static uint32_t
parse_list(struct parser *p, const struct token *open)
{
	uint32_t list = new_node(p, N_LIST, open), tail = 0;
	unsigned depth = 0;

	while (!is_op(cur(p), OP_RBRACKET)) {
		uint32_t e = parse_expr(p);

		if (!e)
			return 0;
		if (N(p, e)->depth > depth)
			depth = N(p, e)->depth;
		if (tail)
			N(p, tail)->next = e;
		else
			N(p, list)->a = e;
		tail = e;
		if (!is_op(cur(p), OP_COMMA))
			break;
		advance(p);
	}
	if (!is_op(cur(p), OP_RBRACKET))
		return expect_fail(p, "',' or ']'");
	advance(p);
	if (depth + 1 > TMPL_MAX_EXPR_DEPTH)
		return perr(p, open, "expression too deeply nested (limit %d)",
		    TMPL_MAX_EXPR_DEPTH);
	N(p, list)->depth = (uint16_t)(depth + 1);
	return list;
}

static uint32_t
parse_primary(struct parser *p)
{
	const struct token *t = cur(p);
	uint32_t i;
	char tmp[64];

	switch (t->kind) {
	case TK_NAME:
		advance(p);
		if (is_name(p, t, "true") || is_name(p, t, "True") ||
		    is_name(p, t, "false") || is_name(p, t, "False")) {
			i = new_node(p, N_BOOL, t);
			N(p, i)->v.i = p->src[t->off] == 't' || p->src[t->off] == 'T';
			return i;
		}
		if (is_name(p, t, "none") || is_name(p, t, "None"))
			return new_node(p, N_NULL, t);
		if (is_name(p, t, "and") || is_name(p, t, "or") ||
		    is_name(p, t, "in") || is_name(p, t, "is") ||
		    is_name(p, t, "not") ||
		    is_name(p, t, "if") || is_name(p, t, "else"))
			return perr(p, t, "expected an expression, got '%.*s'",
			    (int)t->len, p->src + t->off);
		return resolve_name(p, t);
	case TK_STRING: {
		uint32_t off = t->soff, len = t->slen;

		advance(p);
		/* adjacent literals concatenate, as in Python */
		if (cur(p)->kind == TK_STRING) {
			off = (uint32_t)p->pool->len;
			pool_dup(p->pool, t->soff, t->slen);
			while (cur(p)->kind == TK_STRING) {
				const struct token *u = advance(p);

				pool_dup(p->pool, u->soff, u->slen);
			}
			len = (uint32_t)(p->pool->len - off);
		}
		i = new_node(p, N_STR, t);
		N(p, i)->v.s.off = off;
		N(p, i)->v.s.len = len;
		return i;
	}
	case TK_INT:
		advance(p);
		i = new_node(p, N_INT, t);
		N(p, i)->v.i = t->i;
		return i;
	case TK_REAL:
		advance(p);
		i = new_node(p, N_REAL, t);
		N(p, i)->v.d = t->d;
		return i;
	case TK_OP:
		if (t->op == OP_LPAREN) {
			advance(p);
			i = parse_expr(p);
			if (!i)
				return 0;
			if (is_op(cur(p), OP_COMMA))
				return perr(p, cur(p), "tuples are not supported");
			if (!is_op(cur(p), OP_RPAREN))
				return expect_fail(p, "')'");
			advance(p);
			return i;
		}
		if (t->op == OP_LBRACKET) {
			advance(p);
			return parse_list(p, t);
		}
		break;
	case TK_EOF:
		return perr(p, t, "unexpected end of template, expected an expression");
	default:
		break;
	}
	return perr(p, t, "expected an expression, got %s",
	    tok_desc(p, t, tmp, sizeof tmp));
}

/* .name, .0, [expr], [a:b], .items() */
static uint32_t
parse_postfix(struct parser *p, uint32_t node)
{
	for (;;) {
		const struct token *t = cur(p);

		if (is_op(t, OP_DOT)) {
			const struct token *a;

			advance(p);
			a = cur(p);
			if (a->kind == TK_INT) {
				uint32_t k;

				advance(p);
				k = new_node(p, N_INT, a);
				N(p, k)->v.i = a->i;
				node = mk(p, N_GETITEM, 0, node, k, 0, t);
			} else if (a->kind == TK_NAME) {
				advance(p);
				if (is_op(cur(p), OP_LPAREN)) {
					int m = is_name(p, a, "items") ? METHOD_ITEMS :
					    is_name(p, a, "keys") ? METHOD_KEYS :
					    is_name(p, a, "values") ? METHOD_VALUES : -1;

					if (m < 0)
						return perr(p, a, "method calls are not supported "
						    "(only .items(), .keys() and .values())");
					advance(p);
					if (!is_op(cur(p), OP_RPAREN))
						return expect_fail(p, "')'");
					advance(p);
					node = mk(p, N_METHOD, m, node, 0, 0, a);
				} else {
					uint32_t g = mk(p, N_GETATTR, 0, node, 0, 0, t);

					if (g)
						pool_str(p, g, p->src + a->off, a->len);
					node = g;
				}
			} else {
				return expect_fail(p, "a name after '.'");
			}
		} else if (is_op(t, OP_LBRACKET)) {
			uint32_t lo = 0, hi = 0;

			advance(p);
			if (!is_op(cur(p), OP_COLON)) {
				lo = parse_expr(p);
				if (!lo)
					return 0;
			}
			if (is_op(cur(p), OP_COLON)) {
				advance(p);
				if (!is_op(cur(p), OP_RBRACKET)) {
					hi = parse_expr(p);
					if (!hi)
						return 0;
				}
				if (!is_op(cur(p), OP_RBRACKET))
					return expect_fail(p, "']'");
				advance(p);
				node = mk(p, N_SLICE, 0, node, lo, hi, t);
			} else {
				if (!is_op(cur(p), OP_RBRACKET))
					return expect_fail(p, "']'");
				advance(p);
				node = mk(p, N_GETITEM, 0, node, lo, 0, t);
			}
		} else if (is_op(t, OP_LPAREN)) {
			return perr(p, t, "function calls are not supported");
		} else {
			return node;
		}
		if (!node)
			return 0;
	}
}

/* |name or |name(args) applied to node. */
static uint32_t
parse_filter(struct parser *p, uint32_t node)
{
	const struct token *bar = advance(p), *nt = cur(p);
	const struct filter_def *fd;
	uint32_t f, slots[TMPL_MAX_ARGS] = { 0 }, tail = 0;
	unsigned depth = N(p, node)->depth, k;
	int id, npos = 0;
	bool kw = false;

	(void)bar;
	if (nt->kind != TK_NAME)
		return expect_fail(p, "a filter name after '|'");
	advance(p);
	id = tmpl_filter_lookup(p->src + nt->off, nt->len);
	if (id < 0)
		return perr(p, nt, "unknown filter \"%.*s\"", (int)nt->len,
		    p->src + nt->off);
	fd = tmpl_filter_get(id);
	if (is_op(cur(p), OP_LPAREN)) {
		advance(p);
		while (!is_op(cur(p), OP_RPAREN)) {
			const struct token *at = cur(p);
			int slot;
			uint32_t e;

			if (at->kind == TK_NAME && is_op(&p->tok[p->pos + 1], OP_ASSIGN)) {
				for (slot = 0; slot < fd->nparams; slot++)
					if (strlen(fd->params[slot]) == at->len &&
					    memcmp(fd->params[slot], p->src + at->off,
					    at->len) == 0)
						break;
				if (slot == fd->nparams)
					return perr(p, at, "unknown argument \"%.*s\" for filter "
					    "\"%s\"", (int)at->len, p->src + at->off, fd->name);
				advance(p);
				advance(p);
				kw = true;
			} else {
				if (kw)
					return perr(p, at, "positional argument after a keyword "
					    "argument");
				if (npos >= fd->nparams)
					return perr(p, at, "too many arguments for filter \"%s\" "
					    "(takes at most %d)", fd->name, fd->nparams);
				slot = npos++;
			}
			if (slots[slot])
				return perr(p, at, "argument \"%s\" of filter \"%s\" given "
				    "twice", fd->params[slot], fd->name);
			e = parse_expr(p);
			if (!e)
				return 0;
			slots[slot] = mk(p, N_ARG, slot, e, 0, 0, at);
			if (!slots[slot])
				return 0;
			if (!is_op(cur(p), OP_COMMA))
				break;
			advance(p);
		}
		if (!is_op(cur(p), OP_RPAREN))
			return expect_fail(p, "',' or ')'");
		advance(p);
	}
	for (k = 0; k < fd->nrequired; k++)
		if (!slots[k])
			return perr(p, nt, "filter \"%s\" needs argument \"%s\"",
			    fd->name, fd->params[k]);
	f = new_node(p, N_FILTER, nt);
	N(p, f)->op = (uint8_t)id;
	N(p, f)->a = node;
	for (k = 0; k < TMPL_MAX_ARGS; k++) {
		if (!slots[k])
			continue;
		if (N(p, slots[k])->depth > depth)
			depth = N(p, slots[k])->depth;
		if (tail)
			N(p, tail)->next = slots[k];
		else
			N(p, f)->b = slots[k];
		tail = slots[k];
	}
	if (depth + 1 > TMPL_MAX_EXPR_DEPTH)
		return perr(p, nt, "expression too deeply nested (limit %d)",
		    TMPL_MAX_EXPR_DEPTH);
	N(p, f)->depth = (uint16_t)(depth + 1);
	return f;
}

/* is [not] name */
static uint32_t
parse_test(struct parser *p, uint32_t node)
{
	const struct token *is = advance(p), *nt;
	bool neg = false;
	int id;

	if (is_name(p, cur(p), "not")) {
		advance(p);
		neg = true;
	}
	nt = cur(p);
	if (nt->kind != TK_NAME) {
		/* "is none" etc. are names; so are true/false */
		return expect_fail(p, "a test name after 'is'");
	}
	advance(p);
	id = tmpl_test_lookup(p->src + nt->off, nt->len);
	if (id < 0)
		return perr(p, nt, "unknown test \"%.*s\"", (int)nt->len,
		    p->src + nt->off);
	node = mk(p, N_TEST, id, node, 0, 0, nt);
	if (node && neg)
		node = mk(p, N_NOT, 0, node, 0, 0, is);
	return node;
}

static uint32_t
parse_unary(struct parser *p, bool with_filter)
{
	const struct token *t = cur(p);
	uint32_t node;

	if (++p->rdepth > TMPL_MAX_EXPR_DEPTH)
		return perr(p, t, "expression too deeply nested (limit %d)",
		    TMPL_MAX_EXPR_DEPTH);
	if (is_op(t, OP_SUB) || is_op(t, OP_ADD)) {
		advance(p);
		node = parse_unary(p, false);
		if (node)
			node = mk(p, t->op == OP_SUB ? N_NEG : N_POS, 0, node, 0, 0, t);
	} else {
		node = parse_primary(p);
	}
	if (node)
		node = parse_postfix(p, node);
	while (node && with_filter) {
		if (is_op(cur(p), OP_PIPE))
			node = parse_filter(p, node);
		else if (is_name(p, cur(p), "is"))
			node = parse_test(p, node);
		else
			break;
	}
	p->rdepth--;
	return node;
}

static uint32_t
parse_math2(struct parser *p)
{
	uint32_t left = parse_unary(p, true);

	while (left) {
		const struct token *t = cur(p);
		uint32_t right;

		if (!(is_op(t, OP_MUL) || is_op(t, OP_DIV) ||
		    is_op(t, OP_FLOORDIV) || is_op(t, OP_MOD)))
			break;
		advance(p);
		right = parse_unary(p, true);
		if (!right)
			return 0;
		left = mk(p, N_BINOP, t->op, left, right, 0, t);
	}
	return left;
}

static uint32_t
parse_concat(struct parser *p)
{
	uint32_t left = parse_math2(p);

	while (left && is_op(cur(p), OP_TILDE)) {
		const struct token *t = advance(p);
		uint32_t right = parse_math2(p);

		if (!right)
			return 0;
		left = mk(p, N_BINOP, OP_TILDE, left, right, 0, t);
	}
	return left;
}

static uint32_t
parse_math1(struct parser *p)
{
	uint32_t left = parse_concat(p);

	while (left && (is_op(cur(p), OP_ADD) || is_op(cur(p), OP_SUB))) {
		const struct token *t = advance(p);
		uint32_t right = parse_concat(p);

		if (!right)
			return 0;
		left = mk(p, N_BINOP, t->op, left, right, 0, t);
	}
	return left;
}

/* Comparisons chain as in Python: a < b < c is (a < b) and (b < c), with b
 * shared between the two. */
static uint32_t
parse_compare(struct parser *p)
{
	uint32_t left = parse_math1(p), result = 0;

	while (left) {
		const struct token *t = cur(p);
		uint32_t right, cmp;
		int kind, op;

		if (t->kind == TK_OP && t->op >= OP_EQ && t->op <= OP_GE) {
			kind = N_CMP;
			op = t->op;
			advance(p);
		} else if (is_name(p, t, "in")) {
			kind = N_IN;
			op = 0;
			advance(p);
		} else if (is_name(p, t, "not") && is_name(p, &p->tok[p->pos + 1], "in")) {
			kind = N_IN;
			op = 1;
			advance(p);
			advance(p);
		} else {
			break;
		}
		right = parse_math1(p);
		if (!right)
			return 0;
		cmp = mk(p, kind, op, left, right, 0, t);
		if (!cmp)
			return 0;
		result = result ? mk(p, N_AND, 0, result, cmp, 0, t) : cmp;
		if (!result)
			return 0;
		left = right;
	}
	return result ? result : left;
}

static uint32_t
parse_not(struct parser *p)
{
	const struct token *t = cur(p);
	uint32_t node;

	if (is_name(p, t, "not")) {
		if (++p->rdepth > TMPL_MAX_EXPR_DEPTH)
			return perr(p, t, "expression too deeply nested (limit %d)",
			    TMPL_MAX_EXPR_DEPTH);
		advance(p);
		node = parse_not(p);
		p->rdepth--;
		return node ? mk(p, N_NOT, 0, node, 0, 0, t) : 0;
	}
	return parse_compare(p);
}

static uint32_t
parse_and(struct parser *p)
{
	uint32_t left = parse_not(p);

	while (left && is_name(p, cur(p), "and")) {
		const struct token *t = advance(p);
		uint32_t right = parse_not(p);

		if (!right)
			return 0;
		left = mk(p, N_AND, 0, left, right, 0, t);
	}
	return left;
}

static uint32_t
parse_or(struct parser *p)
{
	uint32_t left = parse_and(p);

	while (left && is_name(p, cur(p), "or")) {
		const struct token *t = advance(p);
		uint32_t right = parse_and(p);

		if (!right)
			return 0;
		left = mk(p, N_OR, 0, left, right, 0, t);
	}
	return left;
}

/* a if cond else b; "else b" may be left out (undefined). */
static uint32_t
parse_expr(struct parser *p)
{
	uint32_t node;

	if (++p->rdepth > TMPL_MAX_EXPR_DEPTH)
		return perr(p, cur(p), "expression too deeply nested (limit %d)",
		    TMPL_MAX_EXPR_DEPTH);
	node = parse_or(p);
	while (node && is_name(p, cur(p), "if")) {
		const struct token *t = advance(p);
		uint32_t cond = parse_or(p), other = 0;

		if (!cond)
			return 0;
		if (is_name(p, cur(p), "else")) {
			advance(p);
			other = parse_or(p);
			if (!other)
				return 0;
		}
		node = mk(p, N_COND, 0, cond, node, other, t);
	}
	p->rdepth--;
	return node;
}

/* ---- statements ---- */

static uint32_t parse_body(struct parser *p, const char *const *terms,
    int *which, bool *ok);

static bool
expect_block_end(struct parser *p)
{
	if (cur(p)->kind == TK_BLOCK_END) {
		advance(p);
		return true;
	}
	expect_fail(p, "'%}'");
	return false;
}

static bool
unclosed(struct parser *p)
{
	const struct block *b = &p->blocks[p->nblocks - 1];

	perr(p, cur(p), "unclosed {%% %s %%} (opened at line %u, col %u)", b->tag,
	    b->open->line, b->open->col);
	return false;
}

static bool
push_block(struct parser *p, const char *tag, const struct token *open)
{
	if (p->nblocks >= TMPL_MAX_NEST) {
		perr(p, open, "blocks nested too deeply (limit %d)", TMPL_MAX_NEST);
		return false;
	}
	p->blocks[p->nblocks].tag = tag;
	p->blocks[p->nblocks].open = open;
	p->nblocks++;
	return true;
}

/* {% if %} ... {% elif %} ... {% else %} ... {% endif %}; cur is the name. */
static uint32_t
parse_if(struct parser *p, const struct token *open)
{
	static const char *const terms[] = { "elif", "else", "endif", NULL };
	static const char *const terms_else[] = { "endif", NULL };
	uint32_t first = 0, last = 0;
	int which = 0;
	bool ok;

	if (!push_block(p, "if", open))
		return 0;
	advance(p);     /* if */
	for (;;) {
		/* at: condition of an if/elif */
		const struct token *at = cur(p);
		uint32_t cond = parse_expr(p), node, body;

		if (!cond || !expect_block_end(p))
			return 0;
		node = mk(p, N_IF, 0, cond, 0, 0, at);
		if (!node)
			return 0;
		if (last) {
			N(p, last)->c = node;
			N(p, last)->op = 1;
		} else {
			first = node;
		}
		last = node;
		body = parse_body(p, terms, &which, &ok);
		if (!ok)
			return 0;
		N(p, node)->b = body;
		if (which < 0)
			return unclosed(p);
		advance(p);     /* the terminating name */
		if (which == 0)
			continue;
		if (!expect_block_end(p))
			return 0;
		if (which == 1) {
			body = parse_body(p, terms_else, &which, &ok);
			if (!ok)
				return 0;
			N(p, last)->c = body;
			if (which < 0)
				return unclosed(p);
			advance(p);
			if (!expect_block_end(p))
				return 0;
		}
		break;
	}
	p->nblocks--;
	return first;
}

/* {% for x in xs %} / {% for k, v in obj %} ... {% else %} ... {% endfor %} */
static uint32_t
parse_for(struct parser *p, const struct token *open)
{
	static const char *const terms[] = { "else", "endfor", NULL };
	static const char *const terms_else[] = { "endfor", NULL };
	const struct token *kw = cur(p), *n1, *n2 = NULL;
	uint32_t iter, node, body;
	struct scope *sc;
	int which;
	bool ok;

	if (!push_block(p, "for", open))
		return 0;
	advance(p);     /* for */
	n1 = cur(p);
	if (n1->kind != TK_NAME)
		return expect_fail(p, "a loop variable name");
	advance(p);
	if (is_op(cur(p), OP_COMMA)) {
		advance(p);
		n2 = cur(p);
		if (n2->kind != TK_NAME)
			return expect_fail(p, "a second loop variable name");
		advance(p);
		if (is_op(cur(p), OP_COMMA))
			return perr(p, cur(p), "at most two loop variables are supported");
	}
	if (!is_name(p, cur(p), "in"))
		return expect_fail(p, "'in'");
	advance(p);
	iter = parse_or(p);
	if (!iter)
		return 0;
	if (is_name(p, cur(p), "if"))
		return perr(p, cur(p), "loop filters ({%% for x in xs if ... %%}) "
		    "are not supported");
	if (is_name(p, cur(p), "recursive"))
		return perr(p, cur(p), "recursive loops are not supported");
	if (!expect_block_end(p))
		return 0;
	node = mk(p, N_FOR, 0, iter, 0, 0, kw);
	if (!node)
		return 0;
	N(p, node)->op = (uint8_t)p->nscopes;
	N(p, node)->v.i = n2 ? 2 : 1;
	sc = &p->scopes[p->nscopes++];
	sc->name1 = p->src + n1->off;
	sc->len1 = n1->len;
	sc->name2 = n2 ? p->src + n2->off : NULL;
	sc->len2 = n2 ? n2->len : 0;
	body = parse_body(p, terms, &which, &ok);
	p->nscopes--;
	if (!ok)
		return 0;
	N(p, node)->b = body;
	if (which < 0)
		return unclosed(p);
	advance(p);
	if (!expect_block_end(p))
		return 0;
	if (which == 0) {
		body = parse_body(p, terms_else, &which, &ok);
		if (!ok)
			return 0;
		N(p, node)->c = body;
		if (which < 0)
			return unclosed(p);
		advance(p);
		if (!expect_block_end(p))
			return 0;
	}
	p->nblocks--;
	return node;
}

static const char *const block_tags[] = { "elif", "else", "endif", "endfor",
	"endraw", NULL };

/*
 * Parses statements until EOF or a {% tag %} whose name is in terms (then
 * cur is that name and *which its index; -1 at EOF). Returns the first
 * statement (0 if none); *ok is false after an error.
 */
static uint32_t
parse_body(struct parser *p, const char *const *terms, int *which, bool *ok)
{
	uint32_t head = 0, tail = 0;

	*ok = false;
	for (;;) {
		const struct token *t = cur(p);
		uint32_t node = 0;
		int k;

		switch (t->kind) {
		case TK_EOF:
			*which = -1;
			*ok = true;
			return head;
		case TK_TEXT:
			advance(p);
			node = new_node(p, N_TEXT, t);
			N(p, node)->v.s.off = t->soff;
			N(p, node)->v.s.len = t->slen;
			break;
		case TK_VAR_BEGIN: {
			uint32_t e;

			advance(p);
			if (cur(p)->kind == TK_VAR_END)
				return perr(p, cur(p), "empty {{ }}");
			e = parse_expr(p);
			if (!e)
				return 0;
			if (cur(p)->kind != TK_VAR_END)
				return expect_fail(p, "'}}'");
			advance(p);
			node = mk(p, N_OUTPUT, 0, e, 0, 0, t);
			break;
		}
		case TK_BLOCK_BEGIN: {
			const struct token *nt;

			advance(p);
			nt = cur(p);
			if (nt->kind != TK_NAME)
				return expect_fail(p, "a tag name after '{%'");
			for (k = 0; terms && terms[k]; k++)
				if (is_name(p, nt, terms[k])) {
					*which = k;
					*ok = true;
					return head;
				}
			if (is_name(p, nt, "if")) {
				node = parse_if(p, t);
			} else if (is_name(p, nt, "for")) {
				node = parse_for(p, t);
			} else {
				for (k = 0; block_tags[k]; k++)
					if (is_name(p, nt, block_tags[k]))
						break;
				if (!block_tags[k])
					return perr(p, nt, "unknown tag \"%.*s\"",
					    (int)nt->len, p->src + nt->off);
				if (p->nblocks == 0)
					return perr(p, nt, "unexpected {%% %s %%} (no block "
					    "is open)", block_tags[k]);
				return perr(p, nt, "unexpected {%% %s %%} inside "
				    "{%% %s %%} (opened at line %u, col %u)",
				    block_tags[k], p->blocks[p->nblocks - 1].tag,
				    p->blocks[p->nblocks - 1].open->line,
				    p->blocks[p->nblocks - 1].open->col);
			}
			if (!node)
				return 0;
			break;
		}
		default: {
			char tmp[64];

			return perr(p, t, "unexpected %s", tok_desc(p, t, tmp, sizeof tmp));
		}
		}
		if (tail)
			N(p, tail)->next = node;
		else
			head = node;
		tail = node;
	}
}

int
tmpl_parse(struct tmpl *t, const char *src, const struct tokens *tv,
    struct buf *pool, struct tmpl_error *err)
{
	struct parser p;
	int which;
	bool ok;

	memset(&p, 0, sizeof p);
	p.src = src;
	p.tok = tv->v;
	p.ntok = tv->n;
	p.t = t;
	p.pool = pool;
	p.err = err;
	t->nnodes = 1;          /* node 0 means "none" */
	t->nodes = xgrow(t->nodes, &t->cap, 1, sizeof *t->nodes);
	memset(&t->nodes[0], 0, sizeof t->nodes[0]);
	t->root = parse_body(&p, NULL, &which, &ok);
	return ok ? 0 : -1;
}
