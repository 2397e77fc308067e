/*
 * template_int.h - private interface between the parts of the template
 * engine: the lexer (template_lex.c) turns the source into tokens, the parser
 * (template_parse.c) turns tokens into an AST held in one node array, the
 * evaluator (template_eval.c) renders the AST, with the values and their
 * output forms in template_value.c and the filters and tests in
 * template_filter.c. template.c holds the public entry points.
 *
 * Nothing here is part of the public API (template.h).
 */
#ifndef ACKBOT_TEMPLATE_INT_H
#define ACKBOT_TEMPLATE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "template.h"
#include "util.h"

#define TMPL_MAX_SOURCE (16u * 1024 * 1024) /* offsets are 32-bit */
#define TMPL_MAX_NEST 32         /* nested {% if %} / {% for %} blocks */
#define TMPL_MAX_EXPR_DEPTH 100  /* depth of one expression's tree */
#define TMPL_MAX_ITERATIONS 100000 /* loop iterations per render, all loops */
#define TMPL_MAX_ARGS 4          /* filter parameters */
#define TMPL_MAX_VALUE (64u * 1024 * 1024) /* intermediate strings, at most */
#define TMPL_MAX_WORK (256u * 1024 * 1024) /* intermediate bytes per render */

/* ---- tokens (template_lex.c) ---- */

enum tok_kind {
	TK_EOF,
	TK_TEXT,        /* literal text, already stripped; in the pool */
	TK_VAR_BEGIN,   /* {{ */
	TK_VAR_END,     /* }} */
	TK_BLOCK_BEGIN, /* {% */
	TK_BLOCK_END,   /* %} */
	TK_NAME,        /* identifier; its text is src[off, off + len) */
	TK_STRING,      /* decoded string literal; in the pool */
	TK_INT,
	TK_REAL,
	TK_OP,          /* operator or punctuation; see enum tmpl_op */
};

enum tmpl_op {
	OP_NONE,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_TILDE,
	OP_PIPE, OP_DOT, OP_COMMA, OP_COLON, OP_ASSIGN,
	OP_LPAREN, OP_RPAREN, OP_LBRACKET, OP_RBRACKET,
};

struct token {
	enum tok_kind kind;
	enum tmpl_op op;
	uint32_t off, len;      /* where it is in the source */
	uint32_t soff, slen;    /* TK_TEXT, TK_STRING: the text in the pool */
	uint32_t line, col;     /* of off, 1-based; col counts code points */
	json_int_t i;
	double d;
};

struct tokens {
	struct token *v;
	size_t n, cap;
};

/* Splits src into tokens. Text and decoded strings go to pool. Returns 0, or
 * -1 with err filled. */
int tmpl_lex(const char *src, size_t len, struct tokens *tv, struct buf *pool,
    struct tmpl_error *err);

/* Fills err for a problem at src[off] whose line and column are known. */
void tmpl_error_set(struct tmpl_error *err, size_t off, uint32_t line,
    uint32_t col, const char *fmt, ...) ACK_PRINTF(5, 6);

/* ---- the AST (template_parse.c) ---- */

enum node_kind {
	N_NONE,
	/* statements; linked through next */
	N_TEXT,         /* s: text */
	N_OUTPUT,       /* {{ a }} */
	N_IF,           /* a: condition, b: body, c: else body, or the next
	                 * N_IF of an elif chain when op == 1 */
	N_FOR,          /* a: iterable, b: body, c: else body, op: frame
	                 * depth, i: number of loop variables (1 or 2) */
	/* expressions */
	N_STR,          /* s */
	N_INT,          /* i */
	N_REAL,         /* d */
	N_BOOL,         /* i */
	N_NULL,
	N_LIST,         /* a: first element, linked through next */
	N_NAME,         /* s: a name looked up in the context */
	N_LOCAL,        /* a: frame depth, op: 0/1 loop variable, 2 `loop` */
	N_GETATTR,      /* a.s */
	N_GETITEM,      /* a[b] */
	N_SLICE,        /* a[b:c]; b, c may be 0 */
	N_METHOD,       /* a.items() / a.keys() / a.values(); op: which */
	N_NOT,
	N_NEG,
	N_POS,
	N_AND,
	N_OR,
	N_BINOP,        /* op: OP_ADD ... OP_TILDE */
	N_CMP,          /* op: OP_EQ ... OP_GE */
	N_IN,           /* a in b; op == 1 for not in */
	N_FILTER,       /* a|filter(args); op: filter id; b: first N_ARG */
	N_ARG,          /* a: value; op: parameter slot; next: next N_ARG */
	N_TEST,         /* a is test; op: test id */
	N_COND,         /* b if a else c; c may be 0 (undefined) */
};

enum { METHOD_ITEMS, METHOD_KEYS, METHOD_VALUES };

struct node {
	uint8_t kind;
	uint8_t op;
	uint16_t depth;         /* expression tree depth */
	uint32_t next;
	uint32_t a, b, c;
	uint32_t line, col;     /* for render errors */
	union {
		json_int_t i;
		double d;
		struct {
			uint32_t off, len;  /* in the pool */
		} s;
	} v;
};

struct tmpl {
	struct node *nodes;     /* nodes[0] is unused: index 0 means none */
	size_t nnodes, cap;
	char *pool;             /* text and string literals */
	size_t poollen;
	uint32_t root;          /* first statement */
};

/* Builds t's AST from the tokens. Returns 0, or -1 with err filled. */
int tmpl_parse(struct tmpl *t, const char *src, const struct tokens *tv,
    struct buf *pool, struct tmpl_error *err);

/* ---- values (template_value.c) ---- */

enum vkind { V_UNDEF, V_NULL, V_BOOL, V_INT, V_REAL, V_STR, V_JSON, V_LOOP };

struct frame;

/*
 * A value during rendering. Most values are borrowed: strings point into the
 * context, the template's pool or a container held by a caller. A value that
 * owns memory says so in ref (a json reference to drop) and heap (a string to
 * free); val_free releases both. A value derived from a container (an item,
 * a substring) takes over the container's ownership, so it stays valid after
 * the container value is dropped.
 */
struct val {
	uint8_t kind;
	union {
		bool b;
		json_int_t i;
		double d;
		struct {
			const char *p;
			size_t n;
		} s;
		json_t *j;              /* only arrays and objects */
		const struct frame *loop;
	} u;
	json_t *ref;
	char *heap;
};

struct frame {
	struct val item, item2;
	size_t index, length;
};

struct rstate {
	const struct tmpl *t;
	json_t *ctx;            /* never modified */
	struct buf *out;
	size_t max;             /* cap for intermediate strings */
	char *err;
	size_t errlen;
	size_t iterations;
	size_t work;            /* bytes built into intermediate strings */
	struct frame frames[TMPL_MAX_NEST];
};

static inline void
val_init(struct val *v, int kind)
{
	v->kind = (uint8_t)kind;
	v->ref = NULL;
	v->heap = NULL;
}

void val_free(struct val *v);
/* Wraps a json value; the result borrows from j. */
void val_from_json(struct val *v, json_t *j);
/* Moves the ownership of from (if any) to v; from becomes borrowed. */
void val_take(struct val *v, struct val *from);
/* A string owned by v: takes over the memory of b. */
void val_set_buf(struct val *v, struct buf *b);
bool val_truthy(const struct val *v);
bool val_equal(const struct val *a, const struct val *b);
bool val_is_number(const struct val *v);
double val_num(const struct val *v);
const char *val_type_name(const struct val *v);
const char *val_type_a(const struct val *v);
/* Appends v's printed form (str() in Jinja terms). */
int val_write(struct buf *b, const struct val *v);
/* Appends v as JSON; indent < 0 means compact. */
int val_write_json(struct buf *b, const struct val *v, int indent);
int json_write(struct buf *b, const json_t *j, int indent, int level);
/* A new json reference for v (undefined becomes null). */
json_t *val_to_json(const struct val *v);
/* Gets v as a string: a pointer into v, or v printed into tmp. */
int val_string(const struct val *v, struct buf *tmp, const char **p, size_t *n);
/* Formats a double the way Python's repr does (1.5, 2.0, 1e+16). */
void fmt_real(char *out, size_t outlen, double d);
size_t fmt_int(char *out, json_int_t i);

/* ---- filters and tests (template_filter.c) ---- */

struct filter_def {
	const char *name;
	const char *params[TMPL_MAX_ARGS];
	uint8_t nparams, nrequired;
	int (*fn)(struct rstate *rs, const struct node *n, struct val *in,
	    struct val *args, unsigned given, struct val *res);
};

/* Returns the filter id, or -1. */
int tmpl_filter_lookup(const char *name, size_t len);
const struct filter_def *tmpl_filter_get(int id);
int tmpl_test_lookup(const char *name, size_t len);
/* Applies test id to v; returns 0 and sets *res, or -1 on error. */
int tmpl_test_apply(struct rstate *rs, const struct node *n, int id,
    const struct val *v, bool *res);

/* ---- rendering (template_eval.c) ---- */

int tmpl_eval(struct rstate *rs, uint32_t idx, struct val *res);
int tmpl_render_body(struct rstate *rs, uint32_t idx);
/* Sets a render error naming n's position; returns -1. */
int tmpl_rerr(struct rstate *rs, const struct node *n, const char *fmt, ...)
    ACK_PRINTF(3, 4);
/* Counts len bytes of intermediate values against TMPL_MAX_WORK. */
int tmpl_work(struct rstate *rs, const struct node *n, size_t len);
/* Appends to a scratch buffer, failing with a render error over rs->max. */
int tmpl_put(struct rstate *rs, const struct node *n, struct buf *b,
    const void *p, size_t len);

/* val_string with a render error when the value is too large. */
int tmpl_str(struct rstate *rs, const struct node *n, const struct val *v,
    struct buf *tmp, const char **p, size_t *len);
static inline void
val_move(struct val *dst, struct val *src)
{
	*dst = *src;
	src->ref = NULL;
	src->heap = NULL;
}

/* UTF-8 helpers: byte length of the sequence starting at s[0] (1 for an
 * invalid byte, never past n); byte offset of code point k. */
size_t utf8_seqlen(const char *s, size_t n);
size_t utf8_offset(const char *s, size_t n, size_t k);
/* Number of code points, counting each invalid byte as one. */
size_t utf8_cps(const char *s, size_t n);

#endif
