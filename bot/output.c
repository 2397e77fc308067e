/*
 * output.c - splits long text into chat-sized chunks without breaking UTF-8
 * sequences or code fences, and caps the number of chunks with a notice of
 * what was cut.
 *
 * One pass finds the lines and the code fence in effect before each line;
 * a greedy pass then packs whole lines into chunks (splitting a line only
 * when it cannot fit on its own), recording each chunk as a range of the
 * input plus the fence it reopens and closes. Rendering happens last, so
 * that the cap can replace the middle chunks by one tail chunk.
 */
#include "output.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct line {
	size_t off, len;                /* len includes the '\n', if any */
	size_t units;                   /* the whole line, '\n' included */
	long before;                    /* fence in effect before the line, -1 none */
};

struct fence {
	size_t line;                    /* the opening line */
	size_t ticks;                   /* backticks in the opening marker */
	size_t info_off, info_len;      /* info string, trimmed */
	bool repair;                    /* close/reopen at chunk edges */
	bool keep_info;                 /* reopen with the info string */
	size_t pre_units, post_units;   /* "```info\n" and "\n```" */
};

struct rec {
	size_t start, end;              /* input range */
	long open, close;               /* fence reopened at start / closed at end */
};

struct ctx {
	const char *s;
	size_t n;
	enum output_unit unit;
	size_t max;
	struct line *lines;
	size_t nlines, linecap;
	struct fence *fences;
	size_t nfences, fencecap;
	long final_state;               /* fence in effect at the end of the text */
	struct rec *recs;
	size_t nrecs, reccap;
};

/* ---- characters and units ----------------------------------------------- */

/* Bytes in the character at s[i] (i < n): a well-formed-looking UTF-8
 * sequence, or 1 for a byte that does not start one. */
static size_t
char_len(const char *s, size_t i, size_t n)
{
	unsigned char c = (unsigned char)s[i];
	size_t need, k;

	if (c < 0xC2)
		return 1;
	else if (c < 0xE0)
		need = 2;
	else if (c < 0xF0)
		need = 3;
	else if (c < 0xF5)
		need = 4;
	else
		return 1;
	if (i + need > n)
		return 1;
	for (k = 1; k < need; k++)
		if (((unsigned char)s[i + k] & 0xC0) != 0x80)
			return 1;
	return need;
}

size_t
output_measure(const char *s, size_t n, enum output_unit unit)
{
	size_t i = 0, u = 0;

	if (unit == OUTPUT_BYTES)
		return n;
	while (i < n) {
		i += char_len(s, i, n);
		u++;
	}
	return u;
}

static size_t
units(const struct ctx *c, size_t a, size_t b)
{
	size_t i = a, u = 0;

	if (c->unit == OUTPUT_BYTES)
		return b - a;
	while (i < b) {
		i += char_len(c->s, i, b);
		u++;
	}
	return u;
}

/* units(a, b), but stops counting once past limit (returns limit + 1). */
static size_t
units_upto(const struct ctx *c, size_t a, size_t b, size_t limit)
{
	size_t i = a, u = 0;

	if (c->unit == OUTPUT_BYTES)
		return b - a;
	while (i < b && u <= limit) {
		i += char_len(c->s, i, b);
		u++;
	}
	return u;
}

/* ---- lines and fences --------------------------------------------------- */

static size_t
fence_pre(const struct ctx *c, long f)
{
	return f >= 0 && c->fences[f].repair ? c->fences[f].pre_units : 0;
}

static size_t
fence_post(const struct ctx *c, long f)
{
	return f >= 0 && c->fences[f].repair ? c->fences[f].post_units : 0;
}

static long
after(const struct ctx *c, size_t li)
{
	return li + 1 < c->nlines ? c->lines[li + 1].before : c->final_state;
}

static bool
is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Updates *state with the fence effect of line li. */
static void
scan_fence(struct ctx *c, size_t li, long *state)
{
	const struct line *l = &c->lines[li];
	const char *p = c->s + l->off;
	size_t n = l->len, i = 0, k = 0, r;
	struct fence *f;

	if (n > 0 && p[n - 1] == '\n')
		n--;
	while (i < 3 && i < n && p[i] == ' ')
		i++;
	while (i + k < n && p[i + k] == '`')
		k++;
	if (k < 3)
		return;
	r = i + k;
	if (*state >= 0) {
		if (k < c->fences[*state].ticks)
			return;
		for (; r < n; r++)
			if (!is_ws(p[r]))
				return;
		*state = -1;
		return;
	}
	if (memchr(p + r, '`', n - r) != NULL)
		return;                 /* ```inline``` */
	while (r < n && is_ws(p[r]))
		r++;
	while (n > r && is_ws(p[n - 1]))
		n--;
	c->fences = xgrow(c->fences, &c->fencecap, c->nfences + 1, sizeof(*c->fences));
	f = &c->fences[c->nfences];
	f->line = li;
	f->ticks = k;
	f->info_off = l->off + r;
	f->info_len = n - r;
	f->keep_info = true;
	f->repair = true;
	f->post_units = 1 + k;
	f->pre_units = k + units(c, f->info_off, f->info_off + f->info_len) + 1;
	/* The repair must leave most of a chunk for the text itself. */
	if (f->pre_units + f->post_units > c->max / 2) {
		f->keep_info = false;
		f->pre_units = k + 1;
		if (f->pre_units + f->post_units > c->max / 2)
			f->repair = false;
	}
	*state = (long)c->nfences++;
}

static void
scan_lines(struct ctx *c)
{
	size_t off = 0;
	long state = -1;

	while (off < c->n) {
		const char *nl = memchr(c->s + off, '\n', c->n - off);
		size_t len = nl ? (size_t)(nl - (c->s + off)) + 1 : c->n - off;
		struct line *l;

		c->lines = xgrow(c->lines, &c->linecap, c->nlines + 1, sizeof(*c->lines));
		l = &c->lines[c->nlines];
		l->off = off;
		l->len = len;
		l->units = units(c, off, off + len);
		l->before = state;
		scan_fence(c, c->nlines, &state);
		c->nlines++;
		off += len;
	}
	c->final_state = state;
}

/* ---- packing ------------------------------------------------------------ */

static void
add_rec(struct ctx *c, size_t start, size_t end, long open, long close)
{
	struct rec *r;

	c->recs = xgrow(c->recs, &c->reccap, c->nrecs + 1, sizeof(*c->recs));
	r = &c->recs[c->nrecs++];
	r->start = start;
	r->end = end;
	r->open = open;
	r->close = close;
}

/*
 * Where to cut s[from..to) so that the first part holds at most avail units:
 * after the last blank in the second half of that part if there is one, else
 * at the last character boundary that fits. Always makes progress, and stays
 * before `to` when it can.
 */
static size_t
cut_forward(const struct ctx *c, size_t from, size_t to, size_t avail)
{
	size_t i = from, u = 0, prev = from, space = 0;

	while (i < to) {
		size_t cl = char_len(c->s, i, to);
		size_t cu = c->unit == OUTPUT_BYTES ? cl : 1;

		if (u + cu > avail)
			break;
		prev = i;
		i += cl;
		u += cu;
		if ((c->s[i - cl] == ' ' || c->s[i - cl] == '\t') && u >= avail / 2)
			space = i;
	}
	if (i >= to) {
		/* It all fits: only reached when the line could not end here
		 * (its fence state would not fit); keep the last character. */
		return prev > from ? prev : to;
	}
	if (space > from)
		return space;
	return i > from ? i : from + char_len(c->s, from, to);
}

/* true if line j, whole, fits in a chunk of its own. */
static bool
fits_alone(const struct ctx *c, size_t j)
{
	const struct line *l = &c->lines[j];
	size_t lend = l->off + l->len;
	bool nl = c->s[lend - 1] == '\n';

	return fence_pre(c, l->before) + l->units - (nl ? 1 : 0) +
	    (lend < c->n ? fence_post(c, after(c, j)) : 0) <= c->max;
}

static void
pack(struct ctx *c)
{
	size_t pos = 0, li = 0;

	while (pos < c->n) {
		long f;
		size_t budget, used = 0, j, end = pos, from = pos;

		while (pos >= c->lines[li].off + c->lines[li].len)
			li++;
		f = c->lines[li].before;
		budget = c->max - fence_pre(c, f);
		/* Whole lines (the first may be the rest of a split one). */
		for (j = li; j < c->nlines; j++) {
			const struct line *l = &c->lines[j];
			size_t lend = l->off + l->len;
			bool nl = c->s[lend - 1] == '\n';
			size_t u, cost;

			from = pos > l->off ? pos : l->off;
			u = from == l->off ? l->units :
			    units_upto(c, from, lend, budget + 1);
			cost = used + u - (nl ? 1 : 0) +
			    (lend < c->n ? fence_post(c, after(c, j)) : 0);
			if (cost > budget)
				break;
			used += u;
			end = lend;
		}
		/*
		 * Line j has to be split if it cannot fit in a chunk of its
		 * own: start it here if a fair part of the chunk is left (or
		 * the chunk is empty). Until the split, its fence state is the
		 * one before it.
		 */
		if (j < c->nlines && (end == pos || !fits_alone(c, j))) {
			const struct line *l = &c->lines[j];
			long fj = l->before;
			size_t cend = l->off + l->len, post = fence_post(c, fj);

			if (c->s[cend - 1] == '\n')
				cend--;
			if (end == pos || used + post + c->max / 4 <= budget) {
				size_t cut = cut_forward(c, from,
				    cend > from ? cend : from + 1,
				    budget - used - post);

				add_rec(c, pos, cut, f, fj);
				pos = cut;
				continue;
			}
		}
		/* An opening line would end this chunk with an empty block:
		 * move it to the next one. */
		if (j < c->nlines && j - 1 > li && after(c, j - 1) >= 0 &&
		    c->fences[after(c, j - 1)].line == j - 1) {
			j--;
			end = c->lines[j].off;
		}
		add_rec(c, pos, end, f, end < c->n ? after(c, j - 1) : -1);
		pos = end;
	}
}

/* ---- rendering ---------------------------------------------------------- */

static bool
blank(const struct ctx *c, size_t a, size_t b)
{
	for (; a < b; a++)
		if (!is_ws(c->s[a]) && c->s[a] != '\n')
			return false;
	return true;
}

static void
put_pre(const struct ctx *c, struct buf *b, long f)
{
	const struct fence *fe;
	size_t k;

	if (f < 0 || !c->fences[f].repair)
		return;
	fe = &c->fences[f];
	for (k = 0; k < fe->ticks; k++)
		buf_putc(b, '`');
	if (fe->keep_info)
		buf_append(b, c->s + fe->info_off, fe->info_len);
	buf_putc(b, '\n');
}

static void
put_post(const struct ctx *c, struct buf *b, long f)
{
	size_t k;

	if (f < 0 || !c->fences[f].repair)
		return;
	buf_putc(b, '\n');
	for (k = 0; k < c->fences[f].ticks; k++)
		buf_putc(b, '`');
}

static void
put_range(const struct ctx *c, struct buf *b, size_t start, size_t end)
{
	if (end > start && c->s[end - 1] == '\n')
		end--;
	buf_append(b, c->s + start, end - start);
}

static void
emit(struct output_chunks *out, size_t *cap, struct buf *b)
{
	size_t len = b->len;

	out->v = xgrow(out->v, cap, out->n + 1, sizeof(*out->v));
	out->len = xrealloc(out->len, *cap * sizeof(*out->len));
	out->v[out->n] = buf_steal(b);
	out->len[out->n] = len;
	out->n++;
}

/* 1234567 -> "1,234,567" */
static void
fmt_thousands(char *dst, size_t dstlen, size_t v)
{
	char tmp[32];
	size_t n, i, o = 0;

	n = (size_t)snprintf(tmp, sizeof(tmp), "%zu", v);
	for (i = 0; i < n && o + 1 < dstlen; i++) {
		if (i > 0 && (n - i) % 3 == 0 && o + 2 < dstlen)
			dst[o++] = ',';
		dst[o++] = tmp[i];
	}
	dst[o] = '\0';
}

static char *
notice_text(size_t lines, size_t bytes)
{
	char nl[32], sz[48];

	fmt_thousands(nl, sizeof(nl), lines);
	if (bytes < 1024) {
		snprintf(sz, sizeof(sz), "%zu %s", bytes, bytes == 1 ? "byte" : "bytes");
	} else if (bytes < 1024 * 1024) {
		fmt_thousands(sz, sizeof(sz), (bytes + 512) / 1024);
		strcat(sz, " KB");
	} else {
		snprintf(sz, sizeof(sz), "%.1f MB", (double)bytes / (1024.0 * 1024.0));
	}
	return xasprintf("\xE2\x80\xA6 %s %s (%s) cut \xE2\x80\xA6", nl,
	    lines == 1 ? "line" : "lines", sz);
}

static size_t
count_lines(const struct ctx *c, size_t a, size_t b)
{
	size_t n = 0, i;

	for (i = a; i < b; i++)
		n += c->s[i] == '\n';
	if (b > a && c->s[b - 1] != '\n')
		n++;
	return n;
}

static size_t
line_at(const struct ctx *c, size_t off)
{
	size_t lo = 0, hi = c->nlines;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->lines[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Where the tail chunk starts: as many whole lines from the end as fit
 * after the notice (reserve units) and the reopened fence, or else the end
 * of the last line.
 */
static size_t
tail_start(const struct ctx *c, size_t head_end, size_t reserve, bool *reopen)
{
	size_t best = c->n, used = 0, j = c->nlines, strip;
	const struct line *last = &c->lines[c->nlines - 1];

	strip = c->s[c->n - 1] == '\n' ? 1 : 0;
	*reopen = true;
	while (j-- > 0) {
		const struct line *l = &c->lines[j];

		if (l->off < head_end)
			break;
		used += l->units;
		if (reserve + fence_pre(c, l->before) + used - strip > c->max)
			break;
		best = l->off;
	}
	if (best < c->n)
		return best;
	/* Part of the last line: the end of it. */
	{
		size_t from = last->off > head_end ? last->off : head_end;
		size_t cend = c->n - strip, total, avail, skip, i, u = 0;
		size_t hard = cend, pre = fence_pre(c, last->before);

		if (reserve + pre + 8 > c->max) {
			*reopen = false;
			pre = 0;
		}
		avail = c->max - reserve - pre;
		total = units(c, from, cend);
		skip = total > avail ? total - avail : 0;
		for (i = from; i < cend; ) {
			size_t cl = char_len(c->s, i, cend);

			if (u >= skip && hard == cend)
				hard = i;
			if (hard != cend && u > skip + avail / 2)
				break;
			i += cl;
			u += c->unit == OUTPUT_BYTES ? cl : 1;
			if (hard != cend && (c->s[i - cl] == ' ' || c->s[i - cl] == '\t'))
				return i;
		}
		return hard;
	}
}

static void
render_capped(struct ctx *c, const struct output_opts *o,
    struct output_chunks *out, size_t *cap)
{
	size_t h = o->max_chunks - 1, kept = 0, head_end = 0, i, ts, reserve;
	struct buf b;
	bool reopen;
	char *notice;
	long f;

	buf_init(&b, 0);
	for (i = 0; i < c->nrecs && kept < h; i++) {
		const struct rec *r = &c->recs[i];

		head_end = r->end;
		if (blank(c, r->start, r->end))
			continue;
		put_pre(c, &b, r->open);
		put_range(c, &b, r->start, r->end);
		put_post(c, &b, r->close);
		emit(out, cap, &b);
		kept++;
	}
	/* The notice is sized for the most that could be cut; the real one
	 * is shorter, or longer by at most a unit change ("1,023 bytes"). */
	notice = notice_text(count_lines(c, head_end, c->n), c->n - head_end);
	reserve = output_measure(notice, strlen(notice), c->unit) + 8 + 1;
	free(notice);
	ts = tail_start(c, head_end, reserve, &reopen);
	if (ts < head_end)
		ts = head_end;
	out->cut_bytes = ts - head_end;
	out->cut_lines = count_lines(c, head_end, ts);
	if (out->cut_bytes > 0) {
		notice = notice_text(out->cut_lines, out->cut_bytes);
		buf_puts(&b, notice);
		buf_putc(&b, '\n');
		free(notice);
	}
	/* Mid-line or at its start, the fence in effect is the line's. */
	if (reopen && ts < c->n) {
		f = c->lines[line_at(c, ts)].before;
		put_pre(c, &b, f);
	}
	put_range(c, &b, ts, c->n);
	emit(out, cap, &b);
	buf_free(&b);
}

int
output_split(const char *text, size_t len, const struct output_opts *o,
    struct output_chunks *out, char *err, size_t errlen)
{
	struct ctx c;
	size_t cap = 0, i, nonblank = 0;
	struct buf b;

	memset(out, 0, sizeof(*out));
	if (o->max < OUTPUT_MIN_MAX)
		return ack_err(err, errlen, "chunk size %zu is below the minimum of %d",
		    o->max, OUTPUT_MIN_MAX);
	if (o->max_chunks != 0 && o->max < 4 * OUTPUT_MIN_MAX)
		return ack_err(err, errlen,
		    "chunk size %zu is below the minimum of %d with a chunk cap",
		    o->max, 4 * OUTPUT_MIN_MAX);
	if (len == 0)
		return 0;
	memset(&c, 0, sizeof(c));
	c.s = text;
	c.n = len;
	c.unit = o->unit;
	c.max = o->max;
	scan_lines(&c);
	pack(&c);

	for (i = 0; i < c.nrecs; i++)
		nonblank += !blank(&c, c.recs[i].start, c.recs[i].end);
	if (o->max_chunks != 0 && nonblank > o->max_chunks) {
		render_capped(&c, o, out, &cap);
	} else {
		buf_init(&b, 0);
		for (i = 0; i < c.nrecs; i++) {
			const struct rec *r = &c.recs[i];

			if (blank(&c, r->start, r->end))
				continue;
			put_pre(&c, &b, r->open);
			put_range(&c, &b, r->start, r->end);
			put_post(&c, &b, r->close);
			emit(out, &cap, &b);
		}
		buf_free(&b);
	}
	free(c.lines);
	free(c.fences);
	free(c.recs);
	return 0;
}

void
output_chunks_free(struct output_chunks *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	free(c->len);
	memset(c, 0, sizeof(*c));
}
