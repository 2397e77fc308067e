/*
 * alias.c - the alias set: builds every alias of a config (formats,
 * templates, immutable parameters), indexes the formats by their first
 * literal word, and matches commands with the specificity rule of alias.h.
 */
#include "alias.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alias_format.h"
#include "alias_pairs.h"
#include "log.h"
#include "template.h"

#define RENDER_MAX (64 * 1024)

struct alias_info {
	bool usable;                    /* no errors in its formats */
	struct tmpl *ack, *result;
	struct tmpl **imm;              /* per immutable value; NULL = literal */
};

struct entry {
	struct alias_candidate c;
	struct afmt *f;
	size_t alias_idx;
	struct cfg_pos pos;
};

struct bucket {
	const char *key;                /* NULL = empty slot */
	size_t len;
	size_t *ents;
	size_t n, cap;
};

struct index {
	struct bucket *b;
	size_t cap, used;               /* cap is a power of two */
};

struct hit {
	size_t entry;
	json_t *params;
	struct afmt_score score;
};

struct scratch {
	struct afmt_scratch *fs;
	struct apairs pairs;
	struct buf clean, word;
	struct hit *hits;
	size_t nhits, caphits;
};

struct alias_set {
	const struct cfg *cfg;
	struct alias_info *info;        /* one per cfg alias */
	struct entry *ents;
	size_t nents, capents;
	struct index cs, ci;            /* lead word -> entries */
	size_t *always, nalways, capalways;
	size_t *multi, nmulti, capmulti;
	struct scratch *sc;
};

/* ------------------------------------------------------------------ */
/* index                                                               */

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static struct bucket *
index_find(const struct index *ix, const char *key, size_t len, bool create)
{
	struct index *w = (struct index *)ix;
	size_t i;

	if (ix->cap == 0) {
		if (!create)
			return NULL;
		w->cap = 16;
		w->b = xcalloc(w->cap, sizeof *w->b);
	}
	for (i = hash(key, len) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
		struct bucket *b = &ix->b[i];

		if (b->key == NULL) {
			if (!create)
				return NULL;
			break;
		}
		if (b->len == len && memcmp(b->key, key, len) == 0)
			return b;
	}
	if ((w->used + 1) * 2 > w->cap) {
		struct bucket *old = w->b;
		size_t oldcap = w->cap, j;

		w->cap *= 2;
		w->b = xcalloc(w->cap, sizeof *w->b);
		for (j = 0; j < oldcap; j++) {
			if (old[j].key == NULL)
				continue;
			for (i = hash(old[j].key, old[j].len) & (w->cap - 1); w->b[i].key != NULL;
			    i = (i + 1) & (w->cap - 1))
				;
			w->b[i] = old[j];
		}
		free(old);
		return index_find(ix, key, len, true);
	}
	for (i = hash(key, len) & (ix->cap - 1); ix->b[i].key != NULL; i = (i + 1) & (ix->cap - 1))
		;
	w->used++;
	ix->b[i].key = key;
	ix->b[i].len = len;
	return &ix->b[i];
}

static void
index_free(struct index *ix)
{
	size_t i;

	for (i = 0; i < ix->cap; i++)
		free(ix->b[i].ents);
	free(ix->b);
}

static void
push(size_t **v, size_t *n, size_t *cap, size_t x)
{
	*v = xgrow(*v, cap, *n + 1, sizeof **v);
	(*v)[(*n)++] = x;
}

/* ------------------------------------------------------------------ */
/* build                                                               */

/* Where byte off of a string value written at base is in the file (the
 * value's position is its opening quote). Approximate when the string
 * uses escapes. */
static void
str_pos(struct cfg_pos base, const char *s, size_t off, int *line, int *col)
{
	size_t i;

	*line = base.line;
	*col = base.line > 0 ? base.col + 1 : 0;
	if (base.line == 0)
		return;
	for (i = 0; i < off && s[i] != '\0'; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)s[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static const char *
shown(char *out, size_t outlen, const char *s)
{
	return log_escape(out, outlen, s, strlen(s));
}

static struct tmpl *
compile_tmpl(const struct cfg *cfg, const struct cfg_alias *a, const char *what,
    const struct cfg_str *v, struct diag *d, bool *bad)
{
	struct tmpl_error te;
	struct tmpl *t;
	int line, col;

	if (v->s == NULL || tmpl_is_literal(v->s, strlen(v->s)))
		return NULL;
	memset(&te, 0, sizeof te);
	t = tmpl_compile(v->s, strlen(v->s), &te);
	if (t == NULL) {
		line = v->pos.line > 0 ? v->pos.line + (te.line > 0 ? te.line - 1 : 0) : 0;
		col = v->pos.line > 0 ? (te.line <= 1 ? v->pos.col + (te.col > 0 ? te.col : 1) : te.col) : 0;
		diag_add(d, DIAG_ERROR, cfg->path, line, col, "alias \"%s\": %s: %s",
		    a->name, what, te.msg);
		*bad = true;
	}
	return t;
}

static void
add_entry(struct alias_set *set, size_t ai, const struct cfg_format *cf,
    const struct cfg_str *rep, struct afmt *f)
{
	struct entry *e;
	const char *lead;
	size_t len, idx = set->nents;
	bool ci;

	set->ents = xgrow(set->ents, &set->capents, set->nents + 1, sizeof *set->ents);
	e = &set->ents[set->nents++];
	e->c.alias = &set->cfg->aliases[ai];
	e->c.display = cf->display.s;
	e->c.representation = rep->s;
	e->c.multiple = cf->match_multiple;
	e->f = f;
	e->alias_idx = ai;
	e->pos = rep->pos.line > 0 ? rep->pos : cf->pos;
	if (cf->match_multiple) {
		push(&set->multi, &set->nmulti, &set->capmulti, idx);
		return;
	}
	lead = afmt_lead_word(f, &len, &ci);
	if (lead == NULL) {
		push(&set->always, &set->nalways, &set->capalways, idx);
		return;
	}
	{
		struct bucket *b = index_find(ci ? &set->ci : &set->cs, lead, len, true);

		push(&b->ents, &b->n, &b->cap, idx);
	}
}

static void
build_alias(struct alias_set *set, size_t ai, struct diag *d)
{
	const struct cfg *cfg = set->cfg;
	const struct cfg_alias *a = &cfg->aliases[ai];
	struct alias_info *in = &set->info[ai];
	size_t fi, ri, k, nmatchable = 0;
	bool bad = false;
	char esc[160];

	for (fi = 0; fi < a->nformats; fi++) {
		const struct cfg_format *cf = &a->formats[fi];

		for (ri = 0; ri < cf->representations.n; ri++) {
			const struct cfg_str *rep = &cf->representations.v[ri];
			struct cfg_pos base = rep->pos.line > 0 ? rep->pos : cf->pos;
			struct afmt_error fe;
			struct afmt *f;
			int line, col;

			if (rep->s == NULL)
				continue;
			f = afmt_compile(rep->s, strlen(rep->s), cf->match_multiple, &fe);
			if (f == NULL) {
				str_pos(base, rep->s, fe.offset, &line, &col);
				diag_add(d, DIAG_ERROR, cfg->path, line, col,
				    "alias \"%s\": format \"%s\": %s", a->name,
				    shown(esc, sizeof esc, rep->s), fe.msg);
				bad = true;
				continue;
			}
			for (k = 0; k < a->immutable.n; k++) {
				const char *key = a->immutable.v[k].key;

				if (afmt_has_param(f, key, strlen(key))) {
					str_pos(base, rep->s, 0, &line, &col);
					diag_add(d, DIAG_WARNING, cfg->path, line, col,
					    "alias \"%s\": format \"%s\" has a parameter "
					    "\"%s\" that is also an immutable parameter; "
					    "commands that set it will be refused", a->name,
					    shown(esc, sizeof esc, rep->s), key);
				}
			}
			if (a->enabled) {
				add_entry(set, ai, cf, rep, f);
				nmatchable++;
			} else {
				afmt_free(f);
			}
		}
	}
	if (a->enabled && nmatchable == 0 && !bad)
		diag_add(d, DIAG_WARNING, cfg->path, a->pos.line, a->pos.col,
		    "alias \"%s\" has no representation to match (display-only "
		    "formats are shown in help only): it can never run", a->name);

	if (a->ack.enabled)
		in->ack = compile_tmpl(cfg, a, "ack template", &a->ack.text, d, &bad);
	if (a->result.enabled)
		in->result = compile_tmpl(cfg, a, "result template", &a->result.text, d, &bad);
	in->imm = xcalloc(a->immutable.n ? a->immutable.n : 1, sizeof *in->imm);
	for (k = 0; k < a->immutable.n; k++) {
		char what[200];

		snprintf(what, sizeof what, "immutable parameter \"%s\"", a->immutable.v[k].key);
		in->imm[k] = compile_tmpl(cfg, a, what, &a->immutable.v[k].value, d, &bad);
	}
	in->usable = !bad;
}

/* ------------------------------------------------------------------ */
/* matching                                                            */

static void
hits_clear(struct scratch *sc)
{
	size_t i;

	for (i = 0; i < sc->nhits; i++)
		json_decref(sc->hits[i].params);
	sc->nhits = 0;
}

static int
score_cmp(const struct afmt_score *a, const struct afmt_score *b)
{
	if (a->literal != b->literal)
		return a->literal < b->literal ? -1 : 1;
	if (a->nparams != b->nparams)
		return a->nparams < b->nparams ? -1 : 1;
	return 0;
}

static void
consider(const struct alias_set *set, size_t ei, const char *cmd, size_t len)
{
	struct scratch *sc = set->sc;
	const struct entry *e = &set->ents[ei];
	struct afmt_score score;
	json_t *params;
	size_t i;
	int c;

	if (afmt_extract(e->f, cmd, len, &sc->pairs, sc->fs, &params, &score, NULL, 0) != 1)
		return;
	if (sc->nhits > 0) {
		c = score_cmp(&score, &sc->hits[0].score);
		if (c < 0) {
			json_decref(params);
			return;
		}
		if (c > 0)
			hits_clear(sc);
	}
	for (i = 0; i < sc->nhits; i++) {
		struct hit *h = &sc->hits[i];

		if (set->ents[h->entry].alias_idx == e->alias_idx &&
		    json_equal(h->params, params)) {
			/* same alias, same parameters: one command, keep the
			 * first format */
			if (ei < h->entry) {
				json_decref(h->params);
				h->params = params;
				h->entry = ei;
			} else {
				json_decref(params);
			}
			return;
		}
	}
	sc->hits = xgrow(sc->hits, &sc->caphits, sc->nhits + 1, sizeof *sc->hits);
	sc->hits[sc->nhits].entry = ei;
	sc->hits[sc->nhits].params = params;
	sc->hits[sc->nhits].score = score;
	sc->nhits++;
}

static void
consider_list(const struct alias_set *set, const size_t *v, size_t n, const char *cmd,
    size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		consider(set, v[i], cmd, len);
}

/* Runs every candidate format on cmd; the best tie group is left in
 * set->sc->hits. */
static void
evaluate(const struct alias_set *set, const char *cmd, size_t len)
{
	struct scratch *sc = set->sc;
	const struct bucket *b;
	size_t i = 0, w0, L;

	hits_clear(sc);
	apairs_scan(&sc->pairs, cmd, len);
	while (i < len && (L = alias_space_len(cmd, i, len)) > 0)
		i += L;
	w0 = i;
	while (i < len && alias_space_len(cmd, i, len) == 0)
		i++;
	if (i > w0) {
		b = index_find(&set->cs, cmd + w0, i - w0, false);
		if (b != NULL)
			consider_list(set, b->ents, b->n, cmd, len);
		if (set->ci.used > 0) {
			size_t k;

			buf_reset(&sc->word);
			buf_append(&sc->word, cmd + w0, i - w0);
			for (k = 0; k < sc->word.len; k++)
				if (sc->word.data[k] >= 'A' && sc->word.data[k] <= 'Z')
					sc->word.data[k] = (char)(sc->word.data[k] - 'A' + 'a');
			b = index_find(&set->ci, sc->word.data, sc->word.len, false);
			if (b != NULL)
				consider_list(set, b->ents, b->n, cmd, len);
		}
	}
	consider_list(set, set->always, set->nalways, cmd, len);
	if (sc->nhits == 0)
		consider_list(set, set->multi, set->nmulti, cmd, len);
}

static int
hit_order(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

enum alias_match_kind
alias_set_match(const struct alias_set *set, const char *text, size_t len,
    struct alias_match *out)
{
	struct scratch *sc = set->sc;
	char shown_cmd[120];
	size_t i;

	memset(out, 0, sizeof *out);
	if (afmt_utf8_sanitize(text, len, &sc->clean)) {
		text = sc->clean.data;
		len = sc->clean.len;
	}
	evaluate(set, text, len);
	log_escape(shown_cmd, sizeof shown_cmd, text, len);
	if (sc->nhits == 0) {
		out->kind = ALIAS_NO_MATCH;
		snprintf(out->message, sizeof out->message,
		    "Command '%s' matched no patterns", shown_cmd);
		return out->kind;
	}
	if (sc->nhits == 1) {
		const struct entry *e = &set->ents[sc->hits[0].entry];

		out->kind = ALIAS_MATCHED;
		out->alias = e->c.alias;
		out->display = e->c.display;
		out->representation = e->c.representation;
		out->multiple = e->c.multiple;
		out->params = sc->hits[0].params;
		sc->nhits = 0;
		return out->kind;
	}
	qsort(sc->hits, sc->nhits, sizeof *sc->hits, hit_order);
	out->kind = ALIAS_AMBIGUOUS;
	out->candidates = xcalloc(sc->nhits, sizeof *out->candidates);
	out->ncandidates = sc->nhits;
	{
		struct buf b;
		bool multi = set->ents[sc->hits[0].entry].c.multiple;

		buf_init(&b, sizeof out->message - 1);
		buf_printf(&b, "Command '%s' matched more than 1 %spattern:", shown_cmd,
		    multi ? "(multi) " : "");
		for (i = 0; i < sc->nhits; i++) {
			const struct entry *e = &set->ents[sc->hits[i].entry];

			out->candidates[i] = e->c;
			if (buf_printf(&b, "%s %s", i ? "," : "", e->c.alias->name) < 0)
				break;
		}
		snprintf(out->message, sizeof out->message, "%s", b.data ? b.data : "");
		buf_free(&b);
	}
	hits_clear(sc);
	return out->kind;
}

void
alias_match_clear(struct alias_match *m)
{
	if (m == NULL)
		return;
	json_decref(m->params);
	free(m->candidates);
	memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ */
/* overlap warnings                                                    */

struct reported {
	size_t (*v)[2];
	size_t n, cap;
};

static bool
reported_add(struct reported *r, size_t a, size_t b)
{
	size_t i, lo = a < b ? a : b, hi = a < b ? b : a;

	for (i = 0; i < r->n; i++)
		if (r->v[i][0] == lo && r->v[i][1] == hi)
			return false;
	r->v = xgrow(r->v, &r->cap, r->n + 1, sizeof *r->v);
	r->v[r->n][0] = lo;
	r->v[r->n][1] = hi;
	r->n++;
	return true;
}

/*
 * For each plain-text format, a sample command (its text with v1, v2... for
 * the placeholders) is matched against the whole set; a tie that includes
 * the format itself is an overlap users would hit as "ambiguous".
 */
static void
check_overlaps(struct alias_set *set, struct diag *d)
{
	struct scratch *sc = set->sc;
	struct reported rep = { 0 };
	size_t i, j;
	char e1[120], e2[120], e3[120];

	for (i = 0; i < set->nents; i++) {
		const struct entry *e = &set->ents[i];
		const char *sample = afmt_sample(e->f);
		bool self = false;

		if (sample == NULL)
			continue;
		evaluate(set, sample, strlen(sample));
		for (j = 0; j < sc->nhits; j++)
			self |= sc->hits[j].entry == i;
		if (!self || sc->nhits < 2) {
			hits_clear(sc);
			continue;
		}
		for (j = 0; j < sc->nhits; j++) {
			const struct entry *o = &set->ents[sc->hits[j].entry];

			if (sc->hits[j].entry == i || !reported_add(&rep, i, sc->hits[j].entry))
				continue;
			diag_add(d, DIAG_WARNING, set->cfg->path, e->pos.line, e->pos.col,
			    "alias \"%s\": format \"%s\" overlaps %s\"%s\" format \"%s\": "
			    "a command such as \"%s\" matches both equally well and "
			    "would be refused as ambiguous", e->c.alias->name,
			    shown(e1, sizeof e1, e->c.representation),
			    o->alias_idx == e->alias_idx ? "its own " : "alias ",
			    o->c.alias->name, shown(e2, sizeof e2, o->c.representation),
			    shown(e3, sizeof e3, sample));
		}
		hits_clear(sc);
	}
	free(rep.v);
}

struct alias_set *
alias_set_build(const struct cfg *cfg, struct diag *d)
{
	struct alias_set *set = xcalloc(1, sizeof *set);
	size_t i;

	set->cfg = cfg;
	set->info = xcalloc(cfg->naliases ? cfg->naliases : 1, sizeof *set->info);
	set->sc = xcalloc(1, sizeof *set->sc);
	set->sc->fs = afmt_scratch_new();
	apairs_init(&set->sc->pairs);
	buf_init(&set->sc->clean, 0);
	buf_init(&set->sc->word, 0);
	for (i = 0; i < cfg->naliases; i++)
		build_alias(set, i, d);
	check_overlaps(set, d);
	return set;
}

void
alias_set_free(struct alias_set *set)
{
	size_t i, k;

	if (set == NULL)
		return;
	for (i = 0; i < set->nents; i++)
		afmt_free(set->ents[i].f);
	free(set->ents);
	for (i = 0; i < set->cfg->naliases; i++) {
		struct alias_info *in = &set->info[i];

		tmpl_free(in->ack);
		tmpl_free(in->result);
		if (in->imm != NULL)
			for (k = 0; k < set->cfg->aliases[i].immutable.n; k++)
				tmpl_free(in->imm[k]);
		free(in->imm);
	}
	free(set->info);
	index_free(&set->cs);
	index_free(&set->ci);
	free(set->always);
	free(set->multi);
	hits_clear(set->sc);
	free(set->sc->hits);
	afmt_scratch_free(set->sc->fs);
	apairs_free(&set->sc->pairs);
	buf_free(&set->sc->clean);
	buf_free(&set->sc->word);
	free(set->sc);
	free(set);
}

const struct cfg *
alias_set_cfg(const struct alias_set *set)
{
	return set->cfg;
}

size_t
alias_set_count(const struct alias_set *set)
{
	return set->nents;
}

const struct alias_candidate *
alias_set_entry(const struct alias_set *set, size_t i)
{
	return i < set->nents ? &set->ents[i].c : NULL;
}

/* ------------------------------------------------------------------ */
/* templates and immutable parameters                                  */

static const struct alias_info *
info_of(const struct alias_set *set, const struct cfg_alias *a)
{
	if (a == NULL || a < set->cfg->aliases || a >= set->cfg->aliases + set->cfg->naliases)
		return NULL;
	return &set->info[a - set->cfg->aliases];
}

const struct tmpl *
alias_ack_template(const struct alias_set *set, const struct cfg_alias *alias)
{
	const struct alias_info *in = info_of(set, alias);

	return in != NULL ? in->ack : NULL;
}

const struct tmpl *
alias_result_template(const struct alias_set *set, const struct cfg_alias *alias)
{
	const struct alias_info *in = info_of(set, alias);

	return in != NULL ? in->result : NULL;
}

static void
collisions(const struct cfg_alias *a, const json_t *obj, struct buf *names, bool *seen)
{
	size_t k;

	if (!json_is_object(obj))
		return;
	for (k = 0; k < a->immutable.n; k++) {
		if (seen[k] || json_object_get(obj, a->immutable.v[k].key) == NULL)
			continue;
		seen[k] = true;
		buf_printf(names, "%s%s", names->len ? "," : "", a->immutable.v[k].key);
	}
}

int
alias_apply_immutable(const struct alias_set *set, const struct cfg_alias *a,
    json_t *params, const json_t *ctx, char *err, size_t errlen)
{
	const struct alias_info *in = info_of(set, a);
	json_t *vals = NULL;
	struct buf names, out;
	bool *seen;
	size_t k, i;
	int rc = -1;

	if (in == NULL)
		return ack_err(err, errlen, "unknown alias");
	if (a->immutable.n == 0)
		return 0;
	seen = xcalloc(a->immutable.n, sizeof *seen);
	buf_init(&names, 0);
	buf_init(&out, RENDER_MAX);
	if (json_is_array(params)) {
		for (i = 0; i < json_array_size(params); i++)
			collisions(a, json_array_get(params, i), &names, seen);
	} else {
		collisions(a, params, &names, seen);
	}
	if (names.len > 0) {
		ack_err(err, errlen, "Immutable arguments cannot be overriden: %s", names.data);
		goto out;
	}
	vals = json_object();
	for (k = 0; k < a->immutable.n; k++) {
		const struct cfg_kv *kv = &a->immutable.v[k];
		char terr[ACK_ERR_LEN];

		if (in->imm[k] == NULL) {
			json_object_set_new(vals, kv->key, json_string(kv->value.s ? kv->value.s : ""));
			continue;
		}
		buf_reset(&out);
		if (tmpl_render(in->imm[k], ctx, &out, terr, sizeof terr) < 0) {
			ack_err(err, errlen, "immutable parameter \"%s\": %s", kv->key, terr);
			goto out;
		}
		json_object_set_new(vals, kv->key, json_stringn(out.data ? out.data : "", out.len));
	}
	if (json_is_array(params)) {
		for (i = 0; i < json_array_size(params); i++)
			json_object_update(json_array_get(params, i), vals);
	} else {
		json_object_update(params, vals);
	}
	rc = 0;
out:
	json_decref(vals);
	buf_free(&names);
	buf_free(&out);
	free(seen);
	return rc;
}
