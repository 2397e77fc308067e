/*
 * template_eval.c - renders a compiled template: walks the statements,
 * evaluates expressions to values (template_value.c) and writes their
 * printed form to the output buffer. Never modifies the template or the
 * context; all state lives in struct rstate on the caller's stack.
 */
#include "template_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
tmpl_rerr(struct rstate *rs, const struct node *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n)
		return ack_err(rs->err, rs->errlen, "%s (line %u, col %u)", msg,
		    n->line, n->col);
	return ack_err(rs->err, rs->errlen, "%s", msg);
}

int
tmpl_work(struct rstate *rs, const struct node *n, size_t len)
{
	rs->work += len;
	if (rs->work > TMPL_MAX_WORK)
		return tmpl_rerr(rs, n, "template does too much work (over %u bytes "
		    "of intermediate values per render)", TMPL_MAX_WORK);
	return 0;
}

int
tmpl_put(struct rstate *rs, const struct node *n, struct buf *b, const void *p,
    size_t len)
{
	if (buf_append(b, p, len) < 0)
		return tmpl_rerr(rs, n, "value too large (over %zu bytes)", rs->max);
	return tmpl_work(rs, n, len);
}

int
tmpl_str(struct rstate *rs, const struct node *n, const struct val *v,
    struct buf *tmp, const char **p, size_t *len)
{
	if (val_string(v, tmp, p, len) < 0)
		return tmpl_rerr(rs, n, "value too large (over %zu bytes)", rs->max);
	return v->kind == V_STR ? 0 : tmpl_work(rs, n, *len);
}

static const struct node *
node_at(const struct rstate *rs, uint32_t idx)
{
	return &rs->t->nodes[idx];
}

/* c.key, consuming c. */
static void
get_key(struct val *c, const char *k, size_t kn, struct val *res)
{
	val_init(res, V_UNDEF);
	if (c->kind == V_JSON && json_is_object(c->u.j)) {
		json_t *j = json_object_getn(c->u.j, k, kn);

		if (j) {
			val_from_json(res, j);
			val_take(res, c);
		}
	} else if (c->kind == V_LOOP) {
		const struct frame *f = c->u.loop;

#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
		if (KEY("index")) {
			res->kind = V_INT;
			res->u.i = (json_int_t)f->index + 1;
		} else if (KEY("index0")) {
			res->kind = V_INT;
			res->u.i = (json_int_t)f->index;
		} else if (KEY("revindex")) {
			res->kind = V_INT;
			res->u.i = (json_int_t)(f->length - f->index);
		} else if (KEY("revindex0")) {
			res->kind = V_INT;
			res->u.i = (json_int_t)(f->length - f->index - 1);
		} else if (KEY("first")) {
			res->kind = V_BOOL;
			res->u.b = f->index == 0;
		} else if (KEY("last")) {
			res->kind = V_BOOL;
			res->u.b = f->index + 1 == f->length;
		} else if (KEY("length")) {
			res->kind = V_INT;
			res->u.i = (json_int_t)f->length;
		}
#undef KEY
	}
	val_free(c);
}

static bool
as_index(const struct val *v, json_int_t *i)
{
	if (v->kind == V_INT) {
		*i = v->u.i;
		return true;
	}
	if (v->kind == V_BOOL) {
		*i = v->u.b;
		return true;
	}
	return false;
}

/* c[key], consuming c. */
static void
get_item(struct val *c, const struct val *key, struct val *res)
{
	json_int_t i;

	if (key->kind == V_STR) {
		get_key(c, key->u.s.p, key->u.s.n, res);
		return;
	}
	val_init(res, V_UNDEF);
	if (!as_index(key, &i))
		goto out;
	if (c->kind == V_JSON && json_is_array(c->u.j)) {
		json_int_t n = (json_int_t)json_array_size(c->u.j);

		if (i < 0)
			i += n;
		if (i >= 0 && i < n) {
			val_from_json(res, json_array_get(c->u.j, (size_t)i));
			val_take(res, c);
		}
	} else if (c->kind == V_STR) {
		json_int_t n = (json_int_t)utf8_cps(c->u.s.p, c->u.s.n);

		if (i < 0)
			i += n;
		if (i >= 0 && i < n) {
			size_t off = utf8_offset(c->u.s.p, c->u.s.n, (size_t)i);

			val_init(res, V_STR);
			res->u.s.p = c->u.s.p + off;
			res->u.s.n = utf8_seqlen(c->u.s.p + off, c->u.s.n - off);
			val_take(res, c);
		}
	}
out:
	val_free(c);
}

static size_t
slice_bound(json_int_t v, size_t len)
{
	if (v < 0) {
		json_int_t r = v + (json_int_t)len;

		return r < 0 ? 0 : (size_t)r;
	}
	return (size_t)v > len ? len : (size_t)v;
}

static int
eval_slice(struct rstate *rs, const struct node *n, struct val *res)
{
	struct val c, lo, hi;
	json_int_t a = 0, b = 0;
	bool has_a = false, has_b = false;
	size_t len, start, stop;
	int rc = -1;

	val_init(&lo, V_UNDEF);
	val_init(&hi, V_UNDEF);
	if (tmpl_eval(rs, n->a, &c) < 0)
		return -1;
	if (n->b && tmpl_eval(rs, n->b, &lo) < 0)
		goto out;
	if (n->c && tmpl_eval(rs, n->c, &hi) < 0)
		goto out;
	if ((lo.kind != V_UNDEF && lo.kind != V_NULL && !(has_a = as_index(&lo, &a))) ||
	    (hi.kind != V_UNDEF && hi.kind != V_NULL && !(has_b = as_index(&hi, &b)))) {
		tmpl_rerr(rs, n, "slice indices must be integers");
		goto out;
	}
	val_init(res, V_UNDEF);
	if (c.kind == V_STR) {
		size_t o1, o2;

		len = utf8_cps(c.u.s.p, c.u.s.n);
		start = has_a ? slice_bound(a, len) : 0;
		stop = has_b ? slice_bound(b, len) : len;
		if (stop < start)
			stop = start;
		o1 = utf8_offset(c.u.s.p, c.u.s.n, start);
		o2 = o1 + utf8_offset(c.u.s.p + o1, c.u.s.n - o1, stop - start);
		val_init(res, V_STR);
		res->u.s.p = c.u.s.p + o1;
		res->u.s.n = o2 - o1;
		val_take(res, &c);
	} else if (c.kind == V_JSON && json_is_array(c.u.j)) {
		json_t *arr = json_array();
		size_t i;

		len = json_array_size(c.u.j);
		start = has_a ? slice_bound(a, len) : 0;
		stop = has_b ? slice_bound(b, len) : len;
		for (i = start; i < stop; i++)
			json_array_append(arr, json_array_get(c.u.j, i));
		val_init(res, V_JSON);
		res->u.j = arr;
		res->ref = arr;
	} else if (c.kind != V_UNDEF) {
		tmpl_rerr(rs, n, "cannot slice %s", val_type_a(&c));
		goto out;
	}
	rc = 0;
out:
	val_free(&c);
	val_free(&lo);
	val_free(&hi);
	return rc;
}

static int
eval_method(struct rstate *rs, const struct node *n, struct val *res)
{
	struct val c;
	json_t *arr;
	void *it;

	if (tmpl_eval(rs, n->a, &c) < 0)
		return -1;
	val_init(res, V_UNDEF);
	if (c.kind == V_UNDEF)
		return 0;
	if (c.kind != V_JSON || !json_is_object(c.u.j)) {
		tmpl_rerr(rs, n, ".%s() needs an object, got %s",
		    n->op == METHOD_ITEMS ? "items" : n->op == METHOD_KEYS ? "keys" :
		    "values", val_type_a(&c));
		val_free(&c);
		return -1;
	}
	arr = json_array();
	for (it = json_object_iter(c.u.j); it; it = json_object_iter_next(c.u.j, it)) {
		json_t *k = json_stringn_nocheck(json_object_iter_key(it),
		    json_object_iter_key_len(it));
		json_t *v = json_object_iter_value(it);

		if (n->op == METHOD_KEYS)
			json_array_append_new(arr, k);
		else if (n->op == METHOD_VALUES) {
			json_array_append(arr, v);
			json_decref(k);
		} else {
			json_t *pair = json_array();

			json_array_append_new(pair, k);
			json_array_append(pair, v);
			json_array_append_new(arr, pair);
		}
	}
	val_free(&c);
	val_init(res, V_JSON);
	res->u.j = arr;
	res->ref = arr;
	return 0;
}

static int
eval_list(struct rstate *rs, const struct node *n, struct val *res)
{
	json_t *arr = json_array();
	uint32_t e;

	for (e = n->a; e; e = node_at(rs, e)->next) {
		struct val v;

		if (tmpl_eval(rs, e, &v) < 0 ||
		    (v.kind == V_STR && tmpl_work(rs, n, v.u.s.n) < 0)) {
			val_free(&v);
			json_decref(arr);
			return -1;
		}
		json_array_append_new(arr, val_to_json(&v));
		val_free(&v);
	}
	val_init(res, V_JSON);
	res->u.j = arr;
	res->ref = arr;
	return 0;
}

/* s * n for a string or list s, as in Python (n <= 0 gives an empty one). */
static int
repeat(struct rstate *rs, const struct node *n, const struct val *s,
    const struct val *count, struct val *res)
{
	json_int_t k = count->kind == V_BOOL ? count->u.b : count->u.i, i;

	if (s->kind == V_STR ? s->u.s.n == 0 : json_array_size(s->u.j) == 0)
		k = 0;          /* nothing to repeat: don't loop */
	if (s->kind == V_STR) {
		struct buf b;

		buf_init(&b, rs->max);
		if (k > 0 && s->u.s.n && (unsigned long long)k > rs->max / s->u.s.n)
			return tmpl_rerr(rs, n, "value too large (over %zu bytes)", rs->max);
		for (i = 0; i < k; i++)
			if (tmpl_put(rs, n, &b, s->u.s.p, s->u.s.n) < 0) {
				buf_free(&b);
				return -1;
			}
		val_set_buf(res, &b);
		return 0;
	} else {
		json_t *arr = json_array();
		size_t len = json_array_size(s->u.j);

		if (k > 0 && (unsigned long long)k > TMPL_MAX_ITERATIONS / len) {
			json_decref(arr);
			return tmpl_rerr(rs, n, "list too large (over %d items)",
			    TMPL_MAX_ITERATIONS);
		}
		for (i = 0; i < k; i++)
			json_array_extend(arr, s->u.j);
		val_init(res, V_JSON);
		res->u.j = arr;
		res->ref = arr;
		return 0;
	}
}

static int
arith(struct rstate *rs, const struct node *n, struct val *a, struct val *b,
    struct val *res)
{
	int op = n->op;

	if (op == OP_TILDE || (op == OP_ADD && a->kind == V_STR && b->kind == V_STR)) {
		struct buf s, tmp;
		const char *p;
		size_t len;
		int rc = -1;

		buf_init(&s, rs->max);
		buf_init(&tmp, rs->max);
		if (tmpl_str(rs, n, a, &tmp, &p, &len) < 0 ||
		    tmpl_put(rs, n, &s, p, len) < 0 ||
		    tmpl_str(rs, n, b, &tmp, &p, &len) < 0 ||
		    tmpl_put(rs, n, &s, p, len) < 0)
			goto out;
		val_set_buf(res, &s);
		rc = 0;
out:
		buf_free(&s);
		buf_free(&tmp);
		return rc;
	}
	if (op == OP_ADD && a->kind == V_JSON && b->kind == V_JSON &&
	    json_is_array(a->u.j) && json_is_array(b->u.j)) {
		json_t *arr = json_array();

		json_array_extend(arr, a->u.j);
		json_array_extend(arr, b->u.j);
		val_init(res, V_JSON);
		res->u.j = arr;
		res->ref = arr;
		return 0;
	}
	if (op == OP_MUL && ((a->kind == V_STR || (a->kind == V_JSON &&
	    json_is_array(a->u.j))) && (b->kind == V_INT || b->kind == V_BOOL)))
		return repeat(rs, n, a, b, res);
	if (op == OP_MUL && ((b->kind == V_STR || (b->kind == V_JSON &&
	    json_is_array(b->u.j))) && (a->kind == V_INT || a->kind == V_BOOL)))
		return repeat(rs, n, b, a, res);
	if (!val_is_number(a) || !val_is_number(b)) {
		static const char *const names[] = { [OP_ADD] = "+", [OP_SUB] = "-",
			[OP_MUL] = "*", [OP_DIV] = "/", [OP_FLOORDIV] = "//",
			[OP_MOD] = "%" };

		return tmpl_rerr(rs, n, "unsupported operand types for %s: %s and %s",
		    names[op], val_type_name(a), val_type_name(b));
	}
	if (a->kind != V_REAL && b->kind != V_REAL && op != OP_DIV) {
		json_int_t x = a->kind == V_BOOL ? a->u.b : a->u.i;
		json_int_t y = b->kind == V_BOOL ? b->u.b : b->u.i;
		json_int_t r;
		bool ovf = false;

		switch (op) {
		case OP_ADD:
			ovf = __builtin_add_overflow(x, y, &r);
			break;
		case OP_SUB:
			ovf = __builtin_sub_overflow(x, y, &r);
			break;
		case OP_MUL:
			ovf = __builtin_mul_overflow(x, y, &r);
			break;
		default:        /* // and %, with Python's signs */
			if (y == 0)
				return tmpl_rerr(rs, n, "division by zero");
			if (y == -1) {
				if (op == OP_MOD) {
					r = 0;
				} else {
					ovf = __builtin_sub_overflow((json_int_t)0, x, &r);
				}
				break;
			}
			if (op == OP_FLOORDIV) {
				r = x / y;
				if ((x % y != 0) && ((x < 0) != (y < 0)))
					r--;
			} else {
				r = x % y;
				if (r != 0 && ((r < 0) != (y < 0)))
					r += y;
			}
			break;
		}
		if (!ovf) {
			val_init(res, V_INT);
			res->u.i = r;
			return 0;
		}
	}
	{
		double x = val_num(a), y = val_num(b), r;

		switch (op) {
		case OP_ADD: r = x + y; break;
		case OP_SUB: r = x - y; break;
		case OP_MUL: r = x * y; break;
		case OP_DIV:
			if (y == 0)
				return tmpl_rerr(rs, n, "division by zero");
			r = x / y;
			break;
		case OP_FLOORDIV:
			if (y == 0)
				return tmpl_rerr(rs, n, "division by zero");
			r = floor(x / y);
			break;
		default:
			if (y == 0)
				return tmpl_rerr(rs, n, "division by zero");
			r = fmod(x, y);
			if (r != 0 && ((r < 0) != (y < 0)))
				r += y;
			break;
		}
		val_init(res, V_REAL);
		res->u.d = r;
	}
	return 0;
}

static int
compare(struct rstate *rs, const struct node *n, const struct val *a,
    const struct val *b, bool *out)
{
	int c;

	if (n->op == OP_EQ || n->op == OP_NE) {
		*out = val_equal(a, b) == (n->op == OP_EQ);
		return 0;
	}
	if (val_is_number(a) && val_is_number(b)) {
		if (a->kind != V_REAL && b->kind != V_REAL) {
			json_int_t x = a->kind == V_BOOL ? a->u.b : a->u.i;
			json_int_t y = b->kind == V_BOOL ? b->u.b : b->u.i;

			c = x < y ? -1 : x > y;
		} else {
			double x = val_num(a), y = val_num(b);

			if (isnan(x) || isnan(y)) {
				*out = false;
				return 0;
			}
			c = x < y ? -1 : x > y;
		}
	} else if (a->kind == V_STR && b->kind == V_STR) {
		size_t m = a->u.s.n < b->u.s.n ? a->u.s.n : b->u.s.n;

		c = m ? memcmp(a->u.s.p, b->u.s.p, m) : 0;
		if (c == 0)
			c = a->u.s.n < b->u.s.n ? -1 : a->u.s.n > b->u.s.n;
	} else {
		static const char *const names[] = { [OP_LT] = "<", [OP_LE] = "<=",
			[OP_GT] = ">", [OP_GE] = ">=" };

		return tmpl_rerr(rs, n, "cannot compare %s %s %s", val_type_name(a),
		    names[n->op], val_type_name(b));
	}
	switch (n->op) {
	case OP_LT: *out = c < 0; break;
	case OP_LE: *out = c <= 0; break;
	case OP_GT: *out = c > 0; break;
	default: *out = c >= 0; break;
	}
	return 0;
}

static int
contains(struct rstate *rs, const struct node *n, const struct val *needle,
    const struct val *hay, bool *out)
{
	*out = false;
	switch (hay->kind) {
	case V_UNDEF:
		return 0;
	case V_STR:
		if (needle->kind != V_STR)
			return tmpl_rerr(rs, n, "'in <string>' needs a string on the "
			    "left, not %s", val_type_a(needle));
		*out = needle->u.s.n == 0 || (hay->u.s.n >= needle->u.s.n &&
		    memmem(hay->u.s.p, hay->u.s.n, needle->u.s.p, needle->u.s.n) != NULL);
		return 0;
	case V_JSON:
		if (json_is_object(hay->u.j)) {
			*out = needle->kind == V_STR && json_object_getn(hay->u.j,
			    needle->u.s.p, needle->u.s.n) != NULL;
		} else {
			size_t i, len = json_array_size(hay->u.j);

			for (i = 0; i < len && !*out; i++) {
				struct val e;

				val_from_json(&e, json_array_get(hay->u.j, i));
				*out = val_equal(needle, &e);
			}
		}
		return 0;
	default:
		return tmpl_rerr(rs, n, "'in' needs a string, list or object on the "
		    "right, not %s", val_type_a(hay));
	}
}

static int
eval_filter(struct rstate *rs, const struct node *n, struct val *res)
{
	const struct filter_def *fd = tmpl_filter_get(n->op);
	struct val in, args[TMPL_MAX_ARGS];
	unsigned given = 0, k;
	uint32_t a;
	int rc = -1;

	for (k = 0; k < TMPL_MAX_ARGS; k++)
		val_init(&args[k], V_UNDEF);
	if (tmpl_eval(rs, n->a, &in) < 0)
		return -1;
	for (a = n->b; a; a = node_at(rs, a)->next) {
		const struct node *an = node_at(rs, a);

		if (tmpl_eval(rs, an->a, &args[an->op]) < 0)
			goto out;
		given |= 1u << an->op;
	}
	val_init(res, V_UNDEF);
	rc = fd->fn(rs, n, &in, args, given, res);
out:
	val_free(&in);
	for (k = 0; k < TMPL_MAX_ARGS; k++)
		val_free(&args[k]);
	return rc;
}

int
tmpl_eval(struct rstate *rs, uint32_t idx, struct val *res)
{
	const struct node *n = node_at(rs, idx);
	struct val a, b;
	int rc;

	switch (n->kind) {
	case N_STR:
		val_init(res, V_STR);
		res->u.s.p = rs->t->pool + n->v.s.off;
		res->u.s.n = n->v.s.len;
		return 0;
	case N_INT:
		val_init(res, V_INT);
		res->u.i = n->v.i;
		return 0;
	case N_REAL:
		val_init(res, V_REAL);
		res->u.d = n->v.d;
		return 0;
	case N_BOOL:
		val_init(res, V_BOOL);
		res->u.b = n->v.i != 0;
		return 0;
	case N_NULL:
		val_init(res, V_NULL);
		return 0;
	case N_LIST:
		return eval_list(rs, n, res);
	case N_NAME: {
		json_t *j = rs->ctx ? json_object_getn(rs->ctx,
		    rs->t->pool + n->v.s.off, n->v.s.len) : NULL;

		if (j)
			val_from_json(res, j);
		else
			val_init(res, V_UNDEF);
		return 0;
	}
	case N_LOCAL: {
		const struct frame *f = &rs->frames[n->a];

		if (n->op == 2) {
			val_init(res, V_LOOP);
			res->u.loop = f;
			return 0;
		}
		*res = n->op == 0 ? f->item : f->item2;
		res->ref = NULL;
		res->heap = NULL;
		return 0;
	}
	case N_GETATTR:
		if (tmpl_eval(rs, n->a, &a) < 0)
			return -1;
		get_key(&a, rs->t->pool + n->v.s.off, n->v.s.len, res);
		return 0;
	case N_GETITEM:
		if (tmpl_eval(rs, n->a, &a) < 0)
			return -1;
		if (tmpl_eval(rs, n->b, &b) < 0) {
			val_free(&a);
			return -1;
		}
		get_item(&a, &b, res);
		val_free(&b);
		return 0;
	case N_SLICE:
		return eval_slice(rs, n, res);
	case N_METHOD:
		return eval_method(rs, n, res);
	case N_NOT:
		if (tmpl_eval(rs, n->a, &a) < 0)
			return -1;
		val_init(res, V_BOOL);
		res->u.b = !val_truthy(&a);
		val_free(&a);
		return 0;
	case N_NEG:
	case N_POS:
		if (tmpl_eval(rs, n->a, &a) < 0)
			return -1;
		if (!val_is_number(&a)) {
			rc = tmpl_rerr(rs, n, "bad operand type for unary %c: %s",
			    n->kind == N_NEG ? '-' : '+', val_type_name(&a));
			val_free(&a);
			return rc;
		}
		if (a.kind == V_REAL) {
			val_init(res, V_REAL);
			res->u.d = n->kind == N_NEG ? -a.u.d : a.u.d;
		} else {
			json_int_t x = a.kind == V_BOOL ? a.u.b : a.u.i;

			val_init(res, V_INT);
			res->u.i = x;
			if (n->kind == N_NEG && __builtin_sub_overflow((json_int_t)0, x,
			    &res->u.i)) {
				res->kind = V_REAL;
				res->u.d = -(double)x;
			}
		}
		return 0;
	case N_AND:
	case N_OR:
		if (tmpl_eval(rs, n->a, res) < 0)
			return -1;
		if (val_truthy(res) == (n->kind == N_OR))
			return 0;
		val_free(res);
		return tmpl_eval(rs, n->b, res);
	case N_COND:
		if (tmpl_eval(rs, n->a, &a) < 0)
			return -1;
		rc = val_truthy(&a);
		val_free(&a);
		if (rc)
			return tmpl_eval(rs, n->b, res);
		if (n->c)
			return tmpl_eval(rs, n->c, res);
		val_init(res, V_UNDEF);
		return 0;
	case N_BINOP:
	case N_CMP:
	case N_IN: {
		bool r = false;

		if (tmpl_eval(rs, n->a, &a) < 0)
			return -1;
		if (tmpl_eval(rs, n->b, &b) < 0) {
			val_free(&a);
			return -1;
		}
		if (n->kind == N_BINOP) {
			rc = arith(rs, n, &a, &b, res);
		} else {
			rc = n->kind == N_CMP ? compare(rs, n, &a, &b, &r) :
			    contains(rs, n, &a, &b, &r);
			if (n->kind == N_IN && n->op)
				r = !r;
			val_init(res, V_BOOL);
			res->u.b = r;
		}
		val_free(&a);
		val_free(&b);
		return rc;
	}
	case N_FILTER:
		return eval_filter(rs, n, res);
	case N_TEST: {
		bool r;

		if (tmpl_eval(rs, n->a, &a) < 0)
			return -1;
		rc = tmpl_test_apply(rs, n, n->op, &a, &r);
		val_free(&a);
		val_init(res, V_BOOL);
		res->u.b = r;
		return rc;
	}
	default:
		val_init(res, V_UNDEF);
		return tmpl_rerr(rs, n, "internal error: bad expression node %d",
		    n->kind);
	}
}

static int
out_err(struct rstate *rs)
{
	return ack_err(rs->err, rs->errlen, "output exceeds the limit of %zu bytes",
	    rs->out->max);
}

static int
render_for(struct rstate *rs, const struct node *n)
{
	struct frame *f = &rs->frames[n->op];
	struct val it;
	size_t i, len = 0, off = 0;
	void *oit = NULL;
	json_t *arr = NULL, *obj = NULL;
	const struct node *src = node_at(rs, n->a);
	int rc = -1;

	/* for k, v in obj.items() and for k in obj.keys() walk obj itself
	 * rather than building the list */
	if (src->kind == N_METHOD && ((src->op == METHOD_ITEMS && n->v.i == 2) ||
	    (src->op == METHOD_KEYS && n->v.i == 1))) {
		if (tmpl_eval(rs, src->a, &it) < 0)
			return -1;
		if (it.kind != V_JSON || !json_is_object(it.u.j)) {
			val_free(&it);
			if (tmpl_eval(rs, n->a, &it) < 0)
				return -1;
		}
	} else if (tmpl_eval(rs, n->a, &it) < 0) {
		return -1;
	}
	switch (it.kind) {
	case V_UNDEF:
		break;
	case V_JSON:
		if (json_is_array(it.u.j)) {
			arr = it.u.j;
			len = json_array_size(arr);
		} else {
			obj = it.u.j;
			len = json_object_size(obj);
			oit = json_object_iter(obj);
		}
		break;
	case V_STR:
		len = utf8_cps(it.u.s.p, it.u.s.n);
		break;
	default:
		tmpl_rerr(rs, n, "cannot loop over %s", val_type_a(&it));
		goto out;
	}
	if (len == 0) {
		rc = tmpl_render_body(rs, n->c);
		goto out;
	}
	f->length = len;
	for (i = 0; i < len; i++) {
		if (++rs->iterations > TMPL_MAX_ITERATIONS) {
			tmpl_rerr(rs, n, "too many loop iterations (limit %d per render)",
			    TMPL_MAX_ITERATIONS);
			goto out;
		}
		f->index = i;
		val_init(&f->item2, V_UNDEF);
		if (arr) {
			val_from_json(&f->item, json_array_get(arr, i));
		} else if (obj) {
			if (oit == NULL)
				break;
			val_init(&f->item, V_STR);
			f->item.u.s.p = json_object_iter_key(oit);
			f->item.u.s.n = json_object_iter_key_len(oit);
			if (n->v.i == 2)
				val_from_json(&f->item2, json_object_iter_value(oit));
			oit = json_object_iter_next(obj, oit);
		} else {
			size_t sl = utf8_seqlen(it.u.s.p + off, it.u.s.n - off);

			val_init(&f->item, V_STR);
			f->item.u.s.p = it.u.s.p + off;
			f->item.u.s.n = sl;
			off += sl;
		}
		if (n->v.i == 2 && !obj) {
			/* unpack a pair */
			json_t *pair = f->item.kind == V_JSON ? f->item.u.j : NULL;

			if (pair == NULL || !json_is_array(pair) || json_array_size(pair) != 2) {
				tmpl_rerr(rs, n, "cannot unpack %s into two loop variables",
				    f->item.kind == V_JSON && json_is_array(pair) ?
				    "a list whose length is not 2" : val_type_a(&f->item));
				goto out;
			}
			val_from_json(&f->item, json_array_get(pair, 0));
			val_from_json(&f->item2, json_array_get(pair, 1));
		}
		if (tmpl_render_body(rs, n->b) < 0)
			goto out;
	}
	rc = 0;
out:
	val_free(&it);
	return rc;
}

int
tmpl_render_body(struct rstate *rs, uint32_t idx)
{
	while (idx) {
		const struct node *n = node_at(rs, idx);

		switch (n->kind) {
		case N_TEXT:
			if (buf_append(rs->out, rs->t->pool + n->v.s.off, n->v.s.len) < 0)
				return out_err(rs);
			break;
		case N_OUTPUT: {
			struct val v;
			int rc;

			if (tmpl_eval(rs, n->a, &v) < 0)
				return -1;
			rc = val_write(rs->out, &v);
			val_free(&v);
			if (rc < 0)
				return out_err(rs);
			break;
		}
		case N_IF: {
			const struct node *c = n;

			for (;;) {
				struct val v;
				bool t;

				if (tmpl_eval(rs, c->a, &v) < 0)
					return -1;
				t = val_truthy(&v);
				val_free(&v);
				if (t) {
					if (tmpl_render_body(rs, c->b) < 0)
						return -1;
					break;
				}
				if (c->op == 1) {
					c = node_at(rs, c->c);
					continue;
				}
				if (tmpl_render_body(rs, c->c) < 0)
					return -1;
				break;
			}
			break;
		}
		case N_FOR:
			if (render_for(rs, n) < 0)
				return -1;
			break;
		default:
			return tmpl_rerr(rs, n, "internal error: bad statement node %d",
			    n->kind);
		}
		idx = n->next;
	}
	return 0;
}
