/*
 * template_value.c - the values of the template engine: ownership, Jinja
 * truthiness and equality, and how values print (Python's str() for
 * scalars, JSON for lists and objects).
 */
#include "template_int.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
val_free(struct val *v)
{
	free(v->heap);
	if (v->ref)
		json_decref(v->ref);
	v->heap = NULL;
	v->ref = NULL;
	v->kind = V_UNDEF;
}

void
val_from_json(struct val *v, json_t *j)
{
	val_init(v, V_UNDEF);
	switch (json_typeof(j)) {
	case JSON_STRING:
		v->kind = V_STR;
		v->u.s.p = json_string_value(j);
		v->u.s.n = json_string_length(j);
		break;
	case JSON_INTEGER:
		v->kind = V_INT;
		v->u.i = json_integer_value(j);
		break;
	case JSON_REAL:
		v->kind = V_REAL;
		v->u.d = json_real_value(j);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		v->kind = V_BOOL;
		v->u.b = json_is_true(j);
		break;
	case JSON_NULL:
		v->kind = V_NULL;
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		v->kind = V_JSON;
		v->u.j = j;
		break;
	}
}

void
val_take(struct val *v, struct val *from)
{
	v->ref = from->ref;
	v->heap = from->heap;
	from->ref = NULL;
	from->heap = NULL;
}

void
val_set_buf(struct val *v, struct buf *b)
{
	size_t n = b->len;

	val_init(v, V_STR);
	v->heap = buf_steal(b);
	v->u.s.p = v->heap;
	v->u.s.n = n;
}

bool
val_truthy(const struct val *v)
{
	switch (v->kind) {
	case V_UNDEF:
	case V_NULL:
		return false;
	case V_BOOL:
		return v->u.b;
	case V_INT:
		return v->u.i != 0;
	case V_REAL:
		return v->u.d != 0.0;
	case V_STR:
		return v->u.s.n != 0;
	case V_JSON:
		return json_is_array(v->u.j) ? json_array_size(v->u.j) != 0 :
		    json_object_size(v->u.j) != 0;
	case V_LOOP:
		return true;
	}
	return false;
}

bool
val_is_number(const struct val *v)
{
	return v->kind == V_INT || v->kind == V_REAL || v->kind == V_BOOL;
}

double
val_num(const struct val *v)
{
	switch (v->kind) {
	case V_INT:
		return (double)v->u.i;
	case V_REAL:
		return v->u.d;
	case V_BOOL:
		return v->u.b ? 1.0 : 0.0;
	default:
		return 0.0;
	}
}

bool
val_equal(const struct val *a, const struct val *b)
{
	if (val_is_number(a) && val_is_number(b)) {
		if (a->kind != V_REAL && b->kind != V_REAL) {
			json_int_t x = a->kind == V_BOOL ? a->u.b : a->u.i;
			json_int_t y = b->kind == V_BOOL ? b->u.b : b->u.i;

			return x == y;
		}
		return val_num(a) == val_num(b);
	}
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case V_UNDEF:
	case V_NULL:
		return true;
	case V_STR:
		return a->u.s.n == b->u.s.n &&
		    (a->u.s.n == 0 || memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0);
	case V_JSON:
		return json_equal(a->u.j, b->u.j) != 0;
	case V_LOOP:
		return a->u.loop == b->u.loop;
	default:
		return false;
	}
}

const char *
val_type_name(const struct val *v)
{
	switch (v->kind) {
	case V_UNDEF: return "undefined";
	case V_NULL: return "none";
	case V_BOOL: return "bool";
	case V_INT: return "int";
	case V_REAL: return "float";
	case V_STR: return "string";
	case V_JSON: return json_is_array(v->u.j) ? "list" : "object";
	case V_LOOP: return "loop";
	}
	return "?";
}

/* The type with an article, for messages: "an int", "a string". */
const char *
val_type_a(const struct val *v)
{
	switch (v->kind) {
	case V_UNDEF: return "an undefined value";
	case V_NULL: return "none";
	case V_BOOL: return "a bool";
	case V_INT: return "an int";
	case V_REAL: return "a float";
	case V_STR: return "a string";
	case V_JSON: return json_is_array(v->u.j) ? "a list" : "an object";
	case V_LOOP: return "a loop";
	}
	return "?";
}

size_t
fmt_int(char *out, json_int_t i)
{
	char tmp[24];
	size_t n = 0, k = 0;
	unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i :
	    (unsigned long long)i;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (i < 0)
		out[k++] = '-';
	while (n)
		out[k++] = tmp[--n];
	out[k] = '\0';
	return k;
}

/*
 * Python's repr(float): the shortest digits that read back as d, in fixed
 * notation when the decimal exponent is in [-4, 16), else as d.ddde+XX;
 * always with a fractional part in fixed notation ("2.0").
 */
void
fmt_real(char *out, size_t outlen, double d)
{
	char tmp[40], digits[24], o[64];
	int prec, exp10, nd = 0, decpt, i;
	size_t m = 0;
	char *p, *e;

	if (isnan(d)) {
		snprintf(out, outlen, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(out, outlen, "%s", d < 0 ? "-inf" : "inf");
		return;
	}
	if (d == 0.0) {
		snprintf(out, outlen, "%s", signbit(d) ? "-0.0" : "0.0");
		return;
	}
	/* for normal numbers, 15 significant digits always read back when any
	 * shorter form does (then with trailing zeros); subnormals have fewer */
	for (prec = fabs(d) < DBL_MIN ? 1 : 15; prec < 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
	/* tmp is [-]d.ddde[+-]XX */
	p = tmp[0] == '-' ? tmp + 1 : tmp;
	e = strchr(p, 'e');
	exp10 = atoi(e + 1);
	for (; p < e; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	decpt = exp10 + 1;
	if (d < 0)
		o[m++] = '-';
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			o[m++] = '0';
			o[m++] = '.';
			for (i = decpt; i < 0; i++)
				o[m++] = '0';
			for (i = 0; i < nd; i++)
				o[m++] = digits[i];
		} else {
			for (i = 0; i < decpt; i++)
				o[m++] = i < nd ? digits[i] : '0';
			o[m++] = '.';
			if (nd > decpt)
				for (i = decpt; i < nd; i++)
					o[m++] = digits[i];
			else
				o[m++] = '0';
		}
		o[m] = '\0';
	} else {
		o[m++] = digits[0];
		if (nd > 1) {
			o[m++] = '.';
			for (i = 1; i < nd; i++)
				o[m++] = digits[i];
		}
		snprintf(o + m, sizeof o - m, "e%c%02d", exp10 < 0 ? '-' : '+',
		    exp10 < 0 ? -exp10 : exp10);
	}
	snprintf(out, outlen, "%s", o);
}

int
val_write(struct buf *b, const struct val *v)
{
	char tmp[64];
	size_t n;

	switch (v->kind) {
	case V_UNDEF:
		return 0;
	case V_NULL:
		return buf_append(b, "None", 4);
	case V_BOOL:
		return v->u.b ? buf_append(b, "True", 4) : buf_append(b, "False", 5);
	case V_INT:
		n = fmt_int(tmp, v->u.i);
		return buf_append(b, tmp, n);
	case V_REAL:
		fmt_real(tmp, sizeof tmp, v->u.d);
		return buf_append(b, tmp, strlen(tmp));
	case V_STR:
		return buf_append(b, v->u.s.p, v->u.s.n);
	case V_JSON:
		return json_write(b, v->u.j, -1, 0);
	case V_LOOP:
		snprintf(tmp, sizeof tmp, "<LoopContext %zu/%zu>",
		    v->u.loop->index + 1, v->u.loop->length);
		return buf_append(b, tmp, strlen(tmp));
	}
	return 0;
}

static int
json_write_string(struct buf *b, const char *s, size_t n)
{
	size_t i, run = 0;

	if (buf_putc(b, '"') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		const char *e = NULL;

		if (c == '"')
			e = "\\\"";
		else if (c == '\\')
			e = "\\\\";
		else if (c == '\n')
			e = "\\n";
		else if (c == '\r')
			e = "\\r";
		else if (c == '\t')
			e = "\\t";
		else if (c == '\b')
			e = "\\b";
		else if (c == '\f')
			e = "\\f";
		else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			e = esc;
		}
		if (e == NULL)
			continue;
		if (buf_append(b, s + run, i - run) < 0 || buf_puts(b, e) < 0)
			return -1;
		run = i + 1;
	}
	if (buf_append(b, s + run, n - run) < 0)
		return -1;
	return buf_putc(b, '"');
}

static int
json_write_real(struct buf *b, double d)
{
	char tmp[40];

	if (isnan(d))
		return buf_puts(b, "NaN");
	if (isinf(d))
		return buf_puts(b, d < 0 ? "-Infinity" : "Infinity");
	fmt_real(tmp, sizeof tmp, d);
	return buf_puts(b, tmp);
}

static int
json_newline(struct buf *b, int indent, int level)
{
	int i;

	if (indent < 0)
		return 0;
	if (buf_putc(b, '\n') < 0)
		return -1;
	for (i = 0; i < indent * level; i++)
		if (buf_putc(b, ' ') < 0)
			return -1;
	return 0;
}

/* Writes j as JSON: compact when indent < 0, else like Python's
 * json.dumps(indent=n). Keys keep their insertion order. */
int
json_write(struct buf *b, const json_t *j, int indent, int level)
{
	char tmp[24];
	size_t i, n;

	switch (json_typeof(j)) {
	case JSON_NULL:
		return buf_puts(b, "null");
	case JSON_TRUE:
		return buf_puts(b, "true");
	case JSON_FALSE:
		return buf_puts(b, "false");
	case JSON_INTEGER:
		n = fmt_int(tmp, json_integer_value(j));
		return buf_append(b, tmp, n);
	case JSON_REAL:
		return json_write_real(b, json_real_value(j));
	case JSON_STRING:
		return json_write_string(b, json_string_value(j), json_string_length(j));
	case JSON_ARRAY:
		n = json_array_size(j);
		if (buf_putc(b, '[') < 0)
			return -1;
		for (i = 0; i < n; i++) {
			if (i && buf_putc(b, ',') < 0)
				return -1;
			if (json_newline(b, indent, level + 1) < 0 ||
			    json_write(b, json_array_get(j, i), indent, level + 1) < 0)
				return -1;
		}
		if (n && json_newline(b, indent, level) < 0)
			return -1;
		return buf_putc(b, ']');
	case JSON_OBJECT: {
		void *it = json_object_iter((json_t *)j);
		bool first = true;

		if (buf_putc(b, '{') < 0)
			return -1;
		for (; it; it = json_object_iter_next((json_t *)j, it)) {
			if (!first && buf_putc(b, ',') < 0)
				return -1;
			if (json_newline(b, indent, level + 1) < 0 ||
			    json_write_string(b, json_object_iter_key(it),
			    json_object_iter_key_len(it)) < 0 ||
			    buf_append(b, ": ", indent < 0 ? 1 : 2) < 0 ||
			    json_write(b, json_object_iter_value(it), indent, level + 1) < 0)
				return -1;
			first = false;
		}
		if (!first && json_newline(b, indent, level) < 0)
			return -1;
		return buf_putc(b, '}');
	}
	}
	return 0;
}

int
val_write_json(struct buf *b, const struct val *v, int indent)
{
	char tmp[24];
	size_t n;

	switch (v->kind) {
	case V_UNDEF:
	case V_NULL:
	case V_LOOP:
		return buf_puts(b, "null");
	case V_BOOL:
		return buf_puts(b, v->u.b ? "true" : "false");
	case V_INT:
		n = fmt_int(tmp, v->u.i);
		return buf_append(b, tmp, n);
	case V_REAL:
		return json_write_real(b, v->u.d);
	case V_STR:
		return json_write_string(b, v->u.s.p, v->u.s.n);
	case V_JSON:
		return json_write(b, v->u.j, indent, 0);
	}
	return 0;
}

json_t *
val_to_json(const struct val *v)
{
	switch (v->kind) {
	case V_BOOL:
		return json_boolean(v->u.b);
	case V_INT:
		return json_integer(v->u.i);
	case V_REAL:
		return isfinite(v->u.d) ? json_real(v->u.d) : json_null();
	case V_STR: {
		json_t *s = json_stringn_nocheck(v->u.s.p, v->u.s.n);

		return s ? s : json_null();
	}
	case V_JSON:
		return json_incref(v->u.j);
	default:
		return json_null();
	}
}

int
val_string(const struct val *v, struct buf *tmp, const char **p, size_t *n)
{
	if (v->kind == V_STR) {
		*p = v->u.s.p;
		*n = v->u.s.n;
		return 0;
	}
	buf_reset(tmp);
	if (val_write(tmp, v) < 0)
		return -1;
	*p = tmp->data ? tmp->data : "";
	*n = tmp->len;
	return 0;
}

size_t
utf8_seqlen(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	size_t len, k;

	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		len = 2;
	else if ((c & 0xF0) == 0xE0)
		len = 3;
	else if ((c & 0xF8) == 0xF0)
		len = 4;
	else
		return 1;
	if (len > n)
		return 1;
	for (k = 1; k < len; k++)
		if (((unsigned char)s[k] & 0xC0) != 0x80)
			return 1;
	return len;
}

size_t
utf8_offset(const char *s, size_t n, size_t k)
{
	size_t off = 0;

	while (k && off < n) {
		off += utf8_seqlen(s + off, n - off);
		k--;
	}
	return off;
}

size_t
utf8_cps(const char *s, size_t n)
{
	size_t off = 0, k = 0;

	while (off < n) {
		if ((unsigned char)s[off] < 0x80)
			off++;
		else
			off += utf8_seqlen(s + off, n - off);
		k++;
	}
	return k;
}
