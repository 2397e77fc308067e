/*
 * cfg_read.c - typed readers over the TOML tree for the config schema: each
 * one checks the type and value of one key and, when it is wrong, reports
 * file:line:col, the full key path and what was expected, then carries on.
 * Also the did-you-mean for misspelt keys and values (edit distance).
 */
#include "cfg_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bot/log.h"

struct cfg_pos
cfg_pos_of(struct toml_pos p)
{
	struct cfg_pos r = { p.line, p.col };

	return r;
}

/* --- naming ------------------------------------------------------------- */

static bool
bare_key(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

void
cfg_quote(char *out, size_t outlen, const char *s)
{
	char esc[72];

	log_escape(esc, sizeof esc, s, strlen(s));
	snprintf(out, outlen, "\"%s\"", esc);
}

void
cfg_path_join(char *out, size_t outlen, const char *path, const char *key)
{
	char seg[96];

	if (bare_key(key))
		snprintf(seg, sizeof seg, "%s", key);
	else if (strchr(key, '\'') == NULL && strlen(key) < 80 &&
	    !has_control(key))
		snprintf(seg, sizeof seg, "'%s'", key);   /* a TOML literal key */
	else
		cfg_quote(seg, sizeof seg, key);
	if (path == NULL || *path == '\0')
		snprintf(out, outlen, "%s", seg);
	else
		snprintf(out, outlen, "%s.%s", path, seg);
}

static void
format_float(double f, char *out, size_t outlen)
{
	int prec;

	if (isnan(f)) {
		snprintf(out, outlen, "nan");
		return;
	}
	if (isinf(f)) {
		snprintf(out, outlen, f < 0 ? "-inf" : "inf");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, f);
		if (strtod(out, NULL) == f)
			break;
	}
	if (strpbrk(out, ".eE") == NULL && strlen(out) + 3 <= outlen)
		strcat(out, ".0");
}

void
cfg_describe(const struct toml_value *v, char *out, size_t outlen)
{
	char tmp[96];

	switch (v->type) {
	case TOML_STRING:
		cfg_quote(out, outlen, v->u.s.ptr);
		break;
	case TOML_INTEGER:
		snprintf(out, outlen, "an integer (%" PRId64 ")", v->u.i);
		break;
	case TOML_FLOAT:
		format_float(v->u.f, tmp, sizeof tmp);
		snprintf(out, outlen, "a float (%s)", tmp);
		break;
	case TOML_BOOL:
		snprintf(out, outlen, "a boolean (%s)", v->u.b ? "true" : "false");
		break;
	case TOML_ARRAY:
		snprintf(out, outlen, "an array");
		break;
	case TOML_TABLE:
		snprintf(out, outlen, "a table");
		break;
	default:
		snprintf(out, outlen, "a %s", toml_type_name(v->type));
		break;
	}
}

void
cfg_tab_root(struct cfg_tab *tab, struct cfg_ctx *x, const struct toml_table *t)
{
	tab->x = x;
	tab->t = t;
	tab->owner[0] = '\0';
	tab->path[0] = '\0';
	snprintf(tab->label, sizeof tab->label, "the top level");
}

void
cfg_tab_child(struct cfg_tab *child, const struct cfg_tab *parent,
    const struct toml_table *t, const char *key, const char *label)
{
	char path[sizeof child->path];

	cfg_path_join(path, sizeof path, parent->path, key);
	child->x = parent->x;
	child->t = t;
	snprintf(child->owner, sizeof child->owner, "%s", parent->owner);
	snprintf(child->path, sizeof child->path, "%s", path);
	if (label != NULL)
		snprintf(child->label, sizeof child->label, "%s", label);
	else if (parent->owner[0] == '\0')
		snprintf(child->label, sizeof child->label, "[%s]", path);
	else
		snprintf(child->label, sizeof child->label, "table \"%s\" of %s",
		    path, parent->owner);
}

/* --- diagnostics -------------------------------------------------------- */

void
cfg_keypath(const struct cfg_tab *tab, const char *key, char *out, size_t outlen)
{
	cfg_path_join(out, outlen, tab->path, key);
}

static void path_vdiag(const struct cfg_tab *tab, enum diag_severity sev,
    struct toml_pos pos, const char *fullpath, const char *fmt, va_list ap)
    ACK_PRINTF(5, 0);

static void
path_vdiag(const struct cfg_tab *tab, enum diag_severity sev,
    struct toml_pos pos, const char *fullpath, const char *fmt, va_list ap)
{
	char *msg = xvasprintf(fmt, ap);

	if (tab->owner[0])
		diag_add(tab->x->d, sev, tab->x->file, pos.line, pos.col,
		    "%s: key \"%s\": %s", tab->owner, fullpath, msg);
	else
		diag_add(tab->x->d, sev, tab->x->file, pos.line, pos.col,
		    "key \"%s\": %s", fullpath, msg);
	free(msg);
}

void
cfg_path_diag(const struct cfg_tab *tab, enum diag_severity sev,
    struct toml_pos pos, const char *fullpath, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	path_vdiag(tab, sev, pos, fullpath, fmt, ap);
	va_end(ap);
}

void
cfg_key_diag(const struct cfg_tab *tab, enum diag_severity sev,
    struct toml_pos pos, const char *key, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	cfg_keypath(tab, key, path, sizeof path);
	va_start(ap, fmt);
	path_vdiag(tab, sev, pos, path, fmt, ap);
	va_end(ap);
}

void
cfg_tab_err(const struct cfg_tab *tab, struct toml_pos pos, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (tab->owner[0])
		diag_add(tab->x->d, DIAG_ERROR, tab->x->file, pos.line, pos.col,
		    "%s: %s", tab->owner, msg);
	else
		diag_add(tab->x->d, DIAG_ERROR, tab->x->file, pos.line, pos.col,
		    "%s", msg);
	free(msg);
}

void
cfg_expected(const struct cfg_tab *tab, const struct toml_keyval *kv,
    const char *what)
{
	char got[128];

	cfg_describe(&kv->value, got, sizeof got);
	cfg_key_err(tab, kv->value.pos, kv->key, "expected %s, got %s", what, got);
}

void
cfg_missing(const struct cfg_tab *tab, const char *key, const char *what)
{
	diag_add(tab->x->d, DIAG_ERROR, tab->x->file, tab->t->pos.line,
	    tab->t->pos.col, "missing required key \"%s\" in %s: expected %s",
	    key, tab->label, what);
}

/* --- did you mean --------------------------------------------------------- */

size_t
cfg_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best;
	size_t *prev2, *prev, *cur, *tmp, r;

	if (la > 64 || lb > 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	prev2 = xcalloc(lb + 1, sizeof *prev2);
	prev = xcalloc(lb + 1, sizeof *prev);
	cur = xcalloc(lb + 1, sizeof *cur);
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		best = cur[0];
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca == cb ? 0 : 1, v;

			v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
		if (best > cap) {
			r = cap + 1;
			goto out;
		}
	}
	r = prev[lb] > cap ? cap + 1 : prev[lb];
out:
	free(prev2);
	free(prev);
	free(cur);
	return r;
}

const char *
cfg_suggest(const char *s, const char *const *cands, size_t n)
{
	size_t len = strlen(s), cap, i, d, best_d;
	const char *best = NULL;

	if (len == 0)
		return NULL;
	cap = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	best_d = cap + 1;
	for (i = 0; i < n; i++) {
		if (cands[i] == NULL || strcmp(cands[i], s) == 0)
			continue;
		d = cfg_edit_distance(s, cands[i], cap);
		if (d < best_d && d < len) {
			best_d = d;
			best = cands[i];
		}
	}
	if (best != NULL || len < 3)
		return best;
	/* No near miss: a longer or shorter spelling of exactly one candidate
	 * ("enviroment" for "env", "approver" for "approvers"). */
	for (i = 0; i < n; i++) {
		size_t cl;

		if (cands[i] == NULL || (cl = strlen(cands[i])) < 3)
			continue;
		if (strncasecmp(s, cands[i], cl < len ? cl : len) != 0)
			continue;
		if (best != NULL)
			return NULL;            /* ambiguous */
		best = cands[i];
	}
	return best;
}

void
cfg_did_you_mean(char *out, size_t outlen, const char *s,
    const char *const *cands, size_t n)
{
	const char *m = cfg_suggest(s, cands, n);

	if (m != NULL) {
		char q[96];

		cfg_quote(q, sizeof q, m);
		snprintf(out, outlen, " (did you mean %s?)", q);
	} else if (outlen > 0) {
		out[0] = '\0';
	}
}

bool
cfg_misspelt(const struct cfg_tab *tab, const char *key,
    const char *const *keys, size_t n)
{
	size_t i, j;

	for (i = 0; i < tab->t->n; i++) {
		const char *k = tab->t->items[i].key;
		const char *m;
		bool known = false;

		for (j = 0; j < n && !known; j++)
			known = strcmp(k, keys[j]) == 0;
		if (!known && (m = cfg_suggest(k, keys, n)) != NULL &&
		    strcmp(m, key) == 0)
			return true;
	}
	return false;
}

size_t
cfg_check_keys(const struct cfg_tab *tab, const char *const *keys, size_t n)
{
	size_t i, j, bad = 0;

	for (i = 0; i < tab->t->n; i++) {
		const struct toml_keyval *kv = &tab->t->items[i];
		bool ok = false;
		char q[96], dym[128];

		if (strlen(kv->key) == kv->keylen)
			for (j = 0; j < n && !ok; j++)
				ok = strcmp(kv->key, keys[j]) == 0;
		if (ok)
			continue;
		cfg_quote(q, sizeof q, kv->key);
		cfg_did_you_mean(dym, sizeof dym, kv->key, keys, n);
		diag_add(tab->x->d, DIAG_ERROR, tab->x->file, kv->key_pos.line,
		    kv->key_pos.col, "unknown key %s in %s%s", q, tab->label, dym);
		bad++;
	}
	return bad;
}

/* --- typed readers -------------------------------------------------------- */

const struct toml_keyval *
cfg_get(const struct cfg_tab *tab, const char *key)
{
	return toml_table_find(tab->t, key, strlen(key));
}

char *
cfg_plain_string(const struct toml_value *v)
{
	if (v->type != TOML_STRING || strlen(v->u.s.ptr) != v->u.s.len)
		return NULL;
	return xstrdup(v->u.s.ptr);
}

char *
cfg_scalar_string(const struct toml_value *v)
{
	char tmp[64];

	switch (v->type) {
	case TOML_STRING:
		return cfg_plain_string(v);
	case TOML_INTEGER:
		return xasprintf("%" PRId64, v->u.i);
	case TOML_FLOAT:
		format_float(v->u.f, tmp, sizeof tmp);
		return xstrdup(tmp);
	case TOML_BOOL:
		return xstrdup(v->u.b ? "true" : "false");
	default:
		return NULL;
	}
}

/* Reports a string holding U+0000; returns true if v is such a string. */
static bool
has_nul(const struct cfg_tab *tab, const char *fullpath, const struct toml_value *v)
{
	if (v->type == TOML_STRING && strlen(v->u.s.ptr) != v->u.s.len) {
		cfg_path_diag(tab, DIAG_ERROR, v->pos, fullpath,
		    "must not contain a NUL character (\\u0000)");
		return true;
	}
	return false;
}

bool
cfg_read_str(const struct cfg_tab *tab, const char *key, struct cfg_str *out)
{
	const struct toml_keyval *kv = cfg_get(tab, key);
	char path[256];

	if (kv == NULL)
		return false;
	if (kv->value.type != TOML_STRING) {
		cfg_expected(tab, kv, "a string");
		return false;
	}
	cfg_keypath(tab, key, path, sizeof path);
	if (has_nul(tab, path, &kv->value))
		return false;
	free(out->s);
	out->s = xstrdup(kv->value.u.s.ptr);
	out->pos = cfg_pos_of(kv->value.pos);
	return true;
}

bool
cfg_read_strdup(const struct cfg_tab *tab, const char *key, char **out)
{
	struct cfg_str s = { NULL, { 0, 0 } };

	if (!cfg_read_str(tab, key, &s))
		return false;
	free(*out);
	*out = s.s;
	return true;
}

bool
cfg_read_nonempty(const struct cfg_tab *tab, const char *key, char **out)
{
	const struct toml_keyval *kv = cfg_get(tab, key);

	if (kv != NULL && kv->value.type == TOML_STRING && kv->value.u.s.len == 0) {
		cfg_key_err(tab, kv->value.pos, key,
		    "expected a non-empty string, got \"\"");
		return false;
	}
	return cfg_read_strdup(tab, key, out);
}

bool
cfg_read_bool(const struct cfg_tab *tab, const char *key, bool *out)
{
	const struct toml_keyval *kv = cfg_get(tab, key);

	if (kv == NULL)
		return false;
	if (kv->value.type != TOML_BOOL) {
		if (kv->value.type == TOML_STRING &&
		    (strcmp(kv->value.u.s.ptr, "true") == 0 ||
		    strcmp(kv->value.u.s.ptr, "false") == 0))
			cfg_expected(tab, kv, "true or false (without quotes)");
		else
			cfg_expected(tab, kv, "true or false");
		return false;
	}
	*out = kv->value.u.b;
	return true;
}

bool
cfg_read_int(const struct cfg_tab *tab, const char *key, int64_t min,
    int64_t max, int64_t *out)
{
	const struct toml_keyval *kv = cfg_get(tab, key);
	char what[96];

	if (kv == NULL)
		return false;
	snprintf(what, sizeof what, "an integer from %" PRId64 " to %" PRId64,
	    min, max);
	if (kv->value.type != TOML_INTEGER) {
		if (kv->value.type == TOML_STRING) {
			char *end;

			(void)strtoll(kv->value.u.s.ptr, &end, 10);
			if (kv->value.u.s.len > 0 && *end == '\0') {
				char w2[160];

				snprintf(w2, sizeof w2, "%s (without quotes)", what);
				cfg_expected(tab, kv, w2);
				return false;
			}
		}
		cfg_expected(tab, kv, what);
		return false;
	}
	if (kv->value.u.i < min || kv->value.u.i > max) {
		cfg_key_err(tab, kv->value.pos, key, "expected %s, got %" PRId64,
		    what, kv->value.u.i);
		return false;
	}
	*out = kv->value.u.i;
	return true;
}

#define DURATION_EXPECTED \
	"a duration such as \"30s\", \"5m\", \"1h30m\" or \"250ms\""

bool
cfg_read_duration(const struct cfg_tab *tab, const char *key, bool allow_zero,
    uint64_t *out_ms)
{
	const struct toml_keyval *kv = cfg_get(tab, key);
	char err[ACK_ERR_LEN], got[128];
	uint64_t ms;

	if (kv == NULL)
		return false;
	if (kv->value.type == TOML_INTEGER || kv->value.type == TOML_FLOAT) {
		cfg_describe(&kv->value, got, sizeof got);
		cfg_key_err(tab, kv->value.pos, key,
		    "expected %s (a number needs a unit and quotes), got %s",
		    DURATION_EXPECTED, got);
		return false;
	}
	if (kv->value.type != TOML_STRING) {
		cfg_expected(tab, kv, DURATION_EXPECTED);
		return false;
	}
	if (strlen(kv->value.u.s.ptr) != kv->value.u.s.len ||
	    ack_parse_duration(kv->value.u.s.ptr, &ms, err, sizeof err) < 0) {
		cfg_describe(&kv->value, got, sizeof got);
		if (strstr(err, "too large") != NULL)
			cfg_key_err(tab, kv->value.pos, key,
			    "duration %s is too large", got);
		else
			cfg_expected(tab, kv, DURATION_EXPECTED);
		return false;
	}
	if (ms == 0 && !allow_zero) {
		cfg_describe(&kv->value, got, sizeof got);
		cfg_key_err(tab, kv->value.pos, key,
		    "expected a duration of more than 0, got %s", got);
		return false;
	}
	*out_ms = ms;
	return true;
}

/* "\"a\", \"b\" or \"c\"" */
static void
list_names(char *out, size_t outlen, const char *const *names, size_t n)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o < outlen; i++) {
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		int w = snprintf(out + o, outlen - o, "%s\"%s\"", sep, names[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

bool
cfg_read_enum(const struct cfg_tab *tab, const char *key,
    const char *const *names, size_t n, int *out)
{
	const struct toml_keyval *kv = cfg_get(tab, key);
	char what[256], got[128], dym[128];
	size_t i;

	if (kv == NULL)
		return false;
	list_names(what, sizeof what, names, n);
	if (kv->value.type != TOML_STRING) {
		char w2[300];

		snprintf(w2, sizeof w2, "one of %s", what);
		cfg_expected(tab, kv, w2);
		return false;
	}
	for (i = 0; i < n; i++)
		if (strcmp(kv->value.u.s.ptr, names[i]) == 0) {
			*out = (int)i;
			return true;
		}
	cfg_describe(&kv->value, got, sizeof got);
	cfg_did_you_mean(dym, sizeof dym, kv->value.u.s.ptr, names, n);
	cfg_key_err(tab, kv->value.pos, key, "expected one of %s, got %s%s",
	    what, got, dym);
	return false;
}

void
cfg_strv_push(struct cfg_strv *v, const char *s, struct cfg_pos pos)
{
	v->v = xrealloc(v->v, (v->n + 1) * sizeof *v->v);
	v->v[v->n].s = xstrdup(s);
	v->v[v->n].pos = pos;
	v->n++;
}

bool
cfg_strv_has(const struct cfg_strv *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->v[i].s, s) == 0)
			return true;
	return false;
}

bool
cfg_read_strv(const struct cfg_tab *tab, const char *key, bool single_ok,
    bool nonempty, struct cfg_strv *out)
{
	const struct toml_keyval *kv = cfg_get(tab, key);
	const struct toml_array *a;
	struct cfg_strv v = { NULL, 0 };
	char path[256], epath[288], got[128];
	size_t i;
	bool ok = true;

	if (kv == NULL)
		return false;
	cfg_keypath(tab, key, path, sizeof path);
	if (single_ok && kv->value.type == TOML_STRING) {
		if (has_nul(tab, path, &kv->value))
			return false;
		if (nonempty && kv->value.u.s.len == 0) {
			cfg_key_err(tab, kv->value.pos, key,
			    "expected a non-empty string, got \"\"");
			return false;
		}
		cfg_strv_free(out);
		cfg_strv_push(out, kv->value.u.s.ptr, cfg_pos_of(kv->value.pos));
		return true;
	}
	if (kv->value.type != TOML_ARRAY) {
		cfg_expected(tab, kv, single_ok ?
		    "a string or an array of strings" : "an array of strings");
		return false;
	}
	a = kv->value.u.array;
	for (i = 0; i < a->n; i++) {
		const struct toml_value *e = &a->items[i];

		snprintf(epath, sizeof epath, "%s[%zu]", path, i);
		if (e->type != TOML_STRING) {
			cfg_describe(e, got, sizeof got);
			cfg_path_diag(tab, DIAG_ERROR, e->pos, epath,
			    "expected a string, got %s", got);
			ok = false;
			continue;
		}
		if (has_nul(tab, epath, e)) {
			ok = false;
			continue;
		}
		if (nonempty && e->u.s.len == 0) {
			cfg_path_diag(tab, DIAG_ERROR, e->pos, epath,
			    "expected a non-empty string, got \"\"");
			ok = false;
			continue;
		}
		cfg_strv_push(&v, e->u.s.ptr, cfg_pos_of(e->pos));
	}
	if (!ok) {
		cfg_strv_free(&v);
		return false;
	}
	cfg_strv_free(out);
	*out = v;
	return true;
}

void
cfg_read_kvv_table(const struct cfg_tab *tab, bool scalars_ok,
    struct cfg_kvv *out)
{
	cfg_read_kvv_table_ex(tab, scalars_ok, false, out);
}

void
cfg_read_kvv_table_ex(const struct cfg_tab *tab, bool scalars_ok, bool secrets_ok,
    struct cfg_kvv *out)
{
	size_t i;

	for (i = 0; i < tab->t->n; i++) {
		const struct toml_keyval *kv = &tab->t->items[i];
		char path[256];
		char *s;
		bool secret = false;

		cfg_keypath(tab, kv->key, path, sizeof path);
		if (strlen(kv->key) != kv->keylen) {
			cfg_path_diag(tab, DIAG_ERROR, kv->key_pos, path,
			    "a key must not contain a NUL character (\\u0000)");
			continue;
		}
		if (secrets_ok && kv->value.type == TOML_TABLE) {
			struct cfg_secret sec;

			memset(&sec, 0, sizeof sec);
			if (!cfg_read_secret(tab, kv->key, &sec))
				continue;
			if (tab->x->resolve_secrets) {
				size_t before = tab->x->d->nerrors;

				cfg_resolve_secret(tab->x, &sec, path, true, NULL);
				if (tab->x->d->nerrors != before || sec.value == NULL) {
					cfg_secret_free(&sec);
					continue;
				}
			}
			s = xstrdup(sec.value ? sec.value : "");
			cfg_secret_free(&sec);
			secret = true;
		} else {
			if (has_nul(tab, path, &kv->value))
				continue;
			s = scalars_ok ? cfg_scalar_string(&kv->value) :
			    cfg_plain_string(&kv->value);
			if (s == NULL) {
				cfg_expected(tab, kv, secrets_ok ?
				    "a string, number, boolean, or a secret "
				    "{ env = \"NAME\" } / { file = \"PATH\" }" : scalars_ok ?
				    "a string, number or boolean" : "a string");
				continue;
			}
		}
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n].key = xstrdup(kv->key);
		out->v[out->n].value.s = s;
		out->v[out->n].value.pos = cfg_pos_of(kv->value.pos);
		out->v[out->n].secret = secret;
		out->n++;
	}
}

bool
cfg_read_table(const struct cfg_tab *tab, const char *key, const char *label,
    struct cfg_tab *child)
{
	const struct toml_keyval *kv = cfg_get(tab, key);

	if (kv == NULL)
		return false;
	if (kv->value.type != TOML_TABLE) {
		cfg_expected(tab, kv, "a table");
		return false;
	}
	cfg_tab_child(child, tab, kv->value.u.table, key, label);
	return true;
}

bool
cfg_read_kvv(const struct cfg_tab *tab, const char *key, bool scalars_ok,
    struct cfg_kvv *out)
{
	struct cfg_tab child;

	if (!cfg_read_table(tab, key, NULL, &child))
		return false;
	cfg_read_kvv_table(&child, scalars_ok, out);
	return true;
}

/* --- freeing ------------------------------------------------------------ */

void
cfg_str_free(struct cfg_str *s)
{
	free(s->s);
	s->s = NULL;
}

void
cfg_strv_free(struct cfg_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i].s);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

void
cfg_kvv_free(struct cfg_kvv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		free(v->v[i].key);
		if (v->v[i].secret && v->v[i].value.s != NULL)
			explicit_bzero(v->v[i].value.s, strlen(v->v[i].value.s));
		free(v->v[i].value.s);
	}
	free(v->v);
	v->v = NULL;
	v->n = 0;
}
