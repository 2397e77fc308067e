/*
 * toml_decoder.c - the toml-test decoder (build/toml-decoder).
 *
 * Reads one TOML document from stdin (all bytes, NULs included) and writes
 * its tagged JSON (see shared/toml-test/README.md) to stdout, exit 0. An
 * invalid document gives "line:col: message" on stderr and exit 1. Nothing
 * is written to stderr on success.
 */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bot/util.h"
#include "toml.h"

static json_t *table_to_json(const struct toml_table *t);

static void
die(const char *what)
{
	fprintf(stderr, "toml-decoder: %s\n", what);
	exit(2);
}

static json_t *
tagged(const char *type, const char *val, size_t len)
{
	json_t *o = json_object(), *s = json_stringn(val, len);

	if (o == NULL || s == NULL ||
	    json_object_set_new(o, "type", json_string(type)) != 0 ||
	    json_object_set_new(o, "value", s) != 0)
		die("cannot build JSON (invalid UTF-8 in a string?)");
	return o;
}

static json_t *
value_to_json(const struct toml_value *v)
{
	static const char *dt_names[] = {
		[TOML_DATETIME] = "datetime",
		[TOML_DATETIME_LOCAL] = "datetime-local",
		[TOML_DATE_LOCAL] = "date-local",
		[TOML_TIME_LOCAL] = "time-local",
	};
	char tmp[64];
	json_t *arr;
	size_t i;
	int n;

	switch (v->type) {
	case TOML_TABLE:
		return table_to_json(v->u.table);
	case TOML_ARRAY:
		if ((arr = json_array()) == NULL)
			die("out of memory");
		for (i = 0; i < v->u.array->n; i++)
			if (json_array_append_new(arr,
			    value_to_json(&v->u.array->items[i])) != 0)
				die("out of memory");
		return arr;
	case TOML_STRING:
		return tagged("string", v->u.s.ptr, v->u.s.len);
	case TOML_INTEGER:
		n = snprintf(tmp, sizeof tmp, "%" PRId64, v->u.i);
		return tagged("integer", tmp, (size_t)n);
	case TOML_FLOAT:
		if (isnan(v->u.f))
			n = snprintf(tmp, sizeof tmp, "nan");
		else if (isinf(v->u.f))
			n = snprintf(tmp, sizeof tmp, "%s", v->u.f < 0 ? "-inf" : "inf");
		else
			n = snprintf(tmp, sizeof tmp, "%.17g", v->u.f);
		return tagged("float", tmp, (size_t)n);
	case TOML_BOOL:
		return tagged("bool", v->u.b ? "true" : "false", v->u.b ? 4 : 5);
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		n = toml_datetime_format(v, tmp, sizeof tmp);
		if (n < 0 || (size_t)n >= sizeof tmp)
			die("cannot format a date/time");
		return tagged(dt_names[v->type], tmp, (size_t)n);
	}
	die("unknown value type");
	return NULL;
}

static json_t *
table_to_json(const struct toml_table *t)
{
	json_t *o = json_object();
	size_t i;

	if (o == NULL)
		die("out of memory");
	for (i = 0; i < t->n; i++)
		if (json_object_setn_new(o, t->items[i].key, t->items[i].keylen,
		    value_to_json(&t->items[i].value)) != 0)
			die("cannot build JSON object");
	return o;
}

int
main(void)
{
	struct toml_error err;
	struct toml_doc *doc;
	struct buf in;
	char chunk[65536];
	size_t n;
	json_t *root;

	buf_init(&in, 0);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		if (buf_append(&in, chunk, n) != 0)
			die("input too large");
	if (ferror(stdin))
		die("cannot read stdin");
	doc = toml_parse(in.data, in.len, &err);
	buf_free(&in);
	if (doc == NULL) {
		fprintf(stderr, "%d:%d: %s\n", err.pos.line, err.pos.col, err.msg);
		return 1;
	}
	root = table_to_json(toml_root(doc));
	if (json_dumpf(root, stdout, JSON_COMPACT) != 0 || putchar('\n') == EOF ||
	    fflush(stdout) != 0)
		die("cannot write stdout");
	json_decref(root);
	toml_free(doc);
	return 0;
}
