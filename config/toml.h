/*
 * toml.h - a complete TOML 1.0.0 parser that keeps source positions.
 *
 * The parser reads a whole document from memory (it may contain NUL bytes,
 * which are an error anywhere but never stop the scan) and builds a tree of
 * tables, arrays and scalars. Every key and value remembers the line and
 * column where it was written, so that later validation (config.c) can name
 * file:line:col. Parse errors name line and column and say what was expected.
 *
 * Ownership: toml_parse returns a document that owns every node; everything
 * reached through it is valid until toml_free. Nothing is shared between
 * documents. Strings are stored decoded, length-counted and NUL-terminated
 * (they may contain U+0000, so use the length).
 */
#ifndef ACKBOT_TOML_H
#define ACKBOT_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,        /* offset date-time: 1979-05-27T07:32:00Z */
	TOML_DATETIME_LOCAL,  /* 1979-05-27T07:32:00 */
	TOML_DATE_LOCAL,      /* 1979-05-27 */
	TOML_TIME_LOCAL,      /* 07:32:00 */
};

/* 1-based line and column; the column counts code points, not bytes. */
struct toml_pos {
	int line;
	int col;
};

struct toml_datetime {
	int year, month, day;          /* unset parts are 0 */
	int hour, minute, second;
	int nanosecond;                /* fraction of a second, truncated to ns */
	int frac_digits;               /* digits written after '.', 0 if none */
	int offset_minutes;            /* TOML_DATETIME only; Z is 0 */
	bool offset_z;                 /* written as Z (or z) */
};

struct toml_table;
struct toml_array;
struct toml_hindex;

/* Arrays and tables nested deeper than this (counted from the root, through
 * headers, dotted keys and inline values alike) are a parse error, so that
 * every recursive walk over a document has a bounded depth. */
#define TOML_MAX_DEPTH 512

struct toml_value {
	enum toml_type type;
	struct toml_pos pos;           /* where the value starts */
	union {
		struct {
			char *ptr;     /* NUL-terminated, may contain NUL */
			size_t len;
		} s;
		int64_t i;
		double f;
		bool b;
		struct toml_datetime dt;
		struct toml_table *table;
		struct toml_array *array;
	} u;
};

struct toml_keyval {
	char *key;                     /* decoded key segment, NUL-terminated */
	size_t keylen;
	struct toml_pos key_pos;       /* where the key was (first) written */
	struct toml_value value;
};

/* Entries keep the order in which they were first written. */
struct toml_table {
	struct toml_keyval *items;
	size_t n;
	size_t cap;
	struct toml_pos pos;           /* header, inline brace, or first dotted use */
	unsigned flags;                /* parser-private bookkeeping */
	struct toml_hindex *index;     /* parser-private: hash index over items,
	                                * built once the table grows past a few
	                                * keys; NULL for small tables */
};

struct toml_array {
	struct toml_value *items;
	size_t n;
	size_t cap;
	unsigned flags;                /* parser-private bookkeeping */
};

struct toml_doc;

struct toml_error {
	struct toml_pos pos;
	char msg[256];                 /* e.g. "expected '=' after key \"a\"" */
};

/*
 * Parses len bytes at data. Returns a new document, or NULL with *err filled
 * (err may be NULL). A leading UTF-8 BOM is skipped; CRLF is accepted as a
 * newline and a lone CR is an error.
 */
struct toml_doc *toml_parse(const char *data, size_t len, struct toml_error *err);
void toml_free(struct toml_doc *doc);
const struct toml_table *toml_root(const struct toml_doc *doc);

/* Lookup by key (exact, length-counted); NULL if absent. */
const struct toml_keyval *toml_table_find(const struct toml_table *t,
    const char *key, size_t keylen);
/* Convenience: value of a NUL-terminated key; NULL if absent. */
const struct toml_value *toml_table_get(const struct toml_table *t, const char *key);

/* Human name of a type, for messages: "table", "array", "string", "integer",
 * "float", "boolean", "offset date-time", "local date-time", "local date",
 * "local time". */
const char *toml_type_name(enum toml_type t);

/*
 * Writes a date/time value (any of the four kinds) in RFC 3339 / TOML form,
 * e.g. "1979-05-27T07:32:00.5-07:00", with 'T' as separator, the fraction
 * with as many digits as written (at most 9), and "Z" for a zero offset
 * written as Z. Returns the length as snprintf does (at most 40 for any
 * value the parser produces), or -1 if v is not a date/time.
 */
int toml_datetime_format(const struct toml_value *v, char *out, size_t outlen);

#endif
