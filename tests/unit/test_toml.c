/*
 * test_toml.c - unit tests for the TOML parser: positions, error messages,
 * lookups, integer range, dates and times, and the table rules. Conformance
 * as a whole is checked by shared/toml-test (the toml_test_suite test).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "bot/util.h"
#include "config/toml.h"

/* Parses s (strlen) and fails the test on a parse error. */
static struct toml_doc *
parse_ok(const char *s)
{
	struct toml_error err;
	struct toml_doc *doc = toml_parse(s, strlen(s), &err);

	if (doc == NULL)
		fail_msg("unexpected parse error %d:%d: %s", err.pos.line,
		    err.pos.col, err.msg);
	return doc;
}

/* Parses n bytes that must be rejected at line:col with message msg. */
static void
expect_error_n(const char *s, size_t n, int line, int col, const char *msg)
{
	struct toml_error err;
	struct toml_doc *doc = toml_parse(s, n, &err);

	if (doc != NULL) {
		toml_free(doc);
		fail_msg("document was accepted: %s", s);
	}
	if (err.pos.line != line || err.pos.col != col || strcmp(err.msg, msg) != 0)
		fail_msg("got %d:%d: %s\nwant %d:%d: %s", err.pos.line,
		    err.pos.col, err.msg, line, col, msg);
}

static void
expect_error(const char *s, int line, int col, const char *msg)
{
	expect_error_n(s, strlen(s), line, col, msg);
}

/* Rejected, whatever the message. */
static void
expect_invalid(const char *s)
{
	struct toml_error err;
	struct toml_doc *doc = toml_parse(s, strlen(s), &err);

	if (doc != NULL) {
		toml_free(doc);
		fail_msg("document was accepted: %s", s);
	}
}

static const struct toml_value *
get(const struct toml_table *t, const char *key)
{
	const struct toml_value *v = toml_table_get(t, key);

	if (v == NULL)
		fail_msg("key %s not found", key);
	return v;
}

static const struct toml_table *
get_table(const struct toml_table *t, const char *key)
{
	const struct toml_value *v = get(t, key);

	assert_int_equal(v->type, TOML_TABLE);
	return v->u.table;
}

static void
test_positions(void **state)
{
	const char *src =
	    "# comment\n"
	    "name = \"ackbot\"\n"
	    "\n"
	    "[server]\n"
	    "  port = 8080\n"
	    "\"\xC3\xA9\" = \"\xC3\xBC\"  # e-acute, u-umlaut: 1 column each\n"
	    "list = [ 1,\n"
	    "\t2 ]\n"
	    "s = \"\"\"\n"
	    "line\n"
	    "\"\"\"\n"
	    "after = { x = 1, y.z = true }\n";
	struct toml_doc *doc = parse_ok(src);
	const struct toml_table *root = toml_root(doc), *server, *after;
	const struct toml_keyval *kv;
	const struct toml_value *v;

	(void)state;
	kv = toml_table_find(root, "name", 4);
	assert_non_null(kv);
	assert_int_equal(kv->key_pos.line, 2);
	assert_int_equal(kv->key_pos.col, 1);
	assert_int_equal(kv->value.pos.line, 2);
	assert_int_equal(kv->value.pos.col, 8);

	kv = toml_table_find(root, "server", 6);
	assert_non_null(kv);
	server = kv->value.u.table;
	assert_int_equal(server->pos.line, 4);
	assert_int_equal(server->pos.col, 1);

	kv = toml_table_find(server, "port", 4);
	assert_non_null(kv);
	assert_int_equal(kv->key_pos.line, 5);
	assert_int_equal(kv->key_pos.col, 3);
	assert_int_equal(kv->value.pos.col, 10);
	assert_int_equal(kv->value.u.i, 8080);

	/* Columns count code points, not bytes. */
	kv = toml_table_find(server, "\xC3\xA9", 2);
	assert_non_null(kv);
	assert_int_equal(kv->key_pos.line, 6);
	assert_int_equal(kv->key_pos.col, 1);
	assert_int_equal(kv->value.pos.col, 7);

	v = get(server, "list");
	assert_int_equal(v->type, TOML_ARRAY);
	assert_int_equal(v->pos.line, 7);
	assert_int_equal(v->pos.col, 8);
	assert_int_equal(v->u.array->n, 2);
	assert_int_equal(v->u.array->items[0].pos.line, 7);
	assert_int_equal(v->u.array->items[0].pos.col, 10);
	assert_int_equal(v->u.array->items[1].pos.line, 8);
	assert_int_equal(v->u.array->items[1].pos.col, 2);

	v = get(server, "s");
	assert_int_equal(v->pos.line, 9);
	assert_string_equal(v->u.s.ptr, "line\n");

	/* Lines are still counted right after a multi-line string. */
	kv = toml_table_find(server, "after", 5);
	assert_non_null(kv);
	assert_int_equal(kv->key_pos.line, 12);
	assert_int_equal(kv->value.pos.col, 9);
	after = kv->value.u.table;
	assert_int_equal(after->pos.line, 12);
	assert_int_equal(after->pos.col, 9);
	kv = toml_table_find(after, "y", 1);
	assert_non_null(kv);
	assert_int_equal(kv->key_pos.col, 18);
	kv = toml_table_find(kv->value.u.table, "z", 1);
	assert_non_null(kv);
	assert_int_equal(kv->key_pos.col, 20);
	assert_int_equal(kv->value.pos.col, 24);
	toml_free(doc);
}

static void
test_positions_crlf_bom(void **state)
{
	const char *src = "\xEF\xBB\xBF" "a = 1\r\n\r\n  b = 'x'\r\n";
	struct toml_doc *doc = parse_ok(src);
	const struct toml_keyval *kv;

	(void)state;
	kv = toml_table_find(toml_root(doc), "a", 1);
	assert_non_null(kv);
	assert_int_equal(kv->key_pos.line, 1);
	assert_int_equal(kv->key_pos.col, 1);          /* the BOM is not a column */
	kv = toml_table_find(toml_root(doc), "b", 1);
	assert_non_null(kv);
	assert_int_equal(kv->key_pos.line, 3);
	assert_int_equal(kv->key_pos.col, 3);
	assert_int_equal(kv->value.pos.col, 7);
	toml_free(doc);
}

static void
test_error_messages(void **state)
{
	(void)state;
	expect_error("name \"x\"\n", 1, 6,
	    "expected '=' after key \"name\", found '\"'");
	expect_error("a.b\n", 1, 4, "expected '=' after key \"a.b\", found end of line");
	expect_error("a = 1\nport = 2\nport = 3\n", 3, 1,
	    "duplicate key \"port\" (first defined at line 2)");
	expect_error("a.b = 1\na . b = 2\n", 2, 5,
	    "duplicate key \"a.b\" (first defined at line 1)");
	expect_error("'x y' = 1\n\"x y\" = 2\n", 2, 1,
	    "duplicate key 'x y' (first defined at line 1)");
	expect_error("[server]\nport = 1\n\n[server]\n", 4, 1,
	    "table [server] defined twice (first at line 1)");
	expect_error("[a]\nb.c = 1\n[a.b]\n", 3, 1,
	    "table [a.b] defined twice (first by dotted keys at line 2)");
	expect_error("[a.b.c]\n[a]\nb.c.d = 1\n", 3, 3,
	    "cannot add keys to table \"b.c\" with dotted keys: it was defined "
	    "by a [table] header at line 1");
	expect_error("a = {x = 1}\na.y = 2\n", 2, 1,
	    "cannot add keys to inline table \"a\" (defined at line 1)");
	expect_error("a = {x = 1}\n[a]\n", 2, 1,
	    "table [a] defined twice (first as an inline table at line 1)");
	expect_error("a = [1]\n[[a]]\n", 2, 1,
	    "cannot append to array \"a\" with [[...]]: it is a static array (line 1)");
	expect_error("a = 1\n[a.b]\n", 2, 2,
	    "cannot use key \"a\" as a table: it is already an integer (line 1)");
	expect_error("[[t]]\n[t]\n", 2, 1,
	    "table [t] conflicts with the array of tables defined at line 1");
	expect_error("s = \"a\\qb\"\n", 1, 7, "invalid escape sequence '\\q'");
	expect_error("s = \"\\uD800\"\n", 1, 6,
	    "invalid escape \\uD800: not a Unicode scalar value");
	expect_error("s = \"\\u12\"\n", 1, 6, "invalid escape: \\u needs 4 hex digits");
	expect_error("s = \"abc\nt = 1\n", 1, 5,
	    "unterminated string: expected '\"' before end of line");
	expect_error("s = 'abc", 1, 5,
	    "unterminated string: expected \"'\" before end of input");
	expect_error("\n\ns = \"\"\"abc\n\n", 3, 5,
	    "unterminated multi-line string: expected '\"\"\"'");
	expect_error("a = [1, 2\n", 1, 5,
	    "unterminated array: expected ']' before end of input");
	expect_error_n("s = \"\xFF\"\n", 8, 1, 6, "invalid UTF-8 byte 0xFF in string");
	expect_error_n("# \xC3\xA9 \xC3\n", 8, 1, 5, "invalid UTF-8 byte 0xC3 in comment");
	expect_error_n("s = \"\xED\xA0\x80\"\n", 10, 1, 6,
	    "invalid UTF-8 byte 0xED in string");   /* an encoded surrogate */
	expect_error_n("a = 1\xFF\n", 7, 1, 6,
	    "expected end of line after the value, found invalid UTF-8 byte 0xFF");
	expect_error("a = 1\rb = 2\n", 1, 6,
	    "carriage return not followed by a line feed (lone CR)");
	expect_error("a = \"\"\"x\ry\"\"\"\n", 1, 9,
	    "carriage return not followed by a line feed (lone CR)");
	expect_error("# a\x01 comment\n", 1, 4,
	    "control character U+0001 is not allowed in a comment");
	expect_error("# a\x7F\n", 1, 4,
	    "control character U+007F is not allowed in a comment");
	expect_error_n("a = \"x\0y\"\n", 10, 1, 7,
	    "control character U+0000 must be escaped in a string");
	expect_error("a = \n", 1, 5, "expected a value, found end of line");
	expect_error("a = yes\n", 1, 5, "invalid value \"yes\" (strings must be quoted)");
	expect_error("a = 1 2\n", 1, 7, "expected end of line after the value, found '2'");
	expect_error("[a] b = 1\n", 1, 5,
	    "expected end of line after the table header, found 'b'");
	expect_error("a = {x = 1,}\n", 1, 12,
	    "a trailing comma is not allowed in an inline table");
	expect_error("a = {x = 1\n}\n", 1, 11,
	    "expected ',' or '}' (an inline table must be on one line), found end of line");
	expect_error("a = 01\n", 1, 5, "leading zeros are not allowed: \"01\"");
	expect_error("a = 1__0\n", 1, 5,
	    "misplaced underscore in \"1__0\" (only allowed between digits)");
	expect_error("a = 1.\n", 1, 5, "expected digits after '.' in \"1.\"");
	expect_error("a = -0x10\n", 1, 5,
	    "a sign is not allowed on a hex, octal or binary integer: \"-0x10\"");
	expect_error("\"\"\"k\"\"\" = 1\n", 1, 1, "a multi-line string cannot be a key");
	expect_error("x = \xE3\x80\x80\n", 1, 5, "expected a value, found '\xE3\x80\x80' (U+3000)");
}

static void
test_depth_limit(void **state)
{
	struct buf b;
	struct toml_doc *doc;
	struct toml_error err;
	int i;

	(void)state;
	/* TOML_MAX_DEPTH nested arrays are fine, one more is not. */
	buf_init(&b, 0);
	buf_puts(&b, "a = ");
	for (i = 0; i < TOML_MAX_DEPTH; i++)
		buf_putc(&b, '[');
	for (i = 0; i < TOML_MAX_DEPTH; i++)
		buf_putc(&b, ']');
	doc = toml_parse(b.data, b.len, &err);
	assert_non_null(doc);
	toml_free(doc);
	buf_reset(&b);
	buf_puts(&b, "a = ");
	for (i = 0; i < 100000; i++)
		buf_puts(&b, "[{x=");
	expect_error_n(b.data, b.len, 1, 5 + 4 * 256, "arrays and tables nested "
	    "more than 512 levels deep");

	/* Headers and dotted keys count too. */
	buf_reset(&b);
	buf_putc(&b, '[');
	for (i = 0; i < 600; i++)
		buf_puts(&b, i ? ".k" : "k");
	buf_puts(&b, "]\n");
	doc = toml_parse(b.data, b.len, &err);
	assert_null(doc);
	assert_string_equal(err.msg, "key has more than 512 parts");
	buf_reset(&b);
	buf_putc(&b, '[');
	for (i = 0; i < 300; i++)
		buf_puts(&b, i ? ".k" : "k");
	buf_puts(&b, "]\n");
	for (i = 0; i < 300; i++)
		buf_puts(&b, i ? ".k" : "k");
	buf_puts(&b, " = 1\n");
	doc = toml_parse(b.data, b.len, &err);
	assert_null(doc);
	assert_string_equal(err.msg, "tables nested more than 512 levels deep");
	buf_free(&b);
}

static void
test_lookup(void **state)
{
	const char *src = "a = 1\n\"a\\u0000b\" = 2\n\"\" = 3\n[t]\nx = 'y'\n";
	struct toml_doc *doc = parse_ok(src);
	const struct toml_table *root = toml_root(doc);
	const struct toml_keyval *kv;
	const struct toml_value *v;

	(void)state;
	kv = toml_table_find(root, "a\0b", 3);
	assert_non_null(kv);
	assert_int_equal(kv->keylen, 3);
	assert_int_equal(kv->value.u.i, 2);
	kv = toml_table_find(root, "", 0);
	assert_non_null(kv);
	assert_int_equal(kv->value.u.i, 3);
	assert_null(toml_table_find(root, "a\0c", 3));
	assert_null(toml_table_find(root, "b", 1));
	assert_null(toml_table_get(root, "missing"));
	v = get(get_table(root, "t"), "x");
	assert_int_equal(v->type, TOML_STRING);
	assert_int_equal(v->u.s.len, 1);
	assert_string_equal(v->u.s.ptr, "y");
	/* Entries keep their written order. */
	assert_int_equal(root->n, 4);
	assert_string_equal(root->items[0].key, "a");
	assert_string_equal(root->items[3].key, "t");
	toml_free(doc);
}

static void
test_lookup_large_table(void **state)
{
	struct buf b;
	struct toml_doc *doc;
	const struct toml_table *root, *t;
	char key[32];
	int i, n = 5000;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < n; i++)
		buf_printf(&b, "key%d = %d\n", i, i);
	buf_puts(&b, "[t]\n");
	for (i = 0; i < n; i++)
		buf_printf(&b, "d.k%d = %d\n", i, i);
	doc = parse_ok(b.data);
	root = toml_root(doc);
	assert_int_equal(root->n, (size_t)n + 1);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "key%d", i);
		assert_int_equal(get(root, key)->u.i, i);
		assert_string_equal(root->items[i].key, key);
	}
	t = get_table(get_table(root, "t"), "d");
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(get(t, key)->u.i, i);
	}
	assert_null(toml_table_get(root, "key5000"));
	toml_free(doc);
	/* Duplicates are still found in a big table. */
	buf_printf(&b, "d.k4999 = 1\n");
	expect_error(b.data, 2 * n + 2, 3,
	    "duplicate key \"d.k4999\" (first defined at line 10001)");
	buf_free(&b);
}

static void
test_integers(void **state)
{
	const char *src =
	    "max = 9223372036854775807\n"
	    "min = -9223372036854775808\n"
	    "hex = 0xDEAD_beef\n"
	    "hexmax = 0x7fffffffffffffff\n"
	    "oct = 0o755\n"
	    "bin = 0b1101_0110\n"
	    "plus = +17\n"
	    "zero = -0\n"
	    "us = 1_000_000\n";
	struct toml_doc *doc = parse_ok(src);
	const struct toml_table *r = toml_root(doc);

	(void)state;
	assert_int_equal(get(r, "max")->type, TOML_INTEGER);
	assert_true(get(r, "max")->u.i == INT64_MAX);
	assert_true(get(r, "min")->u.i == INT64_MIN);
	assert_int_equal(get(r, "hex")->u.i, 0xDEADBEEF);
	assert_true(get(r, "hexmax")->u.i == INT64_MAX);
	assert_int_equal(get(r, "oct")->u.i, 0755);
	assert_int_equal(get(r, "bin")->u.i, 0xD6);
	assert_int_equal(get(r, "plus")->u.i, 17);
	assert_int_equal(get(r, "zero")->u.i, 0);
	assert_int_equal(get(r, "us")->u.i, 1000000);
	toml_free(doc);
	expect_error("a = 9223372036854775808\n", 1, 5, "integer "
	    "\"9223372036854775808\" is out of range (64-bit signed)");
	expect_error("a = -9223372036854775809\n", 1, 5, "integer "
	    "\"-9223372036854775809\" is out of range (64-bit signed)");
	expect_error("a = 0x8000000000000000\n", 1, 5, "integer "
	    "\"0x8000000000000000\" is out of range (64-bit signed)");
	expect_invalid("a = 0b\n");
	expect_invalid("a = 0xG\n");
	expect_invalid("a = 0X1\n");
	expect_invalid("a = 1_\n");
	expect_invalid("a = _1\n");
	expect_invalid("a = 0_1\n");
	expect_invalid("a = +-1\n");
}

static void
test_floats(void **state)
{
	const char *src =
	    "a = 3.14\nb = -1e-3\nc = 6.626e-34\nd = 1_000.000_1\n"
	    "e = inf\nf = -inf\ng = +nan\nh = -0.0\ni = 1E+2\nj = 0e0\n";
	struct toml_doc *doc = parse_ok(src);
	const struct toml_table *r = toml_root(doc);

	(void)state;
	assert_int_equal(get(r, "a")->type, TOML_FLOAT);
	assert_true(get(r, "a")->u.f == 3.14);
	assert_true(get(r, "b")->u.f == -1e-3);
	assert_true(get(r, "c")->u.f == 6.626e-34);
	assert_true(get(r, "d")->u.f == 1000.0001);
	assert_true(isinf(get(r, "e")->u.f) && get(r, "e")->u.f > 0);
	assert_true(isinf(get(r, "f")->u.f) && get(r, "f")->u.f < 0);
	assert_true(isnan(get(r, "g")->u.f));
	assert_true(get(r, "h")->u.f == 0.0 && signbit(get(r, "h")->u.f));
	assert_true(get(r, "i")->u.f == 100.0);
	assert_true(get(r, "j")->u.f == 0.0);
	toml_free(doc);
	expect_invalid("a = .5\n");
	expect_invalid("a = 5.\n");
	expect_invalid("a = 1e\n");
	expect_invalid("a = 1._5\n");
	expect_invalid("a = 1.5_\n");
	expect_invalid("a = Inf\n");
	expect_invalid("a = nan_\n");
	expect_invalid("a = 00.5\n");
}

static void
test_strings(void **state)
{
	const char *src =
	    "a = \"tab\\there \\\"q\\\" \\\\ \\u00e9 \\U0001F600 \\b\\f\\r\\n\"\n"
	    "b = 'C:\\path\\no\\escapes'\n"
	    "c = \"\"\"\nfirst\nsecond\"\"\"\n"
	    "d = \"\"\"\\\n   folded \\\n\n   line\"\"\"\n"
	    "e = '''\n  raw \\n '' '''\n"
	    "f = \"nul\\u0000in\"\n"
	    "g = \"\"\"two \"\"quotes\"\"\"\"\"\n"
	    "h = \"\"\"crlf\r\nline\"\"\"\n";
	struct toml_doc *doc = parse_ok(src);
	const struct toml_table *r = toml_root(doc);
	const struct toml_value *v;

	(void)state;
	assert_string_equal(get(r, "a")->u.s.ptr,
	    "tab\there \"q\" \\ \xC3\xA9 \xF0\x9F\x98\x80 \b\f\r\n");
	assert_string_equal(get(r, "b")->u.s.ptr, "C:\\path\\no\\escapes");
	assert_string_equal(get(r, "c")->u.s.ptr, "first\nsecond");
	assert_string_equal(get(r, "d")->u.s.ptr, "folded line");
	assert_string_equal(get(r, "e")->u.s.ptr, "  raw \\n '' ");
	v = get(r, "f");
	assert_int_equal(v->u.s.len, 6);
	assert_memory_equal(v->u.s.ptr, "nul\0in", 7);   /* with the NUL terminator */
	assert_string_equal(get(r, "g")->u.s.ptr, "two \"\"quotes\"\"");
	assert_string_equal(get(r, "h")->u.s.ptr, "crlf\nline");   /* CRLF -> LF */
	toml_free(doc);
	expect_invalid("a = \"\\x41\"\n");
	expect_invalid("a = \"\\e\"\n");
	expect_invalid("a = \"\\U00110000\"\n");
	expect_invalid("a = \"\"\"\\ x\"\"\"\n");
	expect_invalid("a = \"\"\"x\"\"\"\"\"\"\n");
	expect_invalid("a = 'tab\x7F'\n");
}

static void
test_datetimes(void **state)
{
	const char *src =
	    "odt1 = 1979-05-27T07:32:00Z\n"
	    "odt2 = 1979-05-27t00:32:00.999999-07:00\n"
	    "odt3 = 1979-05-27 00:32:00.1234567891+05:30\n"
	    "ldt = 1979-05-27T07:32:00\n"
	    "ld = 2000-02-29\n"
	    "lt = 23:59:60.5\n";
	struct toml_doc *doc = parse_ok(src);
	const struct toml_table *r = toml_root(doc);
	const struct toml_value *v;
	char out[64];

	(void)state;
	v = get(r, "odt1");
	assert_int_equal(v->type, TOML_DATETIME);
	assert_int_equal(v->u.dt.year, 1979);
	assert_int_equal(v->u.dt.month, 5);
	assert_int_equal(v->u.dt.day, 27);
	assert_int_equal(v->u.dt.hour, 7);
	assert_int_equal(v->u.dt.minute, 32);
	assert_true(v->u.dt.offset_z);
	assert_int_equal(v->u.dt.offset_minutes, 0);
	toml_datetime_format(v, out, sizeof out);
	assert_string_equal(out, "1979-05-27T07:32:00Z");

	v = get(r, "odt2");
	assert_int_equal(v->type, TOML_DATETIME);
	assert_false(v->u.dt.offset_z);
	assert_int_equal(v->u.dt.offset_minutes, -7 * 60);
	assert_int_equal(v->u.dt.nanosecond, 999999000);
	assert_int_equal(v->u.dt.frac_digits, 6);
	toml_datetime_format(v, out, sizeof out);
	assert_string_equal(out, "1979-05-27T00:32:00.999999-07:00");

	v = get(r, "odt3");
	assert_int_equal(v->u.dt.nanosecond, 123456789);   /* truncated to ns */
	assert_int_equal(v->u.dt.frac_digits, 10);
	assert_int_equal(v->u.dt.offset_minutes, 5 * 60 + 30);
	toml_datetime_format(v, out, sizeof out);
	assert_string_equal(out, "1979-05-27T00:32:00.123456789+05:30");

	v = get(r, "ldt");
	assert_int_equal(v->type, TOML_DATETIME_LOCAL);
	toml_datetime_format(v, out, sizeof out);
	assert_string_equal(out, "1979-05-27T07:32:00");

	v = get(r, "ld");
	assert_int_equal(v->type, TOML_DATE_LOCAL);
	assert_int_equal(v->u.dt.hour, 0);
	toml_datetime_format(v, out, sizeof out);
	assert_string_equal(out, "2000-02-29");

	v = get(r, "lt");
	assert_int_equal(v->type, TOML_TIME_LOCAL);
	assert_int_equal(v->u.dt.year, 0);
	assert_int_equal(v->u.dt.second, 60);
	assert_int_equal(v->u.dt.nanosecond, 500000000);
	toml_datetime_format(v, out, sizeof out);
	assert_string_equal(out, "23:59:60.5");
	assert_int_equal(toml_datetime_format(get(r, "ld"), NULL, 0), 10);
	toml_free(doc);

	expect_error("d = 1900-02-29\n", 1, 5,
	    "invalid date 1900-02-29: 1900-02 has 28 days");
	expect_error("d = 2021-04-31\n", 1, 5,
	    "invalid date 2021-04-31: 2021-04 has 30 days");
	expect_error("d = 2021-13-01\n", 1, 5,
	    "invalid date 2021-13-01: month must be 01 to 12");
	expect_error("t = 24:00:00\n", 1, 5, "invalid time 24:00:00: expected "
	    "hour 00-23, minute 00-59, second 00-60");
	expect_error("t = 12:00:61\n", 1, 5, "invalid time 12:00:61: expected "
	    "hour 00-23, minute 00-59, second 00-60");
	expect_error("t = 12:00\n", 1, 5, "invalid time: expected HH:MM:SS");
	expect_error("t = 2021-01-01T12:00:00+24:00\n", 1, 24,
	    "invalid time offset +24:00");
	expect_invalid("t = 12:00:00Z\n");          /* no offset on a local time */
	expect_invalid("t = 2021-01-01T12:00:00.\n");
	expect_invalid("t = 2021-1-01\n");
	expect_invalid("t = 2021-01-01 T12:00:00\n");
}

static void
test_tables(void **state)
{
	const char *src =
	    "[a.b.c]\n"
	    "x = 1\n"
	    "[a]\n"                     /* implicit, so it may be defined once */
	    "y = 2\n"
	    "[[fruit]]\n"
	    "name = 'apple'\n"
	    "[fruit.physical]\n"
	    "color = 'red'\n"
	    "[[fruit.variety]]\n"
	    "name = 'red delicious'\n"
	    "[[fruit]]\n"
	    "name = 'banana'\n"
	    "[dog.\"tater.man\"]\n"
	    "type.name = 'pug'\n"
	    "[dog.\"tater.man\".type.more]\n";  /* sub-table of a dotted table */
	struct toml_doc *doc = parse_ok(src);
	const struct toml_table *r = toml_root(doc), *t;
	const struct toml_value *v;

	(void)state;
	t = get_table(get_table(get_table(r, "a"), "b"), "c");
	assert_int_equal(get(t, "x")->u.i, 1);
	assert_int_equal(get(get_table(r, "a"), "y")->u.i, 2);
	assert_int_equal(get_table(r, "a")->pos.line, 3);
	v = get(r, "fruit");
	assert_int_equal(v->type, TOML_ARRAY);
	assert_int_equal(v->u.array->n, 2);
	t = v->u.array->items[0].u.table;
	assert_string_equal(get(t, "name")->u.s.ptr, "apple");
	assert_string_equal(get(get_table(t, "physical"), "color")->u.s.ptr, "red");
	assert_int_equal(get(t, "variety")->u.array->n, 1);
	assert_int_equal(v->u.array->items[1].pos.line, 11);
	t = get_table(get_table(get_table(r, "dog"), "tater.man"), "type");
	assert_string_equal(get(t, "name")->u.s.ptr, "pug");
	assert_non_null(toml_table_get(t, "more"));
	toml_free(doc);

	expect_invalid("[a]\n[a]\n");
	expect_invalid("[a.b]\n[a]\n[a]\n");
	expect_invalid("a.b = 1\n[a]\n");
	expect_invalid("a = {}\n[a.b]\n");
	expect_invalid("a = {b = {}}\na.b.c = 1\n");
	expect_invalid("[[a]]\n[a]\n");
	expect_invalid("[a]\n[[a]]\n");
	expect_invalid("a = []\n[[a]]\n");
	expect_invalid("a = [{}]\n[a.b]\n");
	expect_invalid("[[a.b]]\n[a]\nb.c = 1\n");
	expect_invalid("x = {a = 1, a = 2}\n");
	expect_invalid("x = {a.b = 1, a = 2}\n");
	expect_invalid("x = {a = {b = 1}, a.c = 2}\n");
}

static void
test_misc(void **state)
{
	struct toml_doc *doc;
	const struct toml_value *v;

	(void)state;
	/* err may be NULL, and an empty document is an empty table. */
	assert_null(toml_parse("=", 1, NULL));
	doc = toml_parse(NULL, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(toml_root(doc)->n, 0);
	toml_free(doc);
	toml_free(NULL);

	doc = parse_ok("a = [1, 'two', [3.0], {four = 4}, 1979-05-27, true, ]\n");
	v = get(toml_root(doc), "a");
	assert_int_equal(v->u.array->n, 6);
	assert_int_equal(v->u.array->items[0].type, TOML_INTEGER);
	assert_int_equal(v->u.array->items[1].type, TOML_STRING);
	assert_int_equal(v->u.array->items[2].type, TOML_ARRAY);
	assert_int_equal(v->u.array->items[3].type, TOML_TABLE);
	assert_int_equal(v->u.array->items[4].type, TOML_DATE_LOCAL);
	assert_int_equal(v->u.array->items[5].type, TOML_BOOL);
	toml_free(doc);

	assert_string_equal(toml_type_name(TOML_TABLE), "table");
	assert_string_equal(toml_type_name(TOML_BOOL), "boolean");
	assert_string_equal(toml_type_name(TOML_DATETIME), "offset date-time");
	assert_string_equal(toml_type_name(TOML_DATETIME_LOCAL), "local date-time");
	assert_string_equal(toml_type_name(TOML_DATE_LOCAL), "local date");
	assert_string_equal(toml_type_name(TOML_TIME_LOCAL), "local time");
	assert_int_equal(toml_datetime_format(&(struct toml_value){ .type =
	    TOML_STRING }, NULL, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_positions_crlf_bom),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_lookup_large_table),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_datetimes),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_misc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
