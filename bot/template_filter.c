/*
 * template_filter.c - the filters (x|upper, x|truncate(20), ...) and tests
 * (x is defined, ...). Each filter declares its parameter names, so the
 * parser can check arguments, positional or by keyword, at compile time.
 * String operations count code points and never split a UTF-8 sequence;
 * case mapping covers ASCII, Latin-1, Greek and Cyrillic letters.
 */
#include "template_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GIVEN(k) ((given >> (k)) & 1u)

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* The result string of a filter, built in b (capped at rs->max). */
static int
finish(struct val *res, struct buf *b)
{
	val_set_buf(res, b);
	return 0;
}

static int
need_int(struct rstate *rs, const struct node *n, const struct val *v,
    const char *what, json_int_t *out)
{
	if (v->kind == V_INT) {
		*out = v->u.i;
		return 0;
	}
	if (v->kind == V_BOOL) {
		*out = v->u.b;
		return 0;
	}
	return tmpl_rerr(rs, n, "%s must be an integer, not %s", what,
	    val_type_a(v));
}

static int
f_default(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	(void)rs;
	(void)n;
	if (in->kind == V_UNDEF || (GIVEN(1) && val_truthy(&args[1]) &&
	    !val_truthy(in))) {
		if (GIVEN(0)) {
			val_move(res, &args[0]);
		} else {
			val_init(res, V_STR);
			res->u.s.p = "";
			res->u.s.n = 0;
		}
	} else {
		val_move(res, in);
	}
	return 0;
}

enum { CASE_UPPER, CASE_LOWER, CASE_CAPITALIZE };

/*
 * Case mapping beyond ASCII, for the two-byte ranges where upper and lower
 * case are a fixed distance apart and keep their UTF-8 length: Latin-1
 * (à-þ), Greek (α-ω) and Cyrillic (а-я, ѐ-џ). Anything else is left alone.
 */
static void
case_2byte(char *s, bool up)
{
	unsigned cp = ((unsigned)(s[0] & 0x1F) << 6) | (unsigned)(s[1] & 0x3F);
	unsigned out = cp;

	if (up) {
		if ((cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) ||
		    (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2) ||
		    (cp >= 0x430 && cp <= 0x44F))
			out = cp - 0x20;
		else if (cp >= 0x450 && cp <= 0x45F)
			out = cp - 0x50;
	} else {
		if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) ||
		    (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) ||
		    (cp >= 0x410 && cp <= 0x42F))
			out = cp + 0x20;
		else if (cp >= 0x400 && cp <= 0x40F)
			out = cp + 0x50;
	}
	s[0] = (char)(0xC0 | (out >> 6));
	s[1] = (char)(0x80 | (out & 0x3F));
}

static int
do_case(struct rstate *rs, const struct node *n, struct val *in,
    struct val *res, int how)
{
	struct buf b, tmp;
	const char *p;
	size_t len, i;
	int rc = -1;

	buf_init(&b, rs->max);
	buf_init(&tmp, rs->max);
	if (in->kind == V_UNDEF) {
		val_init(res, V_STR);
		res->u.s.p = "";
		res->u.s.n = 0;
		rc = 0;
		goto out;
	}
	if (tmpl_str(rs, n, in, &tmp, &p, &len) < 0 || tmpl_put(rs, n, &b, p, len) < 0)
		goto out;
	for (i = 0; i < b.len; ) {
		unsigned char c = (unsigned char)b.data[i];
		bool up = how == CASE_UPPER || (how == CASE_CAPITALIZE && i == 0);
		size_t sl = utf8_seqlen(b.data + i, b.len - i);

		if (c < 0x80)
			b.data[i] = (char)(up ? toupper(c) : tolower(c));
		else if (sl == 2)
			case_2byte(b.data + i, up);
		i += sl;
	}
	rc = finish(res, &b);
out:
	buf_free(&b);
	buf_free(&tmp);
	return rc;
}

static int
f_upper(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	(void)args;
	(void)given;
	return do_case(rs, n, in, res, CASE_UPPER);
}

static int
f_lower(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	(void)args;
	(void)given;
	return do_case(rs, n, in, res, CASE_LOWER);
}

static int
f_capitalize(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	(void)args;
	(void)given;
	return do_case(rs, n, in, res, CASE_CAPITALIZE);
}

/* The string form of in as a value: borrowed when in is a string (taking
 * over its ownership), else printed into a new string. */
static int
to_string(struct rstate *rs, const struct node *n, struct val *in,
    struct val *res)
{
	struct buf b;

	if (in->kind == V_STR) {
		val_move(res, in);
		return 0;
	}
	buf_init(&b, rs->max);
	if (val_write(&b, in) < 0) {
		buf_free(&b);
		return tmpl_rerr(rs, n, "value too large (over %zu bytes)", rs->max);
	}
	if (tmpl_work(rs, n, b.len) < 0) {
		buf_free(&b);
		return -1;
	}
	return finish(res, &b);
}

/* Does the code point at s[0..sl) occur in chars? */
static bool
in_set(const char *s, size_t sl, const struct val *chars)
{
	if (chars == NULL)
		return sl == 1 && is_ws(s[0]);
	return chars->u.s.n >= sl && memmem(chars->u.s.p, chars->u.s.n, s, sl) != NULL;
}

static int
f_trim(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	const struct val *chars = NULL;
	size_t start = 0, end;
	const char *p;

	if (GIVEN(0) && args[0].kind != V_NULL && args[0].kind != V_UNDEF) {
		if (args[0].kind != V_STR)
			return tmpl_rerr(rs, n, "trim(): chars must be a string, not %s",
			    val_type_a(&args[0]));
		chars = &args[0];
	}
	if (to_string(rs, n, in, res) < 0)
		return -1;
	p = res->u.s.p;
	end = res->u.s.n;
	while (start < end) {
		size_t sl = utf8_seqlen(p + start, end - start);

		if (!in_set(p + start, sl, chars))
			break;
		start += sl;
	}
	while (end > start) {
		size_t b = end - 1, sl;

		while (b > start && end - b < 4 && ((unsigned char)p[b] & 0xC0) == 0x80)
			b--;
		sl = utf8_seqlen(p + b, end - b);
		if (b + sl != end) {    /* invalid tail byte: a unit of its own */
			b = end - 1;
			sl = 1;
		}
		if (!in_set(p + b, sl, chars))
			break;
		end = b;
	}
	res->u.s.p = p + start;
	res->u.s.n = end - start;
	return 0;
}

/*
 * truncate(length=255, killwords=false, end="...", leeway=0), as Jinja's but
 * with no leeway by default: a string of at most length code points is left
 * alone; a longer one is cut to length - len(end) code points, then back to
 * the last space (unless killwords), and end is appended.
 */
static int
f_truncate(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	json_int_t length = 255, leeway = 0;
	const char *endp = "...", *p;
	size_t endn = 3, endcp = 3, cps, cut, i;
	bool killwords = GIVEN(1) && val_truthy(&args[1]);
	struct val s;
	struct buf b;

	if (GIVEN(0) && need_int(rs, n, &args[0], "truncate(): length", &length) < 0)
		return -1;
	if (GIVEN(2)) {
		if (args[2].kind != V_STR)
			return tmpl_rerr(rs, n, "truncate(): end must be a string, not "
			    "%s", val_type_a(&args[2]));
		endp = args[2].u.s.p;
		endn = args[2].u.s.n;
		endcp = utf8_cps(endp, endn);
	}
	if (GIVEN(3) && need_int(rs, n, &args[3], "truncate(): leeway", &leeway) < 0)
		return -1;
	if (length < (json_int_t)endcp)
		return tmpl_rerr(rs, n, "truncate(): length must be at least %zu "
		    "(the length of the end string)", endcp);
	if (leeway < 0)
		return tmpl_rerr(rs, n, "truncate(): leeway must not be negative");
	if (in->kind == V_UNDEF) {
		val_init(res, V_STR);
		res->u.s.p = "";
		res->u.s.n = 0;
		return 0;
	}
	if (to_string(rs, n, in, &s) < 0)
		return -1;
	cps = utf8_cps(s.u.s.p, s.u.s.n);
	if ((json_int_t)cps <= length || (json_int_t)cps - length <= leeway) {
		val_move(res, &s);
		return 0;
	}
	p = s.u.s.p;
	cut = utf8_offset(p, s.u.s.n, (size_t)length - endcp);
	if (!killwords) {
		for (i = cut; i > 0; i--)
			if (p[i - 1] == ' ')
				break;
		if (i > 0)
			cut = i - 1;
	}
	buf_init(&b, rs->max);
	if (tmpl_put(rs, n, &b, p, cut) < 0 || tmpl_put(rs, n, &b, endp, endn) < 0) {
		buf_free(&b);
		val_free(&s);
		return -1;
	}
	val_free(&s);
	return finish(res, &b);
}

static int
f_length(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	(void)args;
	(void)given;
	val_init(res, V_INT);
	switch (in->kind) {
	case V_UNDEF:
		res->u.i = 0;
		return 0;
	case V_STR:
		res->u.i = (json_int_t)utf8_cps(in->u.s.p, in->u.s.n);
		return 0;
	case V_JSON:
		res->u.i = (json_int_t)(json_is_array(in->u.j) ?
		    json_array_size(in->u.j) : json_object_size(in->u.j));
		return 0;
	default:
		return tmpl_rerr(rs, n, "length(): %s has no length",
		    val_type_a(in));
	}
}

/* Appends v (with .attribute picked when attr is given) to b, after sep. */
static int
join_one(struct rstate *rs, const struct node *n, struct buf *b,
    struct buf *tmp, struct val *v, const struct val *attr)
{
	const char *p;
	size_t len;

	if (attr) {
		struct val item;

		if (attr->kind == V_STR) {
			struct val c = *v;

			c.ref = NULL;
			c.heap = NULL;
			val_init(&item, V_UNDEF);
			/* get_key semantics: objects only */
			if (c.kind == V_JSON && json_is_object(c.u.j)) {
				json_t *j = json_object_getn(c.u.j, attr->u.s.p,
				    attr->u.s.n);

				if (j)
					val_from_json(&item, j);
			}
		} else {
			json_int_t i = attr->u.i;

			val_init(&item, V_UNDEF);
			if (v->kind == V_JSON && json_is_array(v->u.j)) {
				json_int_t sz = (json_int_t)json_array_size(v->u.j);

				if (i < 0)
					i += sz;
				if (i >= 0 && i < sz)
					val_from_json(&item, json_array_get(v->u.j, (size_t)i));
			}
		}
		if (tmpl_str(rs, n, &item, tmp, &p, &len) < 0)
			return -1;
		return tmpl_put(rs, n, b, p, len);
	}
	if (tmpl_str(rs, n, v, tmp, &p, &len) < 0)
		return -1;
	return tmpl_put(rs, n, b, p, len);
}

static int
f_join(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	const char *sep = "";
	size_t sepn = 0, i, len, off;
	const struct val *attr = NULL;
	struct buf b, tmp;
	struct val item;
	int rc = -1;

	if (GIVEN(0)) {
		if (args[0].kind != V_STR)
			return tmpl_rerr(rs, n, "join(): the separator must be a string, "
			    "not %s", val_type_a(&args[0]));
		sep = args[0].u.s.p;
		sepn = args[0].u.s.n;
	}
	if (GIVEN(1) && args[1].kind != V_NULL && args[1].kind != V_UNDEF) {
		if (args[1].kind != V_STR && args[1].kind != V_INT)
			return tmpl_rerr(rs, n, "join(): attribute must be a string or "
			    "an integer");
		attr = &args[1];
	}
	buf_init(&b, rs->max);
	buf_init(&tmp, rs->max);
	switch (in->kind) {
	case V_UNDEF:
		break;
	case V_STR:
		for (off = 0; off < in->u.s.n; ) {
			size_t sl = utf8_seqlen(in->u.s.p + off, in->u.s.n - off);

			if ((off && tmpl_put(rs, n, &b, sep, sepn) < 0) ||
			    tmpl_put(rs, n, &b, in->u.s.p + off, sl) < 0)
				goto out;
			off += sl;
		}
		break;
	case V_JSON:
		if (json_is_array(in->u.j)) {
			len = json_array_size(in->u.j);
			for (i = 0; i < len; i++) {
				val_from_json(&item, json_array_get(in->u.j, i));
				if ((i && tmpl_put(rs, n, &b, sep, sepn) < 0) ||
				    join_one(rs, n, &b, &tmp, &item, attr) < 0)
					goto out;
			}
		} else {
			void *it;

			i = 0;
			for (it = json_object_iter(in->u.j); it;
			    it = json_object_iter_next(in->u.j, it), i++) {
				if ((i && tmpl_put(rs, n, &b, sep, sepn) < 0) ||
				    tmpl_put(rs, n, &b, json_object_iter_key(it),
				    json_object_iter_key_len(it)) < 0)
					goto out;
			}
		}
		break;
	default:
		tmpl_rerr(rs, n, "join(): cannot iterate over %s", val_type_a(in));
		goto out;
	}
	rc = finish(res, &b);
out:
	buf_free(&b);
	buf_free(&tmp);
	return rc;
}

static int
f_tojson(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	json_int_t indent = -1;
	struct buf b;

	if (GIVEN(0) && args[0].kind != V_NULL && args[0].kind != V_UNDEF) {
		if (need_int(rs, n, &args[0], "tojson(): indent", &indent) < 0)
			return -1;
		if (indent < 0 || indent > 64)
			return tmpl_rerr(rs, n, "tojson(): indent must be 0..64");
	}
	buf_init(&b, rs->max);
	if (val_write_json(&b, in, (int)indent) < 0) {
		buf_free(&b);
		return tmpl_rerr(rs, n, "value too large (over %zu bytes)", rs->max);
	}
	if (tmpl_work(rs, n, b.len) < 0) {
		buf_free(&b);
		return -1;
	}
	return finish(res, &b);
}

/* Length of the line break at s[0], or 0. */
static size_t
line_break(const char *s, size_t n)
{
	if (s[0] == '\n')
		return 1;
	if (s[0] == '\r')
		return n > 1 && s[1] == '\n' ? 2 : 1;
	return 0;
}

/*
 * indent(width=4, first=false, blank=false), as Jinja's: every line but the
 * first is prefixed (blank lines only with blank=true); line breaks (\n,
 * \r\n, \r) become \n and a trailing line break is dropped... except that
 * Jinja keeps it, which we mirror by splitting like str.splitlines() on
 * s + "\n".
 */
static int
f_indent(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	const char *pre = "    ", *p;
	size_t pren = 4, len, off = 0, nl = 0;
	char spaces[256];
	bool first = GIVEN(1) && val_truthy(&args[1]);
	bool blank = GIVEN(2) && val_truthy(&args[2]);
	struct val s;
	struct buf b;
	int rc = -1;

	if (GIVEN(0)) {
		if (args[0].kind == V_STR) {
			pre = args[0].u.s.p;
			pren = args[0].u.s.n;
		} else {
			json_int_t w = 0;

			if (need_int(rs, n, &args[0], "indent(): width", &w) < 0)
				return -1;
			if (w < 0 || w > (json_int_t)sizeof spaces)
				return tmpl_rerr(rs, n, "indent(): width must be 0..%zu",
				    sizeof spaces);
			memset(spaces, ' ', (size_t)w);
			pre = spaces;
			pren = (size_t)w;
		}
	}
	if (in->kind == V_UNDEF) {
		val_init(&s, V_STR);
		s.u.s.p = "";
		s.u.s.n = 0;
	} else if (to_string(rs, n, in, &s) < 0) {
		return -1;
	}
	p = s.u.s.p;
	len = s.u.s.n;
	buf_init(&b, rs->max);
	if (first && tmpl_put(rs, n, &b, pre, pren) < 0)
		goto out;
	/* lines of s + "\n": each line is s[off, off + k) followed by a break */
	while (off < len) {
		size_t k = 0, br = 0;

		while (off + k < len && (br = line_break(p + off + k, len - off - k)) == 0)
			k++;
		if (nl) {
			if (tmpl_put(rs, n, &b, "\n", 1) < 0)
				goto out;
			if ((k > 0 || blank) && tmpl_put(rs, n, &b, pre, pren) < 0)
				goto out;
		}
		if (tmpl_put(rs, n, &b, p + off, k) < 0)
			goto out;
		nl++;
		off += k + br;
		if (off == len && br) {
			/* the string ended with a break: an empty last line */
			if (tmpl_put(rs, n, &b, "\n", 1) < 0)
				goto out;
			if (blank && tmpl_put(rs, n, &b, pre, pren) < 0)
				goto out;
		}
	}
	rc = finish(res, &b);
out:
	buf_free(&b);
	val_free(&s);
	return rc;
}

static int
f_string(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	(void)args;
	(void)given;
	return to_string(rs, n, in, res);
}

/* Parses a whole string (after trimming) as a number; 0 or -1. */
static int
parse_num(const struct val *v, int base, bool want_int, json_int_t *i, double *d)
{
	char tmp[128], *end;
	const char *p = v->u.s.p;
	size_t n = v->u.s.n, k;

	while (n && is_ws(*p)) {
		p++;
		n--;
	}
	while (n && is_ws(p[n - 1]))
		n--;
	if (n == 0 || n >= sizeof tmp)
		return -1;
	for (k = 0; k < n; k++)
		if (p[k] == '\0')
			return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (want_int) {
		errno = 0;
		*i = (json_int_t)strtoll(tmp, &end, base);
		if (*end == '\0' && errno == 0 && !(tmp[0] == '0' && n > 1 &&
		    base == 10 && tmp[1] != '\0' && (tmp[1] == 'x' || tmp[1] == 'X')))
			return 0;
	}
	/* decimal floats only: no hex floats */
	for (k = 0; k < n; k++)
		if (tmp[k] == 'x' || tmp[k] == 'X' || tmp[k] == 'p' || tmp[k] == 'P')
			return -1;
	errno = 0;
	*d = strtod(tmp, &end);
	if (*end != '\0')
		return -1;
	return 1;
}

static int
f_int(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	json_int_t base = 10, i = 0;
	double d = 0;
	int r;

	if (GIVEN(1) && need_int(rs, n, &args[1], "int(): base", &base) < 0)
		return -1;
	if (base != 0 && (base < 2 || base > 36))
		return tmpl_rerr(rs, n, "int(): base must be 0 or 2..36");
	val_init(res, V_INT);
	switch (in->kind) {
	case V_INT:
		res->u.i = in->u.i;
		return 0;
	case V_BOOL:
		res->u.i = in->u.b;
		return 0;
	case V_REAL:
		d = in->u.d;
		goto real;
	case V_STR:
		r = parse_num(in, (int)base, true, &i, &d);
		if (r == 0) {
			res->u.i = i;
			return 0;
		}
		if (r == 1)
			goto real;
		break;
	default:
		break;
	}
	goto dflt;
real:
	if (isfinite(d) && d > -9.2e18 && d < 9.2e18) {
		res->u.i = (json_int_t)d;
		return 0;
	}
dflt:
	if (GIVEN(0))
		val_move(res, &args[0]);
	else
		res->u.i = 0;
	return 0;
}

static int
f_float(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	json_int_t i;
	double d;

	(void)rs;
	(void)n;
	val_init(res, V_REAL);
	if (val_is_number(in)) {
		res->u.d = val_num(in);
		return 0;
	}
	if (in->kind == V_STR && parse_num(in, 10, false, &i, &d) == 1) {
		res->u.d = d;
		return 0;
	}
	if (GIVEN(0))
		val_move(res, &args[0]);
	else
		res->u.d = 0.0;
	return 0;
}

static int
first_last(struct rstate *rs, const struct node *n, struct val *in,
    struct val *res, bool last)
{
	val_init(res, V_UNDEF);
	switch (in->kind) {
	case V_UNDEF:
		return 0;
	case V_STR:
		if (in->u.s.n == 0)
			return 0;
		val_init(res, V_STR);
		if (last) {
			size_t b = in->u.s.n - 1;

			while (b > 0 && in->u.s.n - b < 4 &&
			    ((unsigned char)in->u.s.p[b] & 0xC0) == 0x80)
				b--;
			if (b + utf8_seqlen(in->u.s.p + b, in->u.s.n - b) != in->u.s.n)
				b = in->u.s.n - 1;
			res->u.s.p = in->u.s.p + b;
			res->u.s.n = in->u.s.n - b;
		} else {
			res->u.s.p = in->u.s.p;
			res->u.s.n = utf8_seqlen(in->u.s.p, in->u.s.n);
		}
		val_take(res, in);
		return 0;
	case V_JSON:
		if (json_is_array(in->u.j)) {
			size_t len = json_array_size(in->u.j);

			if (len == 0)
				return 0;
			val_from_json(res, json_array_get(in->u.j, last ? len - 1 : 0));
		} else {
			void *it = json_object_iter(in->u.j), *next;

			if (it == NULL)
				return 0;
			while (last && (next = json_object_iter_next(in->u.j, it)) != NULL)
				it = next;
			val_init(res, V_STR);
			res->u.s.p = json_object_iter_key(it);
			res->u.s.n = json_object_iter_key_len(it);
		}
		val_take(res, in);
		return 0;
	default:
		return tmpl_rerr(rs, n, "%s(): cannot take an item of %s",
		    last ? "last" : "first", val_type_a(in));
	}
}

static int
f_first(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	(void)args;
	(void)given;
	return first_last(rs, n, in, res, false);
}

static int
f_last(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	(void)args;
	(void)given;
	return first_last(rs, n, in, res, true);
}

/* replace(old, new, count=none), as Python's str.replace. */
static int
f_replace(struct rstate *rs, const struct node *n, struct val *in,
    struct val *args, unsigned given, struct val *res)
{
	json_int_t count = -1;
	struct buf b, t1, t2;
	const char *p, *old, *nw;
	size_t len, oldn, nwn, off = 0;
	struct val s;
	int rc = -1;

	if (GIVEN(2) && args[2].kind != V_NULL &&
	    need_int(rs, n, &args[2], "replace(): count", &count) < 0)
		return -1;
	if (in->kind == V_UNDEF) {
		val_init(&s, V_STR);
		s.u.s.p = "";
		s.u.s.n = 0;
	} else if (to_string(rs, n, in, &s) < 0) {
		return -1;
	}
	p = s.u.s.p;
	len = s.u.s.n;
	buf_init(&b, rs->max);
	buf_init(&t1, rs->max);
	buf_init(&t2, rs->max);
	if (tmpl_str(rs, n, &args[0], &t1, &old, &oldn) < 0 ||
	    tmpl_str(rs, n, &args[1], &t2, &nw, &nwn) < 0)
		goto out;
	if (oldn == 0) {
		/* new before each code point and at the end */
		for (;;) {
			size_t sl = off < len ? utf8_seqlen(p + off, len - off) : 0;

			if (count == 0)
				break;
			if (tmpl_put(rs, n, &b, nw, nwn) < 0)
				goto out;
			if (count > 0)
				count--;
			if (sl == 0) {
				off = len;
				break;
			}
			if (tmpl_put(rs, n, &b, p + off, sl) < 0)
				goto out;
			off += sl;
		}
	} else {
		while (count != 0) {
			const char *hit = len - off >= oldn ?
			    memmem(p + off, len - off, old, oldn) : NULL;

			if (hit == NULL)
				break;
			if (tmpl_put(rs, n, &b, p + off, (size_t)(hit - (p + off))) < 0 ||
			    tmpl_put(rs, n, &b, nw, nwn) < 0)
				goto out;
			off = (size_t)(hit - p) + oldn;
			if (count > 0)
				count--;
		}
	}
	if (tmpl_put(rs, n, &b, p + off, len - off) < 0)
		goto out;
	rc = finish(res, &b);
out:
	buf_free(&b);
	buf_free(&t1);
	buf_free(&t2);
	val_free(&s);
	return rc;
}

static const struct filter_def filters[] = {
	{ "default", { "default_value", "boolean" }, 2, 0, f_default },
	{ "d", { "default_value", "boolean" }, 2, 0, f_default },
	{ "upper", { 0 }, 0, 0, f_upper },
	{ "lower", { 0 }, 0, 0, f_lower },
	{ "capitalize", { 0 }, 0, 0, f_capitalize },
	{ "trim", { "chars" }, 1, 0, f_trim },
	{ "truncate", { "length", "killwords", "end", "leeway" }, 4, 0, f_truncate },
	{ "length", { 0 }, 0, 0, f_length },
	{ "count", { 0 }, 0, 0, f_length },
	{ "join", { "d", "attribute" }, 2, 0, f_join },
	{ "tojson", { "indent" }, 1, 0, f_tojson },
	{ "indent", { "width", "first", "blank" }, 3, 0, f_indent },
	{ "string", { 0 }, 0, 0, f_string },
	{ "int", { "default", "base" }, 2, 0, f_int },
	{ "float", { "default" }, 1, 0, f_float },
	{ "first", { 0 }, 0, 0, f_first },
	{ "last", { 0 }, 0, 0, f_last },
	{ "replace", { "old", "new", "count" }, 3, 2, f_replace },
};

int
tmpl_filter_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ACK_ARRAY_LEN(filters); i++)
		if (strlen(filters[i].name) == len && memcmp(filters[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

const struct filter_def *
tmpl_filter_get(int id)
{
	return &filters[id];
}

/* ---- tests ---- */

enum {
	T_DEFINED, T_UNDEFINED, T_NONE, T_BOOLEAN, T_TRUE, T_FALSE, T_INTEGER,
	T_FLOAT, T_NUMBER, T_STRING, T_MAPPING, T_ITERABLE, T_SEQUENCE, T_EVEN,
	T_ODD,
};

static const char *const tests[] = {
	[T_DEFINED] = "defined", [T_UNDEFINED] = "undefined", [T_NONE] = "none",
	[T_BOOLEAN] = "boolean", [T_TRUE] = "true", [T_FALSE] = "false",
	[T_INTEGER] = "integer", [T_FLOAT] = "float", [T_NUMBER] = "number",
	[T_STRING] = "string", [T_MAPPING] = "mapping", [T_ITERABLE] = "iterable",
	[T_SEQUENCE] = "sequence", [T_EVEN] = "even", [T_ODD] = "odd",
};

int
tmpl_test_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ACK_ARRAY_LEN(tests); i++)
		if (strlen(tests[i]) == len && memcmp(tests[i], name, len) == 0)
			return (int)i;
	return -1;
}

int
tmpl_test_apply(struct rstate *rs, const struct node *n, int id,
    const struct val *v, bool *res)
{
	switch (id) {
	case T_DEFINED: *res = v->kind != V_UNDEF; return 0;
	case T_UNDEFINED: *res = v->kind == V_UNDEF; return 0;
	case T_NONE: *res = v->kind == V_NULL; return 0;
	case T_BOOLEAN: *res = v->kind == V_BOOL; return 0;
	case T_TRUE: *res = v->kind == V_BOOL && v->u.b; return 0;
	case T_FALSE: *res = v->kind == V_BOOL && !v->u.b; return 0;
	case T_INTEGER: *res = v->kind == V_INT; return 0;
	case T_FLOAT: *res = v->kind == V_REAL; return 0;
	case T_NUMBER: *res = val_is_number(v); return 0;
	case T_STRING: *res = v->kind == V_STR; return 0;
	case T_MAPPING: *res = v->kind == V_JSON && json_is_object(v->u.j); return 0;
	case T_ITERABLE:
	case T_SEQUENCE:
		*res = v->kind == V_STR || v->kind == V_JSON || v->kind == V_UNDEF;
		return 0;
	case T_EVEN:
	case T_ODD:
		*res = false;
		if (v->kind == V_INT || v->kind == V_BOOL) {
			json_int_t i = v->kind == V_INT ? v->u.i : v->u.b;

			*res = (i % 2 == 0) == (id == T_EVEN);
			return 0;
		}
		if (v->kind == V_REAL) {
			double m = fmod(v->u.d, 2.0);

			if (m < 0)
				m += 2.0;       /* Python's sign */
			*res = id == T_EVEN ? m == 0.0 : m == 1.0;
			return 0;
		}
		return tmpl_rerr(rs, n, "test \"%s\" needs a number, not %s",
		    tests[id], val_type_a(v));
	}
	*res = false;
	return 0;
}
