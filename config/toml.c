/*
 * toml.c - TOML 1.0.0 parser that keeps source positions (see toml.h).
 *
 * One pass over the input with no separate token stream: the parser looks at
 * the next byte and decides. Strings, keys and comments are checked for
 * well-formed UTF-8 as they are scanned; nothing else may contain a byte
 * >= 0x80, so the whole document is validated without a separate pass.
 *
 * Memory: a document owns one text buffer as long as the input, and an
 * arena. Every key and string is stored in the text buffer at the offset
 * where it was written: decoding never makes a string longer than its
 * source (an escape is at least as long as what it stands for), and the
 * closing quote leaves room for the NUL, so strings need no allocation of
 * their own. Tables, arrays, item vectors and hash indexes come from the
 * arena; vector blocks given back when a vector grows are reused by size,
 * and blocks of ARENA_BIG or more are malloc'ed one by one so that they can
 * be realloc'ed. toml_free and the error path free a few lists and never
 * walk the tree, so a half-built document cannot leak.
 *
 * Table rules (TOML 1.0.0 "Table", "Inline Table", "Array of Tables") are
 * enforced with flags on each table:
 *   TBL_IMPLICIT  created as a parent by a header ([a.b] creates a); may be
 *                 defined once later by [a] or extended by dotted keys.
 *   TBL_HEADER    defined by [a] or created by [[a]]; cannot be defined
 *                 again, and dotted keys from an outer table cannot add to it.
 *   TBL_DOTTED    defined by dotted keys (a.b = 1 defines a); cannot be
 *                 opened by a header, but headers may define sub-tables in it.
 *   TBL_INLINE    an inline table; closed for good once its '}' is read.
 * Arrays are ARR_STATIC (a value, cannot be extended) or ARR_TABLES (made by
 * [[a]], extended by each further [[a]]).
 */
#include "toml.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bot/util.h"

#define HINDEX_MIN 16                   /* tables up to this many keys are scanned */
#define CHUNK_FIRST (16 * 1024)
#define CHUNK_MAX (1024 * 1024)
#define ARENA_BIG (8 * 1024)            /* vector blocks this big are malloc'ed alone */
#define KEY_SHOW 120                    /* longest key spelling quoted in a message */

enum {
	TBL_IMPLICIT = 1u << 0,
	TBL_HEADER = 1u << 1,
	TBL_DOTTED = 1u << 2,
	TBL_INLINE = 1u << 3,
};

enum {
	ARR_STATIC = 1u << 0,
	ARR_TABLES = 1u << 1,
};

struct toml_chunk {
	struct toml_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

/* A vector or index block of ARENA_BIG bytes or more; doubly linked so that
 * it can be realloc'ed and freed on its own. */
struct toml_big {
	struct toml_big *prev, *next;
	max_align_t data[];
};

/* A small block given back, waiting on the free list for its size. */
struct toml_freeblk {
	struct toml_freeblk *next;
};

/* Open addressing with linear probing; idx is the item index + 1, 0 = empty.
 * The load factor stays at or below 1/2. */
struct toml_hslot {
	uint32_t hash;
	uint32_t idx;
};

struct toml_hindex {
	size_t mask;
	struct toml_hslot slot[];
};

#define NFREE 61                        /* free lists, indexed by size / 8 % NFREE */

struct toml_doc {
	struct toml_table root;
	char *text;                     /* keys and strings, at their input offsets */
	struct toml_chunk *chunks;      /* newest (the one being carved) first */
	struct toml_big *big;
	size_t next_chunk;              /* size of the next chunk */
	struct {
		size_t size;
		struct toml_freeblk *head;
	} freelist[NFREE];
};

/* One part of a dotted key. Bare keys point into the input and are copied
 * to the document's text when an entry is made; quoted keys are decoded
 * into the text right away (in_text). */
struct keyseg {
	const char *ptr;
	size_t len;
	bool in_text;
	struct toml_pos pos;
};

struct parser {
	const char *start, *p, *end;    /* start: input offset 0 (after a BOM) */
	const char *line_start;
	const char *col_ptr;            /* column cache: col is the column of col_ptr */
	int line, col;
	bool line_ascii;                /* no byte >= 0x80 seen yet on this line */
	struct toml_doc *doc;
	struct toml_error *err;
	struct toml_table *cur;         /* table that "key = value" lines go to */
	int cur_depth;
	struct keyseg *segs;            /* the key just read by parse_key */
	size_t nsegs, segcap;
};

static int parse_value(struct parser *P, struct toml_value *v, int depth);

/* ---------------------------------------------------------------- arena */

static size_t
round8(size_t n)
{
	if (n > SIZE_MAX - 8)
		abort();
	return (n + 7) & ~(size_t)7;
}

/* Returns n bytes (n < ARENA_BIG), 8-aligned, owned by the document. */
static void *
arena_alloc(struct toml_doc *d, size_t n)
{
	struct toml_chunk *c = d->chunks;
	void *p;

	n = round8(n);
	if (c == NULL || c->cap - c->used < n) {
		c = xmalloc(sizeof *c + d->next_chunk);
		c->used = 0;
		c->cap = d->next_chunk;
		c->next = d->chunks;
		d->chunks = c;
		if (d->next_chunk < CHUNK_MAX)
			d->next_chunk *= 2;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void *
arena_zalloc(struct toml_doc *d, size_t n)
{
	void *p = arena_alloc(d, n);

	memset(p, 0, n);
	return p;
}

static struct toml_big *
big_of(void *p)
{
	return (struct toml_big *)(void *)((char *)p -
	    offsetof(struct toml_big, data));
}

static void
big_link(struct toml_doc *d, struct toml_big *b)
{
	b->prev = NULL;
	b->next = d->big;
	if (d->big != NULL)
		d->big->prev = b;
	d->big = b;
}

static void
big_unlink(struct toml_doc *d, struct toml_big *b)
{
	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		d->big = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
}

/* The free list for small blocks of exactly size bytes, or NULL when its
 * slot already serves another size (then such blocks are not reused). The
 * sizes that occur (2, 4, 8... items of 56 or 80 bytes, and indexes) all
 * have slots of their own. */
static struct toml_freeblk **
freelist_of(struct toml_doc *d, size_t size)
{
	size_t i = size / 8 % NFREE;

	if (d->freelist[i].size == 0)
		d->freelist[i].size = size;
	return d->freelist[i].size == size ? &d->freelist[i].head : NULL;
}

/* A block for a vector or an index: recycled, carved, or malloc'ed. */
static void *
block_alloc(struct toml_doc *d, size_t size)
{
	struct toml_freeblk **fl, *f;
	struct toml_big *b;

	size = round8(size);
	if (size >= ARENA_BIG) {
		if (size > SIZE_MAX - sizeof *b)
			abort();
		b = xmalloc(sizeof *b + size);
		big_link(d, b);
		return b->data;
	}
	if ((fl = freelist_of(d, size)) != NULL && (f = *fl) != NULL) {
		*fl = f->next;
		return f;
	}
	return arena_alloc(d, size);
}

/* Gives back a block from block_alloc that had size bytes. */
static void
block_free(struct toml_doc *d, void *p, size_t size)
{
	struct toml_freeblk **fl, *f = p;
	struct toml_big *b;

	if (p == NULL)
		return;
	size = round8(size);
	if (size >= ARENA_BIG) {
		b = big_of(p);
		big_unlink(d, b);
		free(b);
	} else if ((fl = freelist_of(d, size)) != NULL) {
		f->next = *fl;
		*fl = f;
	}
}

/* Doubles a full vector of *cap elements of el bytes. */
static void *
vec_grow(struct toml_doc *d, void *items, size_t *cap, size_t el)
{
	size_t ncap, oldsize, newsize;
	struct toml_chunk *c;
	struct toml_big *b;
	void *p;

	ncap = *cap ? *cap * 2 : 2;
	if (ncap > SIZE_MAX / 2 / el)
		abort();
	oldsize = round8(*cap * el);
	newsize = round8(ncap * el);
	*cap = ncap;
	c = d->chunks;
	if (items != NULL && c != NULL && newsize < ARENA_BIG &&
	    (char *)items + oldsize == (char *)c->data + c->used &&
	    c->cap - c->used >= newsize - oldsize) {
		/* The last block carved: grow it where it is. Keys and
		 * strings live elsewhere, so a table or array that gets only
		 * scalars grows in place. */
		c->used += newsize - oldsize;
		return items;
	}
	if (items != NULL && oldsize >= ARENA_BIG) {
		b = big_of(items);
		big_unlink(d, b);
		b = xrealloc(b, sizeof *b + newsize);
		big_link(d, b);
		return b->data;
	}
	p = block_alloc(d, newsize);
	if (oldsize)
		memcpy(p, items, oldsize);
	block_free(d, items, oldsize);
	return p;
}

/* ----------------------------------------------------------- hash index */

static uint32_t
key_hash(const char *k, size_t n)
{
	uint32_t h = 2166136261u;       /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 16777619u;
	}
	return h;
}

static void
hindex_put(struct toml_hindex *ix, uint32_t hash, size_t idx)
{
	size_t i = hash & ix->mask;

	while (ix->slot[i].idx != 0)
		i = (i + 1) & ix->mask;
	ix->slot[i].hash = hash;
	ix->slot[i].idx = (uint32_t)idx + 1;
}

static size_t
hindex_size(size_t nslots)
{
	return sizeof(struct toml_hindex) + nslots * sizeof(struct toml_hslot);
}

/* (Re)builds t's index with nslots slots (a power of two). */
static void
hindex_build(struct toml_doc *d, struct toml_table *t, size_t nslots)
{
	struct toml_hindex *old = t->index, *ix;
	size_t i;

	ix = block_alloc(d, hindex_size(nslots));
	memset(ix, 0, hindex_size(nslots));
	ix->mask = nslots - 1;
	if (old != NULL) {
		for (i = 0; i <= old->mask; i++)
			if (old->slot[i].idx != 0)
				hindex_put(ix, old->slot[i].hash, old->slot[i].idx - 1);
		block_free(d, old, hindex_size(old->mask + 1));
	} else {
		for (i = 0; i < t->n; i++)
			hindex_put(ix, key_hash(t->items[i].key, t->items[i].keylen), i);
	}
	t->index = ix;
}

/* Finds key k in t. *hash is set when t has an index, for table_add. */
static struct toml_keyval *
table_lookup(const struct toml_table *t, const char *k, size_t n, uint32_t *hash)
{
	size_t i;

	if (t->index != NULL) {
		const struct toml_hindex *ix = t->index;
		uint32_t h = key_hash(k, n);

		*hash = h;
		for (i = h & ix->mask; ix->slot[i].idx != 0; i = (i + 1) & ix->mask) {
			struct toml_keyval *kv = &t->items[ix->slot[i].idx - 1];

			if (ix->slot[i].hash == h && kv->keylen == n &&
			    (n == 0 || memcmp(kv->key, k, n) == 0))
				return kv;
		}
		return NULL;
	}
	*hash = 0;
	for (i = 0; i < t->n; i++) {
		struct toml_keyval *kv = &t->items[i];

		if (kv->keylen == n && (n == 0 || (kv->key[0] == k[0] &&
		    memcmp(kv->key, k, n) == 0)))
			return kv;
	}
	return NULL;
}

/* Appends a new entry; hash is what table_lookup just returned for k. The
 * value is left zeroed for the caller to fill. */
static struct toml_keyval *
table_add(struct parser *P, struct toml_table *t, const struct keyseg *k,
    uint32_t hash)
{
	struct toml_doc *d = P->doc;
	struct toml_keyval *kv;

	if (t->n >= UINT32_MAX - 1)
		abort();
	if (t->n == t->cap)
		t->items = vec_grow(d, t->items, &t->cap, sizeof *t->items);
	kv = &t->items[t->n++];
	memset(kv, 0, sizeof *kv);
	if (k->in_text) {
		kv->key = d->text + (k->ptr - d->text);
	} else {
		kv->key = d->text + (k->ptr - P->start);
		memcpy(kv->key, k->ptr, k->len);
		kv->key[k->len] = '\0';
	}
	kv->keylen = k->len;
	kv->key_pos = k->pos;
	kv->value.pos = k->pos;
	kv->value.type = TOML_BOOL;     /* a placeholder that owns nothing */
	if (t->index == NULL) {
		if (t->n > HINDEX_MIN)
			hindex_build(d, t, 64);
	} else {
		if (t->n * 2 > t->index->mask + 1)
			hindex_build(d, t, (t->index->mask + 1) * 2);
		hindex_put(t->index, hash, t->n - 1);
	}
	return kv;
}

static struct toml_table *
table_new(struct toml_doc *d, struct toml_pos pos, unsigned flags)
{
	struct toml_table *t = arena_zalloc(d, sizeof *t);

	t->pos = pos;
	t->flags = flags;
	return t;
}

/* -------------------------------------------------- positions and errors */

static void
line_begins(struct parser *P, const char *q)
{
	if (P->line < INT_MAX)
		P->line++;
	P->line_start = P->col_ptr = q;
	P->col = 1;
	P->line_ascii = true;
}

/* Position of q, which must be on the current line. While the line has
 * been ASCII so far (bytes >= 0x80 are only allowed in strings and comments,
 * whose scanners clear line_ascii) the column is a subtraction; otherwise
 * code points are counted incrementally from the last position asked for,
 * so that a long line with many values costs linear time. */
static struct toml_pos
pos_at(struct parser *P, const char *q)
{
	struct toml_pos pos;
	size_t n;

	if (P->line_ascii) {
		n = (size_t)(q - P->line_start);
		P->col = n >= INT_MAX ? INT_MAX : (int)n + 1;
		P->col_ptr = q;
		pos.line = P->line;
		pos.col = P->col;
		return pos;
	}
	if (q < P->col_ptr) {
		P->col_ptr = P->line_start;
		P->col = 1;
	}
	n = utf8_count(P->col_ptr, (size_t)(q - P->col_ptr));
	P->col = n > (size_t)(INT_MAX - P->col) ? INT_MAX : P->col + (int)n;
	P->col_ptr = q;
	pos.line = P->line;
	pos.col = P->col;
	return pos;
}

static int ACK_PRINTF(3, 0)
fail_posv(struct parser *P, struct toml_pos pos, const char *fmt, va_list ap)
{
	if (P->err != NULL) {
		P->err->pos = pos;
		vsnprintf(P->err->msg, sizeof P->err->msg, fmt, ap);
	}
	return -1;
}

static int ACK_PRINTF(3, 4)
fail_pos(struct parser *P, struct toml_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_posv(P, pos, fmt, ap);
	va_end(ap);
	return -1;
}

static int ACK_PRINTF(3, 4)
fail_at(struct parser *P, const char *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_posv(P, pos_at(P, q), fmt, ap);
	va_end(ap);
	return -1;
}

/* Length of the well-formed UTF-8 sequence at sp (sp[0] >= 0x80), or 0;
 * *cpp (if not NULL) gets the code point. */
static size_t
utf8_decode(const char *sp, const char *ep, uint32_t *cpp)
{
	const unsigned char *s = (const unsigned char *)sp;
	size_t n, i, avail = (size_t)(ep - sp);
	uint32_t cp;

	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		n = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		n = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	if (cpp != NULL)
		*cpp = cp;
	return n;
}

static size_t
utf8_len(const char *s, const char *e)
{
	return utf8_decode(s, e, NULL);
}

/* Says what is at q, for "found ..." in messages. */
static const char *
describe(const struct parser *P, const char *q, char *out, size_t outlen)
{
	unsigned char c;
	uint32_t cp;
	size_t n;

	if (q >= P->end)
		return "end of input";
	c = (unsigned char)*q;
	if (c == '\n' || (c == '\r' && q + 1 < P->end && q[1] == '\n'))
		return "end of line";
	if (c == '\r')
		return "a carriage return not followed by a line feed (lone CR)";
	if (c < 0x20 || c == 0x7F)
		snprintf(out, outlen, "control character U+%04X", c);
	else if (c < 0x80)
		snprintf(out, outlen, "'%c'", c);
	else if ((n = utf8_decode(q, P->end, &cp)) != 0)
		snprintf(out, outlen, "'%.*s' (U+%04X)", (int)n, q, (unsigned)cp);
	else
		snprintf(out, outlen, "invalid UTF-8 byte 0x%02X", c);
	return out;
}

static int
fail_found(struct parser *P, const char *q, const char *what)
{
	char tmp[64];

	return fail_at(P, q, "expected %s, found %s", what,
	    describe(P, q, tmp, sizeof tmp));
}

/* Bytes of a bare key: A-Z a-z 0-9 _ - */
static const unsigned char bare_chars[256] = {
	['-'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1,
	['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1,
	['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1,
	['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1,
	['Z'] = 1, ['_'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
	['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
	['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
	['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static bool
is_bare(unsigned char c)
{
	return bare_chars[c] != 0;
}

/* Appends one key part in TOML spelling: bare if possible, else quoted. */
static void
show_seg(struct buf *b, const char *k, size_t n)
{
	size_t i;
	bool bare = n > 0, literal = true;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];

		if (!is_bare(c))
			bare = false;
		if (c == '\'' || c < 0x20 || c == 0x7F)
			literal = false;
	}
	if (bare) {
		buf_append(b, k, n);
		return;
	}
	if (literal) {
		buf_putc(b, '\'');
		buf_append(b, k, n);
		buf_putc(b, '\'');
		return;
	}
	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)k[i];

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			buf_printf(b, "\\u%04X", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

/* Spells parts [0, n) of the key just read, shortened to KEY_SHOW bytes
 * (never inside a UTF-8 sequence). With wrap, a spelling without quotes of
 * its own is put in double quotes: "a.b", but 'x y'.z as is. */
static const char *
show_key(struct parser *P, size_t n, bool wrap, char *out, size_t outlen)
{
	struct buf b;
	size_t i, len;

	buf_init(&b, 0);
	if (wrap)
		buf_putc(&b, '"');
	for (i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, '.');
		show_seg(&b, P->segs[i].ptr, P->segs[i].len);
		if (b.len > KEY_SHOW)
			break;
	}
	if (wrap && strpbrk(b.data + 1, "\"'") == NULL)
		buf_putc(&b, '"');
	else if (wrap)
		memmove(b.data, b.data + 1, b.len--);
	len = b.len;
	if (len > KEY_SHOW || len >= outlen) {
		len = KEY_SHOW < outlen - 4 ? KEY_SHOW : outlen - 4;
		while (len > 0 && ((unsigned char)b.data[len] & 0xC0) == 0x80)
			len--;
		snprintf(out, outlen, "%.*s...", (int)len, b.data);
	} else {
		snprintf(out, outlen, "%s", b.data ? b.data : "");
	}
	buf_free(&b);
	return out;
}

static const char *
a_type(enum toml_type t)
{
	switch (t) {
	case TOML_TABLE: return "a table";
	case TOML_ARRAY: return "an array";
	case TOML_STRING: return "a string";
	case TOML_INTEGER: return "an integer";
	case TOML_FLOAT: return "a float";
	case TOML_BOOL: return "a boolean";
	case TOML_DATETIME: return "an offset date-time";
	case TOML_DATETIME_LOCAL: return "a local date-time";
	case TOML_DATE_LOCAL: return "a local date";
	case TOML_TIME_LOCAL: return "a local time";
	}
	return "a value";
}

/* ------------------------------------------------- whitespace, comments */

static void
skip_ws(struct parser *P)
{
	const char *s = P->p;

	while (s < P->end && (*s == ' ' || *s == '\t'))
		s++;
	P->p = s;
}

/* At '\n' or '\r': consumes one newline (LF or CRLF). */
static int
eat_newline(struct parser *P)
{
	const char *s = P->p;

	if (*s == '\r') {
		if (s + 1 == P->end || s[1] != '\n')
			return fail_at(P, s,
			    "carriage return not followed by a line feed (lone CR)");
		s++;
	}
	P->p = s + 1;
	line_begins(P, P->p);
	return 0;
}

/* At '#': consumes the comment up to, not including, its newline. */
static int
skip_comment(struct parser *P)
{
	const char *s = P->p + 1, *e = P->end;

	while (s < e) {
		unsigned char c = (unsigned char)*s;
		size_t n;

		if ((c >= 0x20 && c < 0x7F) || c == '\t') {
			s++;
			continue;
		}
		if (c == '\n' || (c == '\r' && s + 1 < e && s[1] == '\n'))
			break;
		if (c >= 0x80) {
			P->line_ascii = false;
			if ((n = utf8_len(s, e)) == 0)
				return fail_at(P, s,
				    "invalid UTF-8 byte 0x%02X in comment", c);
			s += n;
			continue;
		}
		if (c == '\r')
			return fail_at(P, s,
			    "carriage return not followed by a line feed (lone CR)");
		return fail_at(P, s,
		    "control character U+%04X is not allowed in a comment", c);
	}
	P->p = s;
	return 0;
}

/* Skips whitespace, newlines and comments (inside arrays). */
static int
skip_blank(struct parser *P)
{
	for (;;) {
		skip_ws(P);
		if (P->p == P->end)
			return 0;
		if (*P->p == '#') {
			if (skip_comment(P) != 0)
				return -1;
		} else if (*P->p == '\n' || *P->p == '\r') {
			if (eat_newline(P) != 0)
				return -1;
		} else {
			return 0;
		}
	}
}

/* After a key/value pair or a header: only a comment may follow on the line. */
static int
expect_eol(struct parser *P, const char *after)
{
	char tmp[64];

	skip_ws(P);
	if (P->p < P->end && *P->p == '#' && skip_comment(P) != 0)
		return -1;
	if (P->p == P->end)
		return 0;
	if (*P->p == '\n' || *P->p == '\r')
		return eat_newline(P);
	return fail_at(P, P->p, "expected end of line after %s, found %s", after,
	    describe(P, P->p, tmp, sizeof tmp));
}

/* -------------------------------------------------------------- strings */

/* Where the text at input position s is stored in the document. */
static char *
text_at(const struct parser *P, const char *s)
{
	return P->doc->text + (s - P->start);
}

static void
put_utf8(char **wp, uint32_t cp)
{
	unsigned char *w = (unsigned char *)*wp;

	if (cp < 0x80) {
		*w++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*w++ = (unsigned char)(0xC0 | (cp >> 6));
		*w++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*w++ = (unsigned char)(0xE0 | (cp >> 12));
		*w++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*w++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else {
		*w++ = (unsigned char)(0xF0 | (cp >> 18));
		*w++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		*w++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*w++ = (unsigned char)(0x80 | (cp & 0x3F));
	}
	*wp = (char *)w;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends the input bytes [run, s) at *wp. */
static void
put_run(char **wp, const char *run, const char *s)
{
	size_t n = (size_t)(s - run);

	if (n) {
		memcpy(*wp, run, n);
		*wp += n;
	}
}

/* *sp is at a backslash: decodes one escape at *wp and moves both past it.
 * An escape is never shorter than the UTF-8 it stands for. */
static int
decode_escape(struct parser *P, const char **sp, char **wp)
{
	const char *s = *sp, *q = s + 1;
	char tmp[64], c;
	uint32_t cp = 0;
	int i, n;

	if (q == P->end)
		return fail_at(P, s, "unterminated string: input ends after '\\'");
	switch (*q) {
	case 'b': c = '\b'; break;
	case 't': c = '\t'; break;
	case 'n': c = '\n'; break;
	case 'f': c = '\f'; break;
	case 'r': c = '\r'; break;
	case '"': c = '"'; break;
	case '\\': c = '\\'; break;
	case 'u':
	case 'U':
		n = *q == 'u' ? 4 : 8;
		for (i = 1; i <= n; i++) {
			int h = q + i < P->end ? hexval(q[i]) : -1;

			if (h < 0)
				return fail_at(P, s,
				    "invalid escape: \\%c needs %d hex digits", *q, n);
			cp = (cp << 4) | (uint32_t)h;
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return fail_at(P, s,
			    "invalid escape \\%c%.*s: not a Unicode scalar value",
			    *q, n, q + 1);
		put_utf8(wp, cp);
		*sp = q + 1 + n;
		return 0;
	default:
		if ((unsigned char)*q > 0x20 && (unsigned char)*q < 0x7F)
			return fail_at(P, s, "invalid escape sequence '\\%c'", *q);
		return fail_at(P, s, "invalid escape: '\\' followed by %s",
		    describe(P, q, tmp, sizeof tmp));
	}
	*(*wp)++ = c;
	*sp = q + 1;
	return 0;
}

/* The bytes a string run can take without a closer look: bit 1 for basic
 * strings (printable ASCII but '"' and '\\'), bit 2 for literal strings
 * (printable ASCII and tab, but '\''). */
static const unsigned char plain_chars[256] = {
	['\t'] = 2,
	[0x20] = 3, 3, 2 /* " */, 3, 3, 3, 3, 1 /* ' */, 3, 3, 3, 3, 3, 3, 3, 3,
	[0x30] = 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	[0x40] = 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	[0x50] = 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2 /* \\ */, 3, 3, 3,
	[0x60] = 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	[0x70] = 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0 /* DEL */,
};

static bool
plain_basic(unsigned char c)
{
	return (plain_chars[c] & 1) != 0;
}

static bool
plain_literal(unsigned char c)
{
	return (plain_chars[c] & 2) != 0;
}

/* At a byte that no fast path took inside a string: a tab, a UTF-8
 * sequence, or an error. Returns the bytes consumed, or 0 after an error. */
static size_t
string_char(struct parser *P, const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n;

	if (c == '\t')
		return 1;
	if (c >= 0x80) {
		P->line_ascii = false;
		if ((n = utf8_len(s, P->end)) == 0)
			fail_at(P, s, "invalid UTF-8 byte 0x%02X in string", c);
		return n;
	}
	if (c == '\r')
		fail_at(P, s, "carriage return not followed by a line feed (lone CR)");
	else
		fail_at(P, s, "control character U+%04X must be escaped in a string", c);
	return 0;
}

/* At '"' of a one-line basic string: decodes it into the document text and
 * returns it there (NUL-terminated). */
static int
scan_basic(struct parser *P, char **out, size_t *len)
{
	const char *open = P->p, *s = open + 1, *run = s, *e = P->end;
	char *w0 = text_at(P, s), *w = w0;
	size_t n;

	for (;;) {
		while (s < e && plain_basic((unsigned char)*s))
			s++;
		if (s == e)
			return fail_at(P, open,
			    "unterminated string: expected '\"' before end of input");
		if (*s == '"')
			break;
		if (*s == '\\') {
			put_run(&w, run, s);
			if (decode_escape(P, &s, &w) != 0)
				return -1;
			run = s;
			continue;
		}
		if (*s == '\n' || *s == '\r')
			return fail_at(P, open,
			    "unterminated string: expected '\"' before end of line");
		if ((n = string_char(P, s)) == 0)
			return -1;
		s += n;
	}
	put_run(&w, run, s);
	*w = '\0';
	*out = w0;
	*len = (size_t)(w - w0);
	P->p = s + 1;
	return 0;
}

/* At '\'' of a one-line literal string: like scan_basic. */
static int
scan_literal(struct parser *P, char **out, size_t *len)
{
	const char *open = P->p, *s = open + 1, *e = P->end;
	char *w0 = text_at(P, s);
	size_t n;

	for (;;) {
		while (s < e && plain_literal((unsigned char)*s))
			s++;
		if (s == e)
			return fail_at(P, open,
			    "unterminated string: expected \"'\" before end of input");
		if (*s == '\'')
			break;
		if (*s == '\n' || *s == '\r')
			return fail_at(P, open,
			    "unterminated string: expected \"'\" before end of line");
		if ((n = string_char(P, s)) == 0)
			return -1;
		s += n;
	}
	*len = (size_t)(s - open - 1);
	memcpy(w0, open + 1, *len);
	w0[*len] = '\0';
	*out = w0;
	P->p = s + 1;
	return 0;
}

/* After a line-ending backslash, at the newline (s): skips all whitespace
 * and newlines up to the next other character, which *next gets. */
static int
skip_folded(struct parser *P, const char *s, const char **next)
{
	const char *e = P->end;

	for (;;) {
		if (s < e && (*s == ' ' || *s == '\t')) {
			s++;
		} else if (s < e && *s == '\n') {
			line_begins(P, ++s);
		} else if (e - s >= 2 && s[0] == '\r' && s[1] == '\n') {
			s += 2;
			line_begins(P, s);
		} else if (s < e && *s == '\r') {
			return fail_at(P, s, "carriage return not followed by a "
			    "line feed (lone CR)");
		} else {
			*next = s;
			return 0;
		}
	}
}

/* At the three quotes (q is '"' or '\'') that open a multi-line string:
 * like scan_basic. A newline right after the opening quotes is dropped, CRLF
 * becomes LF, and for basic strings escapes and line-ending backslashes are
 * handled. Up to two quotes may precede the closing three. */
static int
scan_multiline(struct parser *P, char q, char **out, size_t *len)
{
	struct toml_pos open = pos_at(P, P->p);
	const char *s = P->p + 3, *e = P->end, *run;
	char *w0 = text_at(P, s), *w = w0;
	bool basic = q == '"';
	size_t n;

	if (s < e && *s == '\n') {
		line_begins(P, ++s);
	} else if (e - s >= 2 && s[0] == '\r' && s[1] == '\n') {
		s += 2;
		line_begins(P, s);
	}
	run = s;
	for (;;) {
		if (basic)
			while (s < e && plain_basic((unsigned char)*s))
				s++;
		else
			while (s < e && plain_literal((unsigned char)*s))
				s++;
		if (s == e)
			return fail_pos(P, open,
			    "unterminated multi-line string: expected %s", basic ?
			    "'\"\"\"'" : "\"'''\"");
		if (*s == q) {
			n = 1;
			while (s + n < e && s[n] == q)
				n++;
			if (n < 3) {
				s += n;
				continue;
			}
			if (n > 5)
				return fail_at(P, s + 5, "too many quotes at the end "
				    "of a multi-line string (at most 5 in a row)");
			s += n - 3;
			put_run(&w, run, s);
			*w = '\0';
			*out = w0;
			*len = (size_t)(w - w0);
			P->p = s + 3;
			return 0;
		}
		if (*s == '\n') {
			line_begins(P, ++s);
			continue;
		}
		if (*s == '\r' && s + 1 < e && s[1] == '\n') {
			put_run(&w, run, s);
			*w++ = '\n';
			s += 2;
			line_begins(P, s);
			run = s;
			continue;
		}
		if (basic && *s == '\\') {
			const char *t = s + 1;

			put_run(&w, run, s);
			while (t < e && (*t == ' ' || *t == '\t'))
				t++;
			if (t < e && (*t == '\n' || *t == '\r')) {
				if (skip_folded(P, t, &s) != 0)
					return -1;
			} else if (decode_escape(P, &s, &w) != 0) {
				return -1;
			}
			run = s;
			continue;
		}
		if ((n = string_char(P, s)) == 0)
			return -1;
		s += n;
	}
}

/* ------------------------------------------------------------------ keys */

/* Reads a key (bare, quoted, or dotted of those) into P->segs, and the
 * whitespace after it. */
static int
parse_key(struct parser *P)
{
	struct keyseg *seg;
	char *text;

	P->nsegs = 0;
	for (;;) {
		const char *s = P->p;

		if (P->nsegs == TOML_MAX_DEPTH)
			return fail_at(P, s, "key has more than %d parts",
			    TOML_MAX_DEPTH);
		if (P->nsegs == P->segcap)
			P->segs = xgrow(P->segs, &P->segcap, P->nsegs + 1,
			    sizeof *P->segs);
		seg = &P->segs[P->nsegs++];
		seg->pos = pos_at(P, s);
		seg->in_text = false;
		if (s < P->end && is_bare((unsigned char)*s)) {
			while (s < P->end && is_bare((unsigned char)*s))
				s++;
			seg->ptr = P->p;
			seg->len = (size_t)(s - P->p);
			P->p = s;
		} else if (s < P->end && (*s == '"' || *s == '\'')) {
			if (P->end - s >= 3 && s[1] == *s && s[2] == *s)
				return fail_at(P, s,
				    "a multi-line string cannot be a key");
			if ((*s == '"' ? scan_basic(P, &text, &seg->len) :
			    scan_literal(P, &text, &seg->len)) != 0)
				return -1;
			seg->ptr = text;
			seg->in_text = true;
		} else {
			return fail_found(P, s, P->nsegs == 1 ? "a key" :
			    "a key after '.'");
		}
		skip_ws(P);
		if (P->p == P->end || *P->p != '.')
			return 0;
		P->p++;
		skip_ws(P);
	}
}

/* --------------------------------------------------- numbers and dates */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
digit_in(char c, int base)
{
	switch (base) {
	case 2: return c == '0' || c == '1';
	case 8: return c >= '0' && c <= '7';
	case 10: return is_digit(c);
	default: return hexval(c) >= 0;
	}
}

/* Scans digits of base with underscores only between two digits. Returns
 * the number of digits, or -1 for a misplaced underscore. */
static int
scan_digits(const char **sp, const char *e, int base)
{
	const char *s = *sp;
	int n = 0;
	bool prev = false;

	while (s < e) {
		if (digit_in(*s, base)) {
			if (n < INT_MAX)
				n++;
			prev = true;
		} else if (*s == '_') {
			if (!prev || s + 1 == e || !digit_in(s[1], base))
				return -1;
			prev = false;
		} else {
			break;
		}
		s++;
	}
	*sp = s;
	return n;
}

/* Spells an offending token in a message (at most 60 bytes of it). */
static int
tok_len(size_t len)
{
	return len > 60 ? 60 : (int)len;
}

/*
 * Converts a checked decimal float token [tok, e) to a double. Fast path
 * (Clinger): when the digits form an integer m < 2^53 and the decimal
 * exponent is within +-22, both m and 10^|exp| are exact doubles and one
 * multiplication or division rounds correctly. Anything else goes to strtod.
 */
static double
float_value(struct parser *P, const char *tok, const char *e)
{
	static const double p10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
		1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
	};
	const char *q = tok;
	uint64_t m = 0;
	bool neg = false, frac = false, exact = true, xneg = false;
	int e10 = 0, x = 0;
	char *f, *w;
	double d;

	if (*q == '+' || *q == '-')
		neg = *q++ == '-';
	for (; q < e && *q != 'e' && *q != 'E'; q++) {
		if (*q == '.') {
			frac = true;
		} else if (*q != '_') {
			if (m > (((uint64_t)1 << 53) - 10) / 10) {
				exact = false;
				break;
			}
			m = m * 10 + (uint64_t)(*q - '0');
			e10 -= frac;
		}
	}
	if (exact && q < e) {
		if (*++q == '+' || *q == '-')
			xneg = *q++ == '-';
		for (; q < e; q++)
			if (*q != '_' && x < 100000)
				x = x * 10 + (*q - '0');
		e10 += xneg ? -x : x;
	}
	if (exact && e10 >= -22 && e10 <= 22) {
		d = (double)m;
		d = e10 < 0 ? d / p10[-e10] : d * p10[e10];
		return neg ? -d : d;
	}
	/* strtod wants it without underscores: the token's place in the
	 * document text is free scratch space. */
	f = w = text_at(P, tok);
	for (q = tok; q < e; q++)
		if (*q != '_')
			*w++ = *q;
	*w = '\0';
	return strtod(f, NULL);
}

static int
parse_number(struct parser *P, struct toml_value *v)
{
	const char *tok = P->p, *e = tok, *q, *digits;
	bool neg = false, sign = false, is_float = false;
	uint64_t u = 0, limit;
	int base = 10, nd, tl;

	while (e < P->end && (is_bare((unsigned char)*e) || *e == '.' || *e == '+'))
		e++;
	tl = tok_len((size_t)(e - tok));
	q = tok;
	if (*q == '+' || *q == '-') {
		neg = *q == '-';
		sign = true;
		q++;
	}
	if (e - q == 3 && (memcmp(q, "inf", 3) == 0 || memcmp(q, "nan", 3) == 0)) {
		v->type = TOML_FLOAT;
		v->u.f = q[0] == 'i' ? (double)INFINITY : (double)NAN;
		if (neg)
			v->u.f = -v->u.f;
		P->p = e;
		return 0;
	}
	if (e - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'o' || q[1] == 'b')) {
		base = q[1] == 'x' ? 16 : q[1] == 'o' ? 8 : 2;
		if (sign)
			return fail_at(P, tok, "a sign is not allowed on a hex, octal "
			    "or binary integer: \"%.*s\"", tl, tok);
		q += 2;
	} else if (q == e || !is_digit(*q)) {
		if (!sign)
			return fail_at(P, tok, "invalid value \"%.*s\" (strings must "
			    "be quoted)", tl, tok);
		return fail_at(P, tok, "invalid number \"%.*s\"", tl, tok);
	}
	digits = q;
	if ((nd = scan_digits(&q, e, base)) < 0)
		return fail_at(P, tok, "misplaced underscore in \"%.*s\" (only "
		    "allowed between digits)", tl, tok);
	if (nd == 0 || (base != 10 && q != e))
		return fail_at(P, tok, "invalid number \"%.*s\"", tl, tok);
	if (base == 10 && digits[0] == '0' && nd > 1)
		return fail_at(P, tok, "leading zeros are not allowed: \"%.*s\"",
		    tl, tok);
	if (base == 10 && q < e && *q == '.') {
		is_float = true;
		q++;
		if ((nd = scan_digits(&q, e, 10)) <= 0)
			return fail_at(P, tok, nd < 0 ? "misplaced underscore in "
			    "\"%.*s\"" : "expected digits after '.' in \"%.*s\"",
			    tl, tok);
	}
	if (base == 10 && q < e && (*q == 'e' || *q == 'E')) {
		is_float = true;
		q++;
		if (q < e && (*q == '+' || *q == '-'))
			q++;
		if ((nd = scan_digits(&q, e, 10)) <= 0)
			return fail_at(P, tok, nd < 0 ? "misplaced underscore in "
			    "\"%.*s\"" : "expected digits in the exponent of "
			    "\"%.*s\"", tl, tok);
	}
	if (q != e)
		return fail_at(P, tok, "invalid number \"%.*s\"", tl, tok);
	P->p = e;
	if (is_float) {
		v->type = TOML_FLOAT;
		v->u.f = float_value(P, tok, e);
		return 0;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (q = digits; q < e; q++) {
		unsigned dv;

		if (*q == '_')
			continue;
		dv = (unsigned)hexval(*q);
		if (u >= (uint64_t)1 << 58 && u > (limit - dv) / (unsigned)base)
			return fail_at(P, tok, "integer \"%.*s\" is out of range "
			    "(64-bit signed)", tl, tok);
		u = u * (unsigned)base + dv;
	}
	v->type = TOML_INTEGER;
	if (neg)
		v->u.i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	else
		v->u.i = (int64_t)u;
	return 0;
}

/* Reads exactly n digits at s (bounded by e) into *out. */
static bool
fixed_digits(const char *s, const char *e, int n, int *out)
{
	int i, x = 0;

	if (e - s < n)
		return false;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*out = x;
	return true;
}

static int
days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* At a date (DDDD-) or time (DD:): reads one of the four date/time kinds. */
static int
parse_datetime(struct parser *P, struct toml_value *v)
{
	struct toml_datetime *dt = &v->u.dt;
	const char *start = P->p, *s = start, *e = P->end;
	bool has_date = false;
	int x;

	memset(dt, 0, sizeof *dt);
	if (e - s >= 5 && s[4] == '-') {
		if (!fixed_digits(s, e, 4, &dt->year) || s[4] != '-' ||
		    !fixed_digits(s + 5, e, 2, &dt->month) || e - s < 8 ||
		    s[7] != '-' || !fixed_digits(s + 8, e, 2, &dt->day))
			return fail_at(P, start, "invalid date: expected YYYY-MM-DD");
		if (dt->month < 1 || dt->month > 12)
			return fail_at(P, start, "invalid date %.10s: month must "
			    "be 01 to 12", start);
		if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
			return fail_at(P, start, "invalid date %.10s: %04d-%02d has "
			    "%d days", start, dt->year, dt->month,
			    days_in_month(dt->year, dt->month));
		s += 10;
		has_date = true;
		if (!(s < e && (*s == 'T' || *s == 't' ||
		    (*s == ' ' && s + 1 < e && is_digit(s[1]))))) {
			v->type = TOML_DATE_LOCAL;
			P->p = s;
			return 0;
		}
		s++;
	}
	if (!fixed_digits(s, e, 2, &dt->hour) || e - s < 3 || s[2] != ':' ||
	    !fixed_digits(s + 3, e, 2, &dt->minute) || e - s < 6 || s[5] != ':' ||
	    !fixed_digits(s + 6, e, 2, &dt->second))
		return fail_at(P, s, "invalid time: expected HH:MM:SS");
	if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
		return fail_at(P, s, "invalid time %.8s: expected hour 00-23, "
		    "minute 00-59, second 00-60", s);
	s += 8;
	if (s < e && *s == '.') {
		const char *f = ++s;
		size_t n;

		for (; s < e && is_digit(*s); s++)
			if (s - f < 9)
				dt->nanosecond = dt->nanosecond * 10 + (*s - '0');
		if (s == f)
			return fail_at(P, s, "expected digits after '.' in time");
		n = (size_t)(s - f);
		dt->frac_digits = n > INT_MAX ? INT_MAX : (int)n;
		for (; n < 9; n++)
			dt->nanosecond *= 10;
	}
	if (!has_date) {
		v->type = TOML_TIME_LOCAL;
	} else if (s < e && (*s == 'Z' || *s == 'z')) {
		dt->offset_z = true;
		v->type = TOML_DATETIME;
		s++;
	} else if (s < e && (*s == '+' || *s == '-')) {
		int oh, om;

		if (!fixed_digits(s + 1, e, 2, &oh) || e - s < 4 || s[3] != ':' ||
		    !fixed_digits(s + 4, e, 2, &om))
			return fail_at(P, s, "invalid time offset: expected "
			    "+HH:MM or -HH:MM");
		if (oh > 23 || om > 59)
			return fail_at(P, s, "invalid time offset %.6s", s);
		x = oh * 60 + om;
		dt->offset_minutes = *s == '-' ? -x : x;
		v->type = TOML_DATETIME;
		s += 6;
	} else {
		v->type = TOML_DATETIME_LOCAL;
	}
	P->p = s;
	return 0;
}

/* --------------------------------------------------------------- values */

static int
parse_array(struct parser *P, struct toml_value *v, int depth)
{
	struct toml_pos open = v->pos;
	struct toml_array *a;

	if (depth > TOML_MAX_DEPTH)
		return fail_at(P, P->p, "arrays and tables nested more than %d "
		    "levels deep", TOML_MAX_DEPTH);
	a = arena_zalloc(P->doc, sizeof *a);
	a->flags = ARR_STATIC;
	v->type = TOML_ARRAY;
	v->u.array = a;
	P->p++;
	for (;;) {
		if (skip_blank(P) != 0)
			return -1;
		if (P->p == P->end)
			break;
		if (*P->p == ']') {
			P->p++;
			return 0;
		}
		if (a->n == a->cap)
			a->items = vec_grow(P->doc, a->items, &a->cap,
			    sizeof *a->items);
		if (parse_value(P, &a->items[a->n++], depth) != 0)
			return -1;
		if (skip_blank(P) != 0)
			return -1;
		if (P->p == P->end)
			break;
		if (*P->p == ',') {
			P->p++;
		} else if (*P->p == ']') {
			P->p++;
			return 0;
		} else {
			return fail_found(P, P->p, "',' or ']' in array");
		}
	}
	return fail_pos(P, open, "unterminated array: expected ']' before end "
	    "of input");
}

static struct toml_value *define_keyval(struct parser *P,
    struct toml_table *base, int *depth);

static int
expect_equals(struct parser *P)
{
	char key[KEY_SHOW + 16], tmp[64];

	skip_ws(P);
	if (P->p < P->end && *P->p == '=') {
		P->p++;
		skip_ws(P);
		return 0;
	}
	return fail_at(P, P->p, "expected '=' after key %s, found %s",
	    show_key(P, P->nsegs, true, key, sizeof key),
	    describe(P, P->p, tmp, sizeof tmp));
}

static int
parse_inline_table(struct parser *P, struct toml_value *v, int depth)
{
	struct toml_table *t;

	if (depth > TOML_MAX_DEPTH)
		return fail_at(P, P->p, "arrays and tables nested more than %d "
		    "levels deep", TOML_MAX_DEPTH);
	t = table_new(P->doc, v->pos, 0);
	v->type = TOML_TABLE;
	v->u.table = t;
	P->p++;
	skip_ws(P);
	if (P->p < P->end && *P->p == '}') {
		P->p++;
		t->flags |= TBL_INLINE;
		return 0;
	}
	for (;;) {
		struct toml_value *slot;
		int d = depth;

		if (parse_key(P) != 0 || expect_equals(P) != 0)
			return -1;
		if ((slot = define_keyval(P, t, &d)) == NULL ||
		    parse_value(P, slot, d) != 0)
			return -1;
		skip_ws(P);
		if (P->p < P->end && *P->p == ',') {
			P->p++;
			skip_ws(P);
			if (P->p < P->end && *P->p == '}')
				return fail_at(P, P->p, "a trailing comma is not "
				    "allowed in an inline table");
			continue;
		}
		if (P->p < P->end && *P->p == '}')
			break;
		if (P->p == P->end || *P->p == '\n' || *P->p == '\r')
			return fail_found(P, P->p, "',' or '}' (an inline table "
			    "must be on one line)");
		return fail_found(P, P->p, "',' or '}' in inline table");
	}
	P->p++;
	t->flags |= TBL_INLINE;
	return 0;
}

/* At '"' or '\'': any of the four string forms. */
static int
parse_string(struct parser *P, struct toml_value *v)
{
	const char *s = P->p;
	int rc;

	if (P->end - s >= 3 && s[1] == *s && s[2] == *s)
		rc = scan_multiline(P, *s, &v->u.s.ptr, &v->u.s.len);
	else if (*s == '"')
		rc = scan_basic(P, &v->u.s.ptr, &v->u.s.len);
	else
		rc = scan_literal(P, &v->u.s.ptr, &v->u.s.len);
	if (rc != 0)
		return -1;
	v->type = TOML_STRING;
	return 0;
}

/* Reads one value into v. depth is that of the table or array holding v. */
static int
parse_value(struct parser *P, struct toml_value *v, int depth)
{
	const char *s = P->p, *e = P->end;

	v->pos = pos_at(P, s);
	if (s == e)
		return fail_found(P, s, "a value");
	switch (*s) {
	case '"':
	case '\'':
		return parse_string(P, v);
	case '[':
		return parse_array(P, v, depth + 1);
	case '{':
		return parse_inline_table(P, v, depth + 1);
	case 't':
		if (e - s >= 4 && memcmp(s, "true", 4) == 0) {
			v->type = TOML_BOOL;
			v->u.b = true;
			P->p += 4;
			return 0;
		}
		break;
	case 'f':
		if (e - s >= 5 && memcmp(s, "false", 5) == 0) {
			v->type = TOML_BOOL;
			v->u.b = false;
			P->p += 5;
			return 0;
		}
		break;
	default:
		break;
	}
	if (e - s >= 3 && is_digit(s[0]) && is_digit(s[1]) &&
	    (s[2] == ':' || (e - s >= 5 && is_digit(s[2]) && is_digit(s[3]) &&
	    s[4] == '-')))
		return parse_datetime(P, v);
	if (is_bare((unsigned char)*s) || *s == '+')
		return parse_number(P, v);
	return fail_found(P, s, "a value");
}

/* -------------------------------------------------------------- tables */

/*
 * For "key = value" in table base: walks and creates the tables named by all
 * but the last part of the key just read, rejects a duplicate, and appends an
 * entry for the last part. Returns the entry's value for the caller to fill
 * (it stays valid while only other tables grow), or NULL after an error.
 * *depth: in, the depth of base; out, the depth of the table holding the new
 * entry.
 */
static struct toml_value *
define_keyval(struct parser *P, struct toml_table *base, int *depth)
{
	struct toml_table *t = base, *ct;
	struct toml_keyval *kv;
	struct keyseg *seg;
	char key[KEY_SHOW + 16];
	size_t i, last = P->nsegs - 1;
	uint32_t h;
	int d = *depth;

	for (i = 0; i < last; i++) {
		seg = &P->segs[i];
		kv = table_lookup(t, seg->ptr, seg->len, &h);
		if (kv == NULL) {
			if (d + 1 > TOML_MAX_DEPTH) {
				fail_pos(P, seg->pos, "tables nested more than %d "
				    "levels deep", TOML_MAX_DEPTH);
				return NULL;
			}
			ct = table_new(P->doc, seg->pos, TBL_DOTTED);
			kv = table_add(P, t, seg, h);
			kv->value.type = TOML_TABLE;
			kv->value.u.table = ct;
			t = ct;
			d++;
			continue;
		}
		if (kv->value.type != TOML_TABLE) {
			fail_pos(P, seg->pos, "cannot use key %s as a table: it "
			    "is already %s (line %d)", show_key(P, i + 1, true,
			    key, sizeof key), a_type(kv->value.type),
			    kv->key_pos.line);
			return NULL;
		}
		ct = kv->value.u.table;
		if (ct->flags & TBL_INLINE) {
			fail_pos(P, seg->pos, "cannot add keys to inline table "
			    "%s (defined at line %d)", show_key(P, i + 1, true,
			    key, sizeof key), ct->pos.line);
			return NULL;
		}
		if (ct->flags & TBL_HEADER) {
			fail_pos(P, seg->pos, "cannot add keys to table %s with "
			    "dotted keys: it was defined by a [table] header at "
			    "line %d", show_key(P, i + 1, true, key, sizeof key),
			    ct->pos.line);
			return NULL;
		}
		if (ct->flags & TBL_IMPLICIT) {
			ct->flags = TBL_DOTTED;
			ct->pos = seg->pos;
		}
		t = ct;
		d++;
	}
	seg = &P->segs[last];
	if ((kv = table_lookup(t, seg->ptr, seg->len, &h)) != NULL) {
		fail_pos(P, seg->pos, "duplicate key %s (first defined at "
		    "line %d)", show_key(P, P->nsegs, true, key, sizeof key),
		    kv->key_pos.line);
		return NULL;
	}
	kv = table_add(P, t, seg, h);
	*depth = d;
	return &kv->value;
}

static void
aot_push(struct parser *P, struct toml_array *a, struct toml_pos pos)
{
	struct toml_value *ev;

	if (a->n == a->cap)
		a->items = vec_grow(P->doc, a->items, &a->cap, sizeof *a->items);
	ev = &a->items[a->n++];
	memset(ev, 0, sizeof *ev);
	ev->type = TOML_TABLE;
	ev->pos = pos;
	ev->u.table = table_new(P->doc, pos, TBL_HEADER);
}

/* At '[': a [table] or [[array of tables]] header. Makes it P->cur. */
static int
parse_header(struct parser *P)
{
	struct toml_pos pos = pos_at(P, P->p);
	struct toml_table *t = &P->doc->root, *ct;
	struct toml_keyval *kv;
	struct keyseg *seg;
	struct toml_array *a;
	char key[KEY_SHOW + 16];
	bool aot = P->end - P->p >= 2 && P->p[1] == '[';
	size_t i, last;
	uint32_t h;
	int d = 0;

	P->p += aot ? 2 : 1;
	skip_ws(P);
	if (parse_key(P) != 0)
		return -1;
	if (aot) {
		if (P->end - P->p < 2 || P->p[0] != ']' || P->p[1] != ']')
			return fail_found(P, P->p, "']]' to close the array of "
			    "tables header");
		P->p += 2;
	} else {
		if (P->p == P->end || *P->p != ']')
			return fail_found(P, P->p, "']' to close the table header");
		P->p++;
	}
	last = P->nsegs - 1;
	for (i = 0; i <= last; i++) {
		seg = &P->segs[i];
		if (d + 2 > TOML_MAX_DEPTH)
			return fail_pos(P, seg->pos, "tables nested more than %d "
			    "levels deep", TOML_MAX_DEPTH);
		kv = table_lookup(t, seg->ptr, seg->len, &h);
		if (kv == NULL) {
			kv = table_add(P, t, seg, h);
			if (i == last && aot) {
				a = arena_zalloc(P->doc, sizeof *a);
				a->flags = ARR_TABLES;
				kv->value.pos = pos;
				kv->value.type = TOML_ARRAY;
				kv->value.u.array = a;
				aot_push(P, a, pos);
				t = a->items[0].u.table;
				d += 2;
				break;
			}
			ct = table_new(P->doc, i == last ? pos : seg->pos,
			    i == last ? TBL_HEADER : TBL_IMPLICIT);
			kv->value.pos = ct->pos;
			kv->value.type = TOML_TABLE;
			kv->value.u.table = ct;
			t = ct;
			d++;
			continue;
		}
		if (kv->value.type == TOML_ARRAY &&
		    (kv->value.u.array->flags & ARR_TABLES)) {
			a = kv->value.u.array;
			if (i == last && !aot)
				return fail_pos(P, pos, "table [%s] conflicts with "
				    "the array of tables defined at line %d",
				    show_key(P, P->nsegs, false, key, sizeof key),
				    kv->value.pos.line);
			if (i == last)
				aot_push(P, a, pos);
			t = a->items[a->n - 1].u.table;
			d += 2;
			continue;
		}
		if (kv->value.type == TOML_ARRAY && i == last && aot)
			return fail_pos(P, pos, "cannot append to array %s with "
			    "[[...]]: it is a static array (line %d)", show_key(P,
			    P->nsegs, true, key, sizeof key), kv->key_pos.line);
		if (kv->value.type != TOML_TABLE || i < last) {
			if (kv->value.type != TOML_TABLE)
				return fail_pos(P, seg->pos, "cannot use key %s as a "
				    "table: it is already %s (line %d)", show_key(P,
				    i + 1, true, key, sizeof key),
				    a_type(kv->value.type), kv->key_pos.line);
			ct = kv->value.u.table;
			if (ct->flags & TBL_INLINE)
				return fail_pos(P, seg->pos, "cannot add to inline "
				    "table %s (defined at line %d)", show_key(P,
				    i + 1, true, key, sizeof key), ct->pos.line);
			t = ct;
			d++;
			continue;
		}
		ct = kv->value.u.table;
		show_key(P, P->nsegs, false, key, sizeof key);
		if (aot)
			return fail_pos(P, pos, "cannot define [[%s]]: it is already "
			    "a table (line %d)", key, ct->pos.line);
		if (ct->flags & TBL_INLINE)
			return fail_pos(P, pos, "table [%s] defined twice (first "
			    "as an inline table at line %d)", key, ct->pos.line);
		if (ct->flags & TBL_HEADER)
			return fail_pos(P, pos, "table [%s] defined twice (first at "
			    "line %d)", key, ct->pos.line);
		if (ct->flags & TBL_DOTTED)
			return fail_pos(P, pos, "table [%s] defined twice (first by "
			    "dotted keys at line %d)", key, ct->pos.line);
		ct->flags = TBL_HEADER;
		ct->pos = pos;
		kv->value.pos = pos;
		t = ct;
		d++;
	}
	P->cur = t;
	P->cur_depth = d;
	return 0;
}

static int
parse_keyval_line(struct parser *P)
{
	struct toml_value *slot;
	int d = P->cur_depth;

	if (parse_key(P) != 0 || expect_equals(P) != 0)
		return -1;
	if ((slot = define_keyval(P, P->cur, &d)) == NULL)
		return -1;
	return parse_value(P, slot, d);
}

static int
parse_document(struct parser *P)
{
	while (P->p < P->end) {
		skip_ws(P);
		if (P->p == P->end)
			break;
		switch (*P->p) {
		case '\n':
		case '\r':
			if (eat_newline(P) != 0)
				return -1;
			break;
		case '#':
			if (skip_comment(P) != 0)
				return -1;
			break;
		case '[':
			if (parse_header(P) != 0 ||
			    expect_eol(P, "the table header") != 0)
				return -1;
			break;
		default:
			if (parse_keyval_line(P) != 0 ||
			    expect_eol(P, "the value") != 0)
				return -1;
			break;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ API */

struct toml_doc *
toml_parse(const char *data, size_t len, struct toml_error *err)
{
	struct parser P;
	struct toml_doc *doc;
	int rc;

	memset(&P, 0, sizeof P);
	doc = xcalloc(1, sizeof *doc);
	doc->next_chunk = CHUNK_FIRST;
	doc->root.flags = TBL_HEADER;
	doc->root.pos.line = doc->root.pos.col = 1;
	if (data == NULL)
		data = "";
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	doc->text = xmalloc(len + 1);
	P.start = P.p = P.line_start = P.col_ptr = data;
	P.end = data + len;
	P.line = P.col = 1;
	P.line_ascii = true;
	P.doc = doc;
	P.err = err;
	P.cur = &doc->root;
	if (err != NULL)
		memset(err, 0, sizeof *err);
	rc = parse_document(&P);
	free(P.segs);
	if (rc != 0) {
		toml_free(doc);
		return NULL;
	}
	return doc;
}

void
toml_free(struct toml_doc *doc)
{
	struct toml_chunk *c, *cnext;
	struct toml_big *b, *bnext;

	if (doc == NULL)
		return;
	for (c = doc->chunks; c != NULL; c = cnext) {
		cnext = c->next;
		free(c);
	}
	for (b = doc->big; b != NULL; b = bnext) {
		bnext = b->next;
		free(b);
	}
	free(doc->text);
	free(doc);
}

const struct toml_table *
toml_root(const struct toml_doc *doc)
{
	return &doc->root;
}

const struct toml_keyval *
toml_table_find(const struct toml_table *t, const char *key, size_t keylen)
{
	uint32_t h;

	if (t == NULL || (key == NULL && keylen != 0))
		return NULL;
	return table_lookup(t, key != NULL ? key : "", keylen, &h);
}

const struct toml_value *
toml_table_get(const struct toml_table *t, const char *key)
{
	const struct toml_keyval *kv;

	if (key == NULL)
		return NULL;
	kv = toml_table_find(t, key, strlen(key));
	return kv != NULL ? &kv->value : NULL;
}

const char *
toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_TABLE: return "table";
	case TOML_ARRAY: return "array";
	case TOML_STRING: return "string";
	case TOML_INTEGER: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOL: return "boolean";
	case TOML_DATETIME: return "offset date-time";
	case TOML_DATETIME_LOCAL: return "local date-time";
	case TOML_DATE_LOCAL: return "local date";
	case TOML_TIME_LOCAL: return "local time";
	}
	return "unknown";
}

int
toml_datetime_format(const struct toml_value *v, char *out, size_t outlen)
{
	const struct toml_datetime *dt = &v->u.dt;
	char frac[16] = "", off[8] = "Z";
	int digits, div = 1, i;

	if (dt->frac_digits > 0) {
		digits = dt->frac_digits < 9 ? dt->frac_digits : 9;
		for (i = digits; i < 9; i++)
			div *= 10;
		snprintf(frac, sizeof frac, ".%0*d", digits, dt->nanosecond / div);
	}
	if (v->type == TOML_DATETIME && !dt->offset_z) {
		int m = dt->offset_minutes < 0 ? -dt->offset_minutes :
		    dt->offset_minutes;

		snprintf(off, sizeof off, "%c%02d:%02d",
		    dt->offset_minutes < 0 ? '-' : '+', m / 60 % 100, m % 60);
	}
	switch (v->type) {
	case TOML_DATE_LOCAL:
		return snprintf(out, outlen, "%04d-%02d-%02d", dt->year,
		    dt->month, dt->day);
	case TOML_TIME_LOCAL:
		return snprintf(out, outlen, "%02d:%02d:%02d%s", dt->hour,
		    dt->minute, dt->second, frac);
	case TOML_DATETIME_LOCAL:
	case TOML_DATETIME:
		return snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%s%s",
		    dt->year, dt->month, dt->day, dt->hour, dt->minute,
		    dt->second, frac, v->type == TOML_DATETIME ? off : "");
	default:
		return -1;
	}
}
