/*
 * alias_format.c - compiles one StackStorm alias format to a PCRE2 regex and
 * extracts parameters from a command (st2-alias/spec.md §3-§6).
 *
 * Compilation, in order:
 *   1. find the placeholders with the same regexes st2 uses (one scan: at
 *      each position an optional placeholder is tried before a required one,
 *      which is what st2's two re.sub passes amount to);
 *   2. emit the regex: literal text verbatim, `{{a}}` as WS VALUE(a) and
 *      `{{a=d}}` as (?:WS VALUE(a))? where WS is the whitespace that preceded
 *      the placeholder in the format;
 *   3. one token scan of that regex (outside character classes) that finds
 *      the user's anchors and translates the few Python-only spellings;
 *   4. add ^\s* and \s*$ unless the format has its own anchors;
 *   5. pcre2_compile with UTF, UCP and DOTALL, then JIT.
 *
 * A second "relaxed" regex, in which required placeholders are optional too,
 * is compiled for formats that have required placeholders: it lets a
 * trailing pair fill a required parameter ("pack get pack=core", hubot
 * issue #182).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "alias_format.h"

#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_LIMIT 5000000
#define SCAN_LIMIT 1000000

struct afmt_param {
	char *name;
	char *defval;           /* NULL when required */
	size_t off;             /* where its "{{" is in the format */
};

struct afmt_group {
	char *name;
	uint32_t num;
	int param;              /* index in params, or -1 for a regex group */
};

struct afmt {
	char *src;
	size_t srclen;
	char *regex;
	pcre2_code *re;
	pcre2_code *relaxed;
	bool jit, relaxed_jit;
	bool multiple;
	struct afmt_param *params;
	size_t nparams;
	struct afmt_group *groups;
	size_t ngroups;
	uint32_t ovec_pairs;
	char *lead;
	size_t lead_len;
	bool lead_ci;
	char *sample;           /* a command it should match, or NULL */
};

struct afmt_scratch {
	pcre2_match_data *md;
	uint32_t md_pairs;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	struct buf stream;
	struct apairs pairs;
};

/* ------------------------------------------------------------------ */
/* Step 1: placeholders                                                */

/* st2's snippets: key \s*(\S+?)\s*, default \s*=\s*(?:ext_value)\s*, with
 * ext_value ""|''|"(.+?)"|'(.+?)'|({.+?})|(.+?). DOTALL throughout: st2's
 * substitution scan lets `.` stop at newlines while its collection scan does
 * not, so a default with a newline is recorded but never substituted (Q15);
 * here both see the same thing. */
static const char scan_pattern[] =
    "(\\s*)(?:"
    "\\{\\{\\s*(\\S+?)\\s*\\s*=\\s*"
    "(?:\"\"|''|\"(.+?)\"|'(.+?)'|(\\{.+?\\})|(.+?))\\s*\\}\\}"
    "|\\{\\{\\s*(\\S+?)\\s*\\}\\})";

static pcre2_code *scan_re;
static pcre2_compile_context *ccontext;

static pcre2_compile_context *
compile_context(void)
{
	if (ccontext == NULL) {
		ccontext = pcre2_compile_context_create(NULL);
		if (ccontext == NULL)
			abort();
		pcre2_set_newline(ccontext, PCRE2_NEWLINE_LF);
	}
	return ccontext;
}

static pcre2_code *
scanner(void)
{
	int ec;
	PCRE2_SIZE eo;

	if (scan_re == NULL) {
		scan_re = pcre2_compile((PCRE2_SPTR)scan_pattern, PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF | PCRE2_UCP | PCRE2_DOTALL, &ec, &eo, compile_context());
		if (scan_re == NULL)
			abort();
	}
	return scan_re;
}

enum tok_kind { TOK_LIT, TOK_OPT, TOK_REQ };

struct tok {
	enum tok_kind kind;
	size_t off, len;        /* literal: the text; placeholder: the whole match */
	size_t ws_off, ws_len;  /* placeholder: the whitespace before it */
	int param;              /* placeholder: index in params */
};

struct toks {
	struct tok *v;
	size_t n, cap;
};

static void
toks_add(struct toks *t, struct tok k)
{
	t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof *t->v);
	t->v[t->n++] = k;
}

static int
fail(struct afmt_error *err, size_t off, const char *fmt, ...) ACK_PRINTF(3, 4);

static int
fail(struct afmt_error *err, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->offset = off;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
add_param(struct afmt *f, const char *name, size_t nlen, const char *def,
    size_t dlen, bool optional, size_t off, struct afmt_error *err)
{
	size_t i;

	if (!alias_name_valid(name, nlen))
		return fail(err, off, "bad parameter name '%.*s': use letters, "
		    "digits and _, not starting with a digit", (int)nlen, name);
	if (nlen > AFMT_MAX_NAME)
		return fail(err, off, "parameter name '%.*s' is longer than %d "
		    "characters", (int)nlen, name, AFMT_MAX_NAME);
	for (i = 0; i < f->nparams; i++)
		if (strlen(f->params[i].name) == nlen &&
		    memcmp(f->params[i].name, name, nlen) == 0)
			return fail(err, off, "parameter '%.*s' is used twice",
			    (int)nlen, name);
	f->params = xrealloc(f->params, (f->nparams + 1) * sizeof *f->params);
	f->params[f->nparams].name = xstrndup(name, nlen);
	f->params[f->nparams].defval = optional ? xstrndup(def, dlen) : NULL;
	f->params[f->nparams].off = off;
	f->nparams++;
	return 0;
}

static int
scan_placeholders(struct afmt *f, struct toks *t, struct afmt_error *err)
{
	const char *s = f->src;
	size_t n = f->srclen, pos = 0;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	int rc, ret = 0;

	md = pcre2_match_data_create_from_pattern(scanner(), NULL);
	mc = pcre2_match_context_create(NULL);
	if (md == NULL || mc == NULL)
		abort();
	pcre2_set_match_limit(mc, SCAN_LIMIT);
	while (pos <= n) {
		PCRE2_SIZE *ov;
		struct tok k;
		int g;

		rc = pcre2_match(scanner(), (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, mc);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			ret = fail(err, pos, "format too complex to scan for placeholders");
			goto out;
		}
		ov = pcre2_get_ovector_pointer(md);
		if (ov[0] > pos)
			toks_add(t, (struct tok){ .kind = TOK_LIT, .off = pos, .len = ov[0] - pos });
		memset(&k, 0, sizeof k);
		k.ws_off = ov[2];
		k.ws_len = ov[3] - ov[2];
		k.off = ov[3];          /* the "{{" */
		k.len = ov[1] - ov[3];
		if (ov[4] != PCRE2_UNSET) {
			/* optional: the default is whichever of groups 3-6 took part
			 * ("" and '' leave them all out: the empty default) */
			const char *d = "";
			size_t dl = 0;

			for (g = 3; g <= 6; g++)
				if (ov[2 * g] != PCRE2_UNSET) {
					d = s + ov[2 * g];
					dl = ov[2 * g + 1] - ov[2 * g];
				}
			k.kind = TOK_OPT;
			if (add_param(f, s + ov[4], ov[5] - ov[4], d, dl, true, k.off, err) < 0) {
				ret = -1;
				goto out;
			}
		} else {
			k.kind = TOK_REQ;
			if (add_param(f, s + ov[14], ov[15] - ov[14], NULL, 0, false, k.off, err) < 0) {
				ret = -1;
				goto out;
			}
		}
		k.param = (int)f->nparams - 1;
		toks_add(t, k);
		pos = ov[1];
	}
	if (pos < n)
		toks_add(t, (struct tok){ .kind = TOK_LIT, .off = pos, .len = n - pos });
out:
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Step 2: emit the regex, with a map from each byte to the format      */

struct gen {
	struct buf out;
	size_t *map;
	size_t mapcap;
};

static void
gen_init(struct gen *g)
{
	buf_init(&g->out, 0);
	g->map = NULL;
	g->mapcap = 0;
}

static void
gen_free(struct gen *g)
{
	buf_free(&g->out);
	free(g->map);
}

/* Appends n bytes; each maps to src (+ i when step). */
static void
gen_put(struct gen *g, const char *s, size_t n, size_t src, bool step)
{
	size_t i, at = g->out.len;

	buf_append(&g->out, s, n);
	g->map = xgrow(g->map, &g->mapcap, at + n + 1, sizeof *g->map);
	for (i = 0; i < n; i++)
		g->map[at + i] = step ? src + i : src;
}

static void
gen_str(struct gen *g, const char *s, size_t src)
{
	gen_put(g, s, strlen(s), src, false);
}

/* VALUE(name), spec §3.2: an optional quote, the group (text between quotes,
 * a {...} block, or the shortest run of anything), an optional quote. */
static void
gen_value(struct gen *g, const char *name, size_t src)
{
	gen_str(g, "[\"']?(?P<", src);
	gen_str(g, name, src);
	gen_str(g, ">(?:(?<=').+?(?=')|(?<=\").+?(?=\")|\\{.+?\\}|.+?))[\"']?", src);
}

static void
emit(const struct afmt *f, const struct toks *t, bool relaxed, struct gen *g)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct tok *k = &t->v[i];
		bool wrap = k->kind == TOK_OPT || (relaxed && k->kind == TOK_REQ);

		if (k->kind == TOK_LIT) {
			gen_put(g, f->src + k->off, k->len, k->off, true);
			continue;
		}
		if (wrap)
			gen_str(g, "(?:", k->off);
		gen_put(g, f->src + k->ws_off, k->ws_len, k->ws_off, true);
		gen_value(g, f->params[k->param].name, k->off);
		if (wrap)
			gen_str(g, ")?", k->off);
	}
}

/* ------------------------------------------------------------------ */
/* Step 3: the token scan                                               */

struct anchors {
	bool begin, end;        /* ^ or \A; $ or \Z (anywhere: see Q9) */
	bool top_alt;           /* a | outside every group */
};

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1;
}

/*
 * Copies in (with map im) to out, finding anchors and rewriting:
 *   ^  -> ^\s*     $  -> \s*$     \A -> \A\s*     \Z -> \s*\z
 * (outside character classes and lookbehinds). The command is padded with
 * one space on each side, so a bare ^word could never match in st2 (Q6);
 * here the padding is invisible to the user's anchors. Python's \Z is
 * PCRE2's \z. Python spellings PCRE2 lacks are translated: \uXXXX and
 * \UXXXXXXXX to \x{...}, and the quantifier {,n} to {0,n}.
 */
static void
scan_regex(const char *in, size_t n, const size_t *im, struct gen *g,
    struct anchors *a)
{
	size_t i = 0, depth = 0, lb = 0, j;
	/* per open group: is it a lookbehind? (nesting rarely goes deep) */
	unsigned char *stack = xcalloc(n + 1, 1);
	bool in_class = false;

	memset(a, 0, sizeof *a);
	while (i < n) {
		char c = in[i];
		size_t src = im[i];

		if (c == '\\' && i + 1 < n) {
			char e = in[i + 1];

			if (e == 'Q') {
				/* \Q...\E: copy verbatim */
				for (j = i + 2; j + 1 < n && !(in[j] == '\\' && in[j + 1] == 'E'); j++)
					;
				j = j + 1 < n ? j + 2 : n;
				gen_put(g, in + i, j - i, src, true);
				i = j;
				continue;
			}
			if (e == 'u' && i + 6 <= n && is_hex(in[i + 2]) && is_hex(in[i + 3]) &&
			    is_hex(in[i + 4]) && is_hex(in[i + 5])) {
				gen_str(g, "\\x{", src);
				gen_put(g, in + i + 2, 4, src, false);
				gen_str(g, "}", src);
				i += 6;
				continue;
			}
			if (e == 'U' && i + 10 <= n) {
				for (j = 2; j < 10 && is_hex(in[i + j]); j++)
					;
				if (j == 10) {
					gen_str(g, "\\x{", src);
					gen_put(g, in + i + 2, 8, src, false);
					gen_str(g, "}", src);
					i += 10;
					continue;
				}
			}
			if (!in_class && e == 'A') {
				a->begin = true;
				gen_str(g, lb ? "\\A" : "\\A\\s*", src);
				i += 2;
				continue;
			}
			if (!in_class && e == 'Z') {
				a->end = true;
				gen_str(g, lb ? "\\z" : "\\s*\\z", src);
				i += 2;
				continue;
			}
			j = 1 + utf8_len((unsigned char)e);
			if (i + j > n)
				j = n - i;
			gen_put(g, in + i, j, src, true);
			i += j;
			continue;
		}
		if (in_class) {
			if (c == '[' && i + 1 < n && (in[i + 1] == ':' || in[i + 1] == '.' ||
			    in[i + 1] == '=')) {
				/* POSIX [:name:] inside a class */
				char d = in[i + 1];

				for (j = i + 2; j + 1 < n && !(in[j] == d && in[j + 1] == ']'); j++)
					;
				if (j + 1 < n) {
					gen_put(g, in + i, j + 2 - i, src, true);
					i = j + 2;
					continue;
				}
			}
			if (c == ']')
				in_class = false;
			gen_put(g, in + i, 1, src, true);
			i++;
			continue;
		}
		switch (c) {
		case '[':
			in_class = true;
			j = i + 1;
			if (j < n && in[j] == '^')
				j++;
			if (j < n && in[j] == ']')      /* leading ] is literal */
				j++;
			gen_put(g, in + i, j - i, src, true);
			i = j;
			continue;
		case '(':
			if (i + 2 < n && in[i + 1] == '?' && in[i + 2] == '#') {
				for (j = i + 3; j < n && in[j] != ')'; j++)
					;
				j = j < n ? j + 1 : n;
				gen_put(g, in + i, j - i, src, true);
				i = j;
				continue;
			}
			stack[depth] = i + 3 < n && in[i + 1] == '?' && in[i + 2] == '<' &&
			    (in[i + 3] == '=' || in[i + 3] == '!');
			lb += stack[depth];
			depth++;
			break;
		case ')':
			if (depth > 0) {
				depth--;
				lb -= stack[depth];
			}
			break;
		case '|':
			if (depth == 0)
				a->top_alt = true;
			break;
		case '^':
			a->begin = true;
			gen_str(g, lb ? "^" : "^\\s*", src);
			i++;
			continue;
		case '$':
			a->end = true;
			gen_str(g, lb ? "$" : "\\s*$", src);
			i++;
			continue;
		case '{':
			if (i + 1 < n && in[i + 1] == ',') {
				for (j = i + 2; j < n && in[j] >= '0' && in[j] <= '9'; j++)
					;
				if (j < n && in[j] == '}') {
					gen_str(g, "{0", src);
					i++;
					continue;
				}
			}
			break;
		default:
			break;
		}
		j = utf8_len((unsigned char)c);
		if (i + j > n)
			j = n - i;
		gen_put(g, in + i, j, src, true);
		i += j;
	}
	free(stack);
}

/* ------------------------------------------------------------------ */
/* Step 4-5: anchors, compile                                           */

/*
 * JIT is used unless ACKBOT_NO_JIT is set or the program runs under
 * valgrind, which reports PCRE2's JIT code as reading uninitialised memory
 * (a known false positive). Results are the same either way.
 */
static bool
use_jit(void)
{
	static int state = -1;

	if (state < 0) {
		const char *pre = getenv("LD_PRELOAD");

		state = getenv("ACKBOT_NO_JIT") == NULL &&
		    !(pre != NULL && strstr(pre, "vgpreload") != NULL);
	}
	return state == 1;
}

static bool
compile_one(struct afmt *f, const struct toks *t, bool relaxed, pcre2_code **out,
    bool *jit, struct anchors *a, struct afmt_error *err)
{
	struct gen g0, g1;
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re;
	bool ok = false;

	gen_init(&g0);
	emit(f, t, relaxed, &g0);
	g0.map = xgrow(g0.map, &g0.mapcap, g0.out.len + 1, sizeof *g0.map);
	g0.map[g0.out.len] = f->srclen;

	gen_init(&g1);
	/* the anchors are found on the emitted regex, as st2 does */
	{
		struct gen body;

		gen_init(&body);
		scan_regex(g0.out.data ? g0.out.data : "", g0.out.len, g0.map, &body, a);
		if (!a->begin)
			gen_str(&g1, "^\\s*", 0);
		gen_put(&g1, body.out.data ? body.out.data : "", body.out.len, 0, false);
		if (body.out.len > 0)
			memcpy(g1.map + g1.out.len - body.out.len, body.map,
			    body.out.len * sizeof *body.map);
		if (!a->end)
			gen_str(&g1, "\\s*$", f->srclen);
		gen_free(&body);
	}
	re = pcre2_compile((PCRE2_SPTR)(g1.out.data ? g1.out.data : ""), g1.out.len,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_DOTALL, &ec, &eo, compile_context());
	if (re == NULL) {
		PCRE2_UCHAR msg[200];

		pcre2_get_error_message(ec, msg, sizeof msg);
		fail(err, eo < g1.out.len ? g1.map[eo] : f->srclen, "%s", (char *)msg);
		goto out;
	}
	/* the relaxed regex is only tried when a command ends with pairs and
	 * the strict one failed: not worth ~7 KB of JIT code per format */
	*jit = !relaxed && use_jit() && pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
	*out = re;
	if (!relaxed)
		f->regex = buf_steal(&g1.out);
	ok = true;
out:
	gen_free(&g0);
	gen_free(&g1);
	return ok;
}

static bool
lit_starts_boundary(const char *s, size_t n)
{
	size_t L = alias_space_len(s, 0, n);

	if (L > 0)
		return !(L < n && strchr("?*+{", s[L]) != NULL);
	return (n >= 3 && memcmp(s, "\\s+", 3) == 0) || (n >= 1 && s[0] == '$') ||
	    (n >= 2 && memcmp(s, "\\Z", 2) == 0);
}

/*
 * The literal first word of every command the format matches, or nothing.
 * It is computed on the format's tokens: the first token must be literal
 * text starting (after an optional ^, \s* and (?i)) with plain characters,
 * and what follows the word must force a word boundary.
 */
static void
find_lead(struct afmt *f, const struct toks *t, const struct anchors *a)
{
	const char *s;
	size_t n, p = 0, w0, w1, i;
	bool ci = false, ok = false;

	if (f->multiple || a->top_alt || t->n == 0 || t->v[0].kind != TOK_LIT)
		return;
	s = f->src + t->v[0].off;
	n = t->v[0].len;
	if (p < n && s[p] == '^')
		p++;
	else if (a->begin)
		return;         /* anchored somewhere else: can match mid-text */
	for (;;) {
		size_t L = alias_space_len(s, p, n);

		if (p + 3 <= n && (memcmp(s + p, "\\s*", 3) == 0 || memcmp(s + p, "\\s+", 3) == 0))
			p += 3;
		else if (p + 4 <= n && memcmp(s + p, "(?i)", 4) == 0) {
			ci = true;
			p += 4;
		} else if (L > 0 && !(p + L < n && strchr("?*+{", s[p + L]) != NULL))
			p += L;
		else
			break;
	}
	w0 = p;
	while (p < n && strchr("\\^$.|?*+()[]{}", s[p]) == NULL &&
	    alias_space_len(s, p, n) == 0)
		p++;
	w1 = p;
	if (w1 == w0)
		return;
	if (p < n) {
		ok = lit_starts_boundary(s + p, n - p);
	} else {
		for (i = 1; i < t->n && t->v[i].kind == TOK_OPT && t->v[i].ws_len > 0; i++)
			;
		if (i == t->n)
			ok = !a->end;
		else if (t->v[i].kind == TOK_REQ)
			ok = t->v[i].ws_len > 0;
		else if (t->v[i].kind == TOK_LIT)
			ok = lit_starts_boundary(f->src + t->v[i].off, t->v[i].len);
	}
	if (!ok)
		return;
	if (ci) {
		for (i = w0; i < w1; i++)
			if ((unsigned char)s[i] >= 0x80)
				return;
	}
	f->lead = xstrndup(s + w0, w1 - w0);
	f->lead_len = w1 - w0;
	f->lead_ci = ci;
	if (ci)
		for (i = 0; i < f->lead_len; i++)
			if (f->lead[i] >= 'A' && f->lead[i] <= 'Z')
				f->lead[i] = (char)(f->lead[i] - 'A' + 'a');
}

static void
read_groups(struct afmt *f)
{
	uint32_t count = 0, size = 0, cap = 0, i;
	PCRE2_SPTR table = NULL;
	size_t k;

	pcre2_pattern_info(f->re, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(f->re, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(f->re, PCRE2_INFO_NAMETABLE, &table);
	pcre2_pattern_info(f->re, PCRE2_INFO_CAPTURECOUNT, &cap);
	f->ovec_pairs = cap + 1;
	if (f->relaxed != NULL) {
		pcre2_pattern_info(f->relaxed, PCRE2_INFO_CAPTURECOUNT, &cap);
		if (cap + 1 > f->ovec_pairs)
			f->ovec_pairs = cap + 1;
	}
	f->groups = xcalloc(count ? count : 1, sizeof *f->groups);
	for (i = 0; i < count; i++) {
		PCRE2_SPTR e = table + (size_t)i * size;
		struct afmt_group *gr = &f->groups[f->ngroups++];

		gr->num = ((uint32_t)e[0] << 8) | e[1];
		gr->name = xstrdup((const char *)e + 2);
		gr->param = -1;
		for (k = 0; k < f->nparams; k++)
			if (strcmp(f->params[k].name, gr->name) == 0)
				gr->param = (int)k;
	}
	/* the name table is sorted by name; report in group order, as
	 * Python's groupdict does */
	for (i = 1; i < f->ngroups; i++) {
		struct afmt_group tmp = f->groups[i];
		size_t j = i;

		while (j > 0 && f->groups[j - 1].num > tmp.num) {
			f->groups[j] = f->groups[j - 1];
			j--;
		}
		f->groups[j] = tmp;
	}
}

/*
 * A command the format should match, for the overlap check: literal text
 * with the simplest regex escapes resolved, and v1, v2... for the
 * placeholders. Formats with real regex constructs get none.
 */
static void
make_sample(struct afmt *f, const struct toks *t)
{
	struct buf b;
	size_t i, j;

	buf_init(&b, 0);
	for (i = 0; i < t->n; i++) {
		const struct tok *k = &t->v[i];
		const char *s = f->src + k->off;

		if (k->kind != TOK_LIT) {
			buf_append(&b, f->src + k->ws_off, k->ws_len);
			buf_printf(&b, "v%d", k->param + 1);
			continue;
		}
		for (j = 0; j < k->len; j++) {
			char c = s[j];

			if (c == '\\' && j + 1 < k->len) {
				char e = s[++j];

				if (e == 's')
					buf_putc(&b, ' ');
				else if (e == 'd')
					buf_putc(&b, '1');
				else if (e == 'w')
					buf_putc(&b, 'a');
				else if (strchr("\\^$.|?*+()[]{}-/ '\"", e) != NULL)
					buf_putc(&b, e);
				else
					goto none;
			} else if (c == '^' && i == 0 && j == 0) {
				continue;
			} else if (c == '$' && i + 1 == t->n && j + 1 == k->len) {
				continue;
			} else if (c == '.') {
				buf_putc(&b, '.');
			} else if (strchr("^$|?*+()[]{}", c) != NULL) {
				goto none;
			} else {
				buf_putc(&b, c);
			}
		}
	}
	f->sample = buf_steal(&b);
	return;
none:
	buf_free(&b);
}

struct afmt *
afmt_compile(const char *fmt, size_t len, bool multiple, struct afmt_error *err)
{
	struct afmt *f = xcalloc(1, sizeof *f);
	struct toks t = { 0 };
	struct anchors a, ar;
	size_t i;
	bool has_req = false;

	if (err != NULL) {
		err->offset = 0;
		err->msg[0] = '\0';
	}
	f->src = xstrndup(fmt, len);
	f->srclen = len;
	f->multiple = multiple;
	if (!utf8_valid(fmt, len)) {
		fail(err, 0, "the format is not valid UTF-8");
		goto fail;
	}
	if (memchr(fmt, '\0', len) != NULL) {
		fail(err, (size_t)((const char *)memchr(fmt, '\0', len) - fmt),
		    "the format contains a NUL character");
		goto fail;
	}
	if (scan_placeholders(f, &t, err) < 0)
		goto fail;
	if (!compile_one(f, &t, false, &f->re, &f->jit, &a, err))
		goto fail;
	for (i = 0; i < t.n; i++)
		has_req |= t.v[i].kind == TOK_REQ;
	if (has_req && !multiple) {
		/* same anchors; the relaxed regex only differs in generated
		 * groups, so it compiles whenever the strict one does */
		if (!compile_one(f, &t, true, &f->relaxed, &f->relaxed_jit, &ar, err))
			goto fail;
	}
	read_groups(f);
	find_lead(f, &t, &a);
	if (!multiple)
		make_sample(f, &t);
	free(t.v);
	return f;
fail:
	free(t.v);
	afmt_free(f);
	return NULL;
}

void
afmt_free(struct afmt *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nparams; i++) {
		free(f->params[i].name);
		free(f->params[i].defval);
	}
	for (i = 0; i < f->ngroups; i++)
		free(f->groups[i].name);
	free(f->params);
	free(f->groups);
	pcre2_code_free(f->re);
	pcre2_code_free(f->relaxed);
	free(f->src);
	free(f->regex);
	free(f->lead);
	free(f->sample);
	free(f);
}

const char *
afmt_source(const struct afmt *f)
{
	return f->src;
}

const char *
afmt_regex(const struct afmt *f)
{
	return f->regex;
}

bool
afmt_multiple(const struct afmt *f)
{
	return f->multiple;
}

size_t
afmt_nparams(const struct afmt *f)
{
	return f->nparams;
}

const char *
afmt_param_name(const struct afmt *f, size_t i)
{
	return i < f->nparams ? f->params[i].name : NULL;
}

const char *
afmt_param_default(const struct afmt *f, size_t i)
{
	return i < f->nparams ? f->params[i].defval : NULL;
}

bool
afmt_has_param(const struct afmt *f, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < f->ngroups; i++)
		if (strlen(f->groups[i].name) == len && memcmp(f->groups[i].name, name, len) == 0)
			return true;
	return false;
}

const char *
afmt_sample(const struct afmt *f)
{
	return f->sample;
}

const char *
afmt_lead_word(const struct afmt *f, size_t *len, bool *caseless)
{
	if (len != NULL)
		*len = f->lead_len;
	if (caseless != NULL)
		*caseless = f->lead_ci;
	return f->lead;
}

/* ------------------------------------------------------------------ */
/* Matching                                                            */

struct afmt_scratch *
afmt_scratch_new(void)
{
	struct afmt_scratch *s = xcalloc(1, sizeof *s);

	s->mctx = pcre2_match_context_create(NULL);
	s->jstack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (s->mctx == NULL || s->jstack == NULL)
		abort();
	pcre2_jit_stack_assign(s->mctx, NULL, s->jstack);
	pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
	buf_init(&s->stream, 0);
	apairs_init(&s->pairs);
	return s;
}

void
afmt_scratch_free(struct afmt_scratch *s)
{
	if (s == NULL)
		return;
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	pcre2_jit_stack_free(s->jstack);
	buf_free(&s->stream);
	apairs_free(&s->pairs);
	free(s);
}

static void
ensure_md(struct afmt_scratch *s, uint32_t pairs)
{
	if (s->md != NULL && s->md_pairs >= pairs)
		return;
	pcre2_match_data_free(s->md);
	s->md = pcre2_match_data_create(pairs < 16 ? 16 : pairs, NULL);
	if (s->md == NULL)
		abort();
	s->md_pairs = pairs < 16 ? 16 : pairs;
}

static int
run(const pcre2_code *re, bool jit, const char *subj, size_t n, size_t start,
    struct afmt_scratch *s)
{
	if (jit)
		return pcre2_jit_match(re, (PCRE2_SPTR)subj, n, start, 0, s->md, s->mctx);
	return pcre2_match(re, (PCRE2_SPTR)subj, n, start, PCRE2_NO_UTF_CHECK, s->md, s->mctx);
}

static bool
all_space(const char *s, size_t n)
{
	size_t i = 0, L;

	while (i < n) {
		L = alias_space_len(s, i, n);
		if (L == 0)
			return false;
		i += L;
	}
	return true;
}

static bool
is_quote(char c)
{
	return c == '"' || c == '\'';
}

static const struct apair *
find_pair(const struct apair *pv, size_t npv, const char *name)
{
	size_t i, n = strlen(name);

	for (i = npv; i-- > 0;)
		if (pv[i].key_len == n && memcmp(pv[i].key, name, n) == 0)
			return &pv[i];
	return NULL;
}

enum { BUILD_NO = 0, BUILD_OK = 1, BUILD_NOVALUE = 2 };

/*
 * Turns one regex match (ovector ov over the padded stream st) into a
 * parameter object. Deviations from st2 (docs/aliases.md):
 *   - Q7: a placeholder that captured only (unquoted) whitespace is an
 *     empty slot: an optional one takes its default, a required one makes
 *     the format not match (st2 returns {"a": " "} for `{{a}}` and "").
 *   - Q12: a value written as "" or '' is the empty string (st2 gives `"`).
 *   - a regex group that took no part is left out (st2 gives null).
 */
static int
build(const struct afmt *f, const char *st, size_t stlen, const PCRE2_SIZE *ov,
    const struct apair *pv, size_t npv, json_t **out, struct afmt_score *score)
{
	json_t *o = json_object();
	size_t i, ms = ov[0], me = ov[1];
	unsigned nparams = 0, literal = 0;
	bool anyvalue = false;

	for (i = 0; i < f->ngroups; i++) {
		const struct afmt_group *gr = &f->groups[i];
		const struct afmt_param *pm = gr->param >= 0 ? &f->params[gr->param] : NULL;
		PCRE2_SIZE gs = ov[2 * gr->num], ge = ov[2 * gr->num + 1];
		const char *v;
		size_t vl;
		bool quoted;

		if (gs == PCRE2_UNSET) {
			if (pm != NULL && pm->defval != NULL) {
				json_object_set_new(o, gr->name, json_string(pm->defval));
				anyvalue |= pm->defval[0] != '\0';
			} else if (pm != NULL && find_pair(pv, npv, pm->name) == NULL) {
				goto no;        /* relaxed regex: must come from a pair */
			}
			continue;
		}
		v = st + gs;
		vl = ge - gs;
		quoted = gs > ms && is_quote(st[gs - 1]);
		if (pm != NULL && quoted && vl == 1 && v[0] == st[gs - 1]) {
			json_object_set_new(o, gr->name, json_string(""));
			nparams++;
			continue;
		}
		if (pm != NULL && !quoted && all_space(v, vl)) {
			if (pm->defval != NULL) {
				json_object_set_new(o, gr->name, json_string(pm->defval));
				anyvalue |= pm->defval[0] != '\0';
				continue;
			}
			if (find_pair(pv, npv, pm->name) == NULL)
				goto no;
			continue;
		}
		json_object_set_new(o, gr->name, json_stringn(v, vl));
		anyvalue |= vl > 0;
		nparams++;
	}
	for (i = 0; i < npv; i++) {
		json_object_setn_new(o, pv[i].key, pv[i].key_len,
		    json_stringn(pv[i].val, pv[i].val_len));
		anyvalue |= pv[i].val_len > 0;
	}
	/* st2 §5.5 */
	if (f->srclen > 0 && all_space(st, stlen) && !anyvalue) {
		json_decref(o);
		return BUILD_NOVALUE;
	}
	if (score != NULL) {
		size_t p = ms;

		while (p < me) {
			size_t L = alias_space_len(st, p, me), g;
			bool inside = false;

			for (g = 0; g < f->ngroups && !inside; g++) {
				PCRE2_SIZE a = ov[2 * f->groups[g].num], b = ov[2 * f->groups[g].num + 1];

				if (a == PCRE2_UNSET)
					continue;
				if (p >= a && p < b)
					inside = true;
				else if ((p + 1 == a || p == b) && is_quote(st[p]))
					inside = true;  /* the value's own quotes */
			}
			if (L == 0 && !inside && ((unsigned char)st[p] & 0xc0) != 0x80)
				literal++;
			p += L ? L : 1;
		}
		score->literal = literal;
		score->nparams = nparams;
	}
	*out = o;
	return BUILD_OK;
no:
	json_decref(o);
	return BUILD_NO;
}

/* One attempt: the command cut at `cut` (the rest is pairs pv[0..npv)). */
static int
attempt(const struct afmt *f, const pcre2_code *re, bool jit, const char *cmd,
    size_t cut, const struct apair *pv, size_t npv, struct afmt_scratch *s,
    json_t **params, struct afmt_score *score, bool *novalue)
{
	const char *st;
	size_t stlen, pos = 0;
	PCRE2_SIZE *ov;
	json_t *arr = NULL;
	int rc, b;
	struct afmt_score first = { 0, 0 };
	bool have_first = false;

	buf_reset(&s->stream);
	buf_putc(&s->stream, ' ');
	buf_append(&s->stream, cmd, cut);
	buf_putc(&s->stream, ' ');
	st = s->stream.data;
	stlen = s->stream.len;
	ensure_md(s, f->ovec_pairs);
	ov = pcre2_get_ovector_pointer(s->md);

	if (!f->multiple) {
		rc = run(re, jit, st, stlen, 0, s);
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc < 0)
			return -1;
		b = build(f, st, stlen, ov, pv, npv, params, score);
		if (b == BUILD_NOVALUE)
			*novalue = true;
		return b == BUILD_OK;
	}
	/* match_multiple: every non-overlapping match, like re.finditer */
	while (pos <= stlen) {
		json_t *one;

		rc = run(re, jit, st, stlen, pos, s);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			json_decref(arr);
			return -1;
		}
		b = build(f, st, stlen, ov, pv, npv, &one, have_first ? NULL : &first);
		if (b == BUILD_OK) {
			if (arr == NULL)
				arr = json_array();
			json_array_append_new(arr, one);
			have_first = true;
		} else if (b == BUILD_NOVALUE) {
			*novalue = true;
		}
		if (ov[1] > ov[0])
			pos = ov[1];
		else if (ov[1] < stlen)
			pos = ov[1] + utf8_len((unsigned char)st[ov[1]]);
		else
			break;
	}
	if (arr == NULL)
		return 0;
	if (score != NULL)
		*score = first;
	*params = arr;
	return 1;
}

int
afmt_extract(const struct afmt *f, const char *cmd, size_t len,
    const struct apairs *pairs, struct afmt_scratch *s, json_t **params,
    struct afmt_score *score, char *err, size_t errlen)
{
	const struct apairs *pp = pairs;
	size_t k, np;
	bool novalue = false;
	int rc;

	*params = NULL;
	if (pp == NULL) {
		apairs_scan(&s->pairs, cmd, len);
		pp = &s->pairs;
	}
	np = pp->n;
	/*
	 * With pairs at the end, the format is tried on the command without
	 * them first (as st2 does); if it does not match, the required
	 * placeholders may be given as pairs instead (relaxed regex); failing
	 * that, the pairs are given back to the text, so that `say {{msg}}` +
	 * "say x=1" gives msg "x=1" instead of an error. At most three
	 * attempts, whatever the number of pairs.
	 */
	for (k = 0; k <= np; k = k == 0 && np > 0 ? np : np + 1) {
		size_t cut = k < np ? pp->v[k].start : len;
		const struct apair *rest = k < np ? pp->v + k : NULL;

		rc = attempt(f, f->re, f->jit, cmd, cut, rest, np - k, s, params,
		    score, &novalue);
		if (rc != 0)
			goto done;
		if (k < np && f->relaxed != NULL) {
			rc = attempt(f, f->relaxed, f->relaxed_jit, cmd, cut, rest,
			    np - k, s, params, score, &novalue);
			if (rc != 0)
				goto done;
		}
	}
	if (novalue)
		ack_err(err, errlen, "No value supplied and no default value found.");
	else
		ack_err(err, errlen, "Command \"%.*s\" doesn't match format string \"%s\"",
		    (int)len, cmd, f->src);
	return 0;
done:
	if (rc < 0)
		ack_err(err, errlen, "matching \"%s\" gave up (the format is too "
		    "complex for this command)", f->src);
	return rc;
}

/* ------------------------------------------------------------------ */

static size_t
utf8_seq_ok(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool
afmt_utf8_sanitize(const char *s, size_t n, struct buf *out)
{
	size_t i = 0, L;

	if (utf8_valid(s, n))
		return false;
	buf_reset(out);
	while (i < n) {
		L = utf8_seq_ok((const unsigned char *)s + i, n - i);
		if (L == 0) {
			buf_append(out, "\xef\xbf\xbd", 3);
			i++;
		} else {
			buf_append(out, s + i, L);
			i += L;
		}
	}
	return true;
}

int
afmt_parse(const char *fmt, size_t fmtlen, const char *cmd, size_t len,
    bool multiple, json_t **params, char *err, size_t errlen)
{
	struct afmt_error fe;
	struct afmt *f;
	struct afmt_scratch *s;
	struct buf clean;
	int rc;

	*params = NULL;
	f = afmt_compile(fmt, fmtlen, multiple, &fe);
	if (f == NULL) {
		ack_err(err, errlen, "bad format (at byte %zu): %s", fe.offset, fe.msg);
		return -1;
	}
	buf_init(&clean, 0);
	if (afmt_utf8_sanitize(cmd, len, &clean)) {
		cmd = clean.data;
		len = clean.len;
	}
	s = afmt_scratch_new();
	rc = afmt_extract(f, cmd, len, NULL, s, params, NULL, err, errlen);
	if (rc < 0)
		rc = 0;
	afmt_scratch_free(s);
	buf_free(&clean);
	afmt_free(f);
	return rc;
}
