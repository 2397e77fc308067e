/*
 * fuzz_toml.c - libFuzzer target for the TOML parser.
 *
 * Parses arbitrary bytes; on success walks the whole tree (touching every
 * key, string and date so that the sanitizers see any bad pointer), checks a
 * few invariants that must hold for every document, and frees it. On failure
 * checks that the error names a position and a message. Violations abort.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/util.h"
#include "config/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_toml: invariant broken: %s\n", what);
		abort();
	}
}

static size_t walk_table(const struct toml_table *t, int depth);

static size_t
walk_value(const struct toml_value *v, int depth)
{
	char tmp[64];
	size_t i, n = 1;

	check(depth <= TOML_MAX_DEPTH + 2, "nesting depth is bounded");
	check(v->pos.line >= 1 && v->pos.col >= 1, "value position is set");
	switch (v->type) {
	case TOML_TABLE:
		return n + walk_table(v->u.table, depth + 1);
	case TOML_ARRAY:
		for (i = 0; i < v->u.array->n; i++)
			n += walk_value(&v->u.array->items[i], depth + 1);
		return n;
	case TOML_STRING:
		check(v->u.s.ptr[v->u.s.len] == '\0', "string is NUL-terminated");
		check(utf8_valid(v->u.s.ptr, v->u.s.len), "string is UTF-8");
		return n;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		check(toml_datetime_format(v, tmp, sizeof tmp) > 0 &&
		    strlen(tmp) < 40, "date/time formats");
		return n;
	case TOML_INTEGER:
	case TOML_FLOAT:
	case TOML_BOOL:
		return n;
	}
	check(0, "known value type");
	return n;
}

static size_t
walk_table(const struct toml_table *t, int depth)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++) {
		const struct toml_keyval *kv = &t->items[i];

		check(kv->key[kv->keylen] == '\0', "key is NUL-terminated");
		check(utf8_valid(kv->key, kv->keylen), "key is UTF-8");
		check(kv->key_pos.line >= 1 && kv->key_pos.col >= 1,
		    "key position is set");
		check(toml_table_find(t, kv->key, kv->keylen) == kv,
		    "every key is found, and only once");
		n += walk_value(&kv->value, depth);
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_error err;
	struct toml_doc *doc;

	doc = toml_parse((const char *)data, size, &err);
	if (doc == NULL) {
		check(err.pos.line >= 1 && err.pos.col >= 1, "error has a position");
		check(err.msg[0] != '\0', "error has a message");
		check(memchr(err.msg, '\0', sizeof err.msg) != NULL,
		    "error message is terminated");
		check(utf8_valid(err.msg, strlen(err.msg)), "error message is UTF-8");
		return 0;
	}
	walk_table(toml_root(doc), 0);
	toml_free(doc);
	return 0;
}
