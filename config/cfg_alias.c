/*
 * cfg_alias.c - the [[alias]] array: each alias's formats, its handler table
 * ([alias.exec] or [alias.http]), messages, confirmation, access rules and
 * immutable parameters. Reading checks each alias on its own; the
 * cross-checks that need users and groups (declared anywhere in the file)
 * run afterwards in cfg_check_aliases.
 *
 * Formats, templates, argv elements and header values are only stored here,
 * with their positions; the alias engine compiles them in a second pass.
 */
#include "cfg_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const alias_keys[] = {
	"name", "description", "category", "enabled", "formats", "exec", "http",
	"timeout", "max_concurrent", "ack", "result", "confirm", "access",
	"immutable_parameters",
};
static const char *const format_keys[] = {
	"display", "representation", "match_multiple",
};
static const char *const exec_keys[] = {
	"argv", "cwd", "env", "max_output", "run_as_user",
};
static const char *const http_keys[] = {
	"method", "url", "headers", "body", "ca_file", "max_output",
};
static const char *const http_methods[] = {
	"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
};
static const char *const confirm_keys[] = {
	"required", "timeout", "approvers", "approver_groups", "allow_self",
	"approvals",
};
static const char *const access_keys[] = {
	"users", "groups", "channels", "deny_users", "deny_groups",
	"deny_channels", "direct_only",
};

/* Largest output cap an alias may ask for: 64 MiB. */
#define MAX_OUTPUT_LIMIT ((int64_t)64 << 20)

static bool
name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return false;
	return true;
}

static bool
ident_ok(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* RFC 9110 token characters, for header names. */
static bool
token_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL)
			return false;
	return true;
}

/* A child table whose path is written as is (e.g. "formats[0]"). */
static void
tab_at(struct cfg_tab *child, const struct cfg_tab *parent,
    const struct toml_table *t, const char *path, const char *label)
{
	child->x = parent->x;
	child->t = t;
	snprintf(child->owner, sizeof child->owner, "%s", parent->owner);
	snprintf(child->path, sizeof child->path, "%s", path);
	snprintf(child->label, sizeof child->label, "%s", label);
}

/* --- formats ------------------------------------------------------------ */

static bool
read_format_table(const struct cfg_tab *tab, const struct toml_value *v,
    size_t i, struct cfg_format *f)
{
	struct cfg_tab ft;
	char path[64], label[256];
	const struct toml_keyval *rep;
	bool ok = true;

	snprintf(path, sizeof path, "formats[%zu]", i);
	snprintf(label, sizeof label, "formats[%zu] of %s", i, tab->owner);
	tab_at(&ft, tab, v->u.table, path, label);
	if (cfg_check_keys(&ft, format_keys, ACK_ARRAY_LEN(format_keys)) > 0)
		ok = false;
	if (cfg_get(&ft, "display") != NULL && !cfg_read_str(&ft, "display", &f->display))
		ok = false;
	if (f->display.s != NULL && f->display.s[0] == '\0') {
		cfg_key_err(&ft, cfg_get(&ft, "display")->value.pos, "display",
		    "expected a non-empty string, got \"\"");
		ok = false;
	}
	rep = cfg_get(&ft, "representation");
	if (rep != NULL) {
		if (!cfg_read_strv(&ft, "representation", true, true,
		    &f->representations))
			ok = false;
		else if (f->representations.n == 0) {
			cfg_key_err(&ft, rep->value.pos, "representation",
			    "expected a string or a non-empty array of strings, "
			    "got an empty array");
			ok = false;
		}
	}
	if (cfg_get(&ft, "match_multiple") != NULL &&
	    !cfg_read_bool(&ft, "match_multiple", &f->match_multiple))
		ok = false;
	if (ok && f->display.s == NULL && f->representations.n == 0) {
		cfg_path_diag(tab, DIAG_ERROR, v->pos, path,
		    "a format table needs \"display\" (shown in help) or "
		    "\"representation\" (matched), or both");
		ok = false;
	}
	return ok;
}

static void
read_formats(const struct cfg_tab *tab, struct cfg_alias *a)
{
	const struct toml_keyval *kv = cfg_get(tab, "formats");
	const struct toml_array *arr;
	size_t i;

	if (kv == NULL) {
		if (!cfg_misspelt(tab, "formats", alias_keys, ACK_ARRAY_LEN(alias_keys)))
			cfg_missing(tab, "formats", "an array of format "
			    "strings such as [\"deploy {{app}}\"]");
		return;
	}
	if (kv->value.type != TOML_ARRAY) {
		cfg_expected(tab, kv, "an array of format strings such as "
		    "[\"deploy {{app}}\"]");
		return;
	}
	arr = kv->value.u.array;
	if (arr->n == 0) {
		cfg_key_err(tab, kv->value.pos, "formats",
		    "expected at least one format, got an empty array");
		return;
	}
	a->formats = xcalloc(arr->n, sizeof *a->formats);
	for (i = 0; i < arr->n; i++) {
		const struct toml_value *v = &arr->items[i];
		struct cfg_format *f = &a->formats[a->nformats];
		char path[64], got[128];

		memset(f, 0, sizeof *f);
		f->pos = cfg_pos_of(v->pos);
		snprintf(path, sizeof path, "formats[%zu]", i);
		if (v->type == TOML_STRING) {
			char *s = cfg_plain_string(v);

			if (s == NULL) {
				cfg_path_diag(tab, DIAG_ERROR, v->pos, path,
				    "must not contain a NUL character (\\u0000)");
				continue;
			}
			if (*s == '\0') {
				cfg_path_diag(tab, DIAG_ERROR, v->pos, path,
				    "expected a non-empty format, got \"\"");
				free(s);
				continue;
			}
			/* As StackStorm normalises it: shown and matched. */
			f->display.s = s;
			f->display.pos = f->pos;
			cfg_strv_push(&f->representations, s, f->pos);
			a->nformats++;
		} else if (v->type == TOML_TABLE) {
			if (read_format_table(tab, v, i, f)) {
				a->nformats++;
			} else {
				cfg_str_free(&f->display);
				cfg_strv_free(&f->representations);
			}
		} else {
			cfg_describe(v, got, sizeof got);
			cfg_path_diag(tab, DIAG_ERROR, v->pos, path,
			    "expected a format string or a table { display = "
			    "\"...\", representation = \"...\" }, got %s", got);
		}
	}
}

/* --- handlers ----------------------------------------------------------- */

static void
read_max_output(const struct cfg_tab *tab, size_t *out)
{
	int64_t n;

	if (cfg_read_int(tab, "max_output", 1, MAX_OUTPUT_LIMIT, &n))
		*out = (size_t)n;
}

static void
read_exec(const struct cfg_tab *tab, struct cfg_exec *e)
{
	const struct toml_keyval *kv;
	struct cfg_tab envt;
	size_t i;

	cfg_check_keys(tab, exec_keys, ACK_ARRAY_LEN(exec_keys));
	kv = cfg_get(tab, "argv");
	if (kv == NULL) {
		if (!cfg_misspelt(tab, "argv", exec_keys, ACK_ARRAY_LEN(exec_keys)))
			cfg_missing(tab, "argv", "an array of strings such as "
			    "[\"systemctl\", \"status\", \"{{service}}\"]");
	} else if (cfg_read_strv(tab, "argv", false, false, &e->argv)) {
		if (e->argv.n == 0)
			cfg_key_err(tab, kv->value.pos, "argv",
			    "expected the program and its arguments, got an empty "
			    "array");
		else if (e->argv.v[0].s[0] == '\0')
			cfg_path_diag(tab, DIAG_ERROR, kv->value.u.array->items[0].pos,
			    "exec.argv[0]", "the program name must not be empty");
	}
	cfg_read_str(tab, "cwd", &e->cwd);
	if (e->cwd.s != NULL && e->cwd.s[0] == '\0') {
		cfg_key_err(tab, cfg_get(tab, "cwd")->value.pos, "cwd",
		    "expected a directory, got \"\"");
		cfg_str_free(&e->cwd);
	}
	if (cfg_read_table(tab, "env", NULL, &envt)) {
		cfg_read_kvv_table(&envt, true, &e->env);
		for (i = 0; i < e->env.n; i++)
			if (!ident_ok(e->env.v[i].key)) {
				const struct toml_keyval *ek =
				    cfg_get(&envt, e->env.v[i].key);
				char path[256];

				cfg_keypath(&envt, e->env.v[i].key, path, sizeof path);
				cfg_path_diag(tab, DIAG_ERROR, ek->key_pos, path,
				    "an environment variable name is letters, "
				    "digits and \"_\", not starting with a digit");
			}
	}
	read_max_output(tab, &e->max_output);
	cfg_read_bool(tab, "run_as_user", &e->run_as_user);
}

static bool
has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

static void
read_http(const struct cfg_tab *tab, struct cfg_http *h)
{
	const struct toml_keyval *kv;
	struct cfg_tab ht;
	size_t i;

	cfg_check_keys(tab, http_keys, ACK_ARRAY_LEN(http_keys));
	kv = cfg_get(tab, "method");
	if (kv != NULL && kv->value.type == TOML_STRING) {
		char got[128], dym[128];

		for (i = 0; i < ACK_ARRAY_LEN(http_methods); i++)
			if (strcasecmp(kv->value.u.s.ptr, http_methods[i]) == 0)
				break;
		if (i < ACK_ARRAY_LEN(http_methods)) {
			cfg_str_free(&h->method);
			h->method.s = xstrdup(http_methods[i]);
			h->method.pos = cfg_pos_of(kv->value.pos);
		} else {
			cfg_describe(&kv->value, got, sizeof got);
			cfg_did_you_mean(dym, sizeof dym, kv->value.u.s.ptr,
			    http_methods, ACK_ARRAY_LEN(http_methods));
			cfg_key_err(tab, kv->value.pos, "method",
			    "expected one of \"GET\", \"POST\", \"PUT\", \"PATCH\", "
			    "\"DELETE\" or \"HEAD\", got %s%s", got, dym);
		}
	} else if (kv != NULL) {
		cfg_expected(tab, kv, "an HTTP method such as \"GET\" or \"POST\"");
	}
	kv = cfg_get(tab, "url");
	if (kv == NULL) {
		if (!cfg_misspelt(tab, "url", http_keys, ACK_ARRAY_LEN(http_keys)))
			cfg_missing(tab, "url", "a URL such as "
			    "\"https://ci.example.com/job/{{app}}\"");
	} else if (cfg_read_str(tab, "url", &h->url)) {
		const char *u = h->url.s;

		if (strncasecmp(u, "http://", 7) != 0 &&
		    strncasecmp(u, "https://", 8) != 0 && strncmp(u, "{{", 2) != 0) {
			char got[128];

			cfg_describe(&kv->value, got, sizeof got);
			cfg_key_err(tab, kv->value.pos, "url",
			    "expected a URL starting with http:// or https://, got %s",
			    got);
		}
	}
	if (cfg_read_table(tab, "headers", NULL, &ht)) {
		cfg_read_kvv_table(&ht, true, &h->headers);
		for (i = 0; i < h->headers.n; i++) {
			const struct cfg_kv *hv = &h->headers.v[i];
			const struct toml_keyval *hk = cfg_get(&ht, hv->key);
			char path[256];

			cfg_keypath(&ht, hv->key, path, sizeof path);
			if (!token_ok(hv->key))
				cfg_path_diag(tab, DIAG_ERROR, hk->key_pos, path,
				    "not a valid HTTP header name");
			if (has_crlf(hv->value.s))
				cfg_path_diag(tab, DIAG_ERROR, hk->value.pos, path,
				    "a header value must not contain a line break");
		}
	}
	cfg_read_str(tab, "body", &h->body);
	cfg_read_nonempty(tab, "ca_file", &h->ca_file.s);
	if ((kv = cfg_get(tab, "ca_file")) != NULL)
		h->ca_file.pos = cfg_pos_of(kv->value.pos);
	read_max_output(tab, &h->max_output);
}

/* --- messages, confirm, access, immutable ---------------------------------- */

static void
read_template(const struct cfg_tab *tab, const char *key, struct cfg_template *t)
{
	const struct toml_keyval *kv = cfg_get(tab, key);

	t->enabled = true;
	if (kv == NULL)
		return;
	if (kv->value.type == TOML_BOOL) {
		t->enabled = kv->value.u.b;
		return;
	}
	if (kv->value.type != TOML_STRING) {
		cfg_expected(tab, kv, "a message template, or false to send none");
		return;
	}
	if (kv->value.u.s.len == 0) {
		cfg_key_err(tab, kv->value.pos, key, "expected a message template, "
		    "or false to send none, got \"\"");
		return;
	}
	cfg_read_str(tab, key, &t->text);
}

static void
read_confirm(const struct cfg_tab *tab, struct cfg_confirm *c,
    struct cfg_pos *approvals_pos)
{
	const struct toml_keyval *kv = cfg_get(tab, "confirm");
	struct cfg_tab ct;
	char label[256];
	int64_t n;

	c->approvals = 1;
	c->allow_self = true;
	if (kv == NULL)
		return;
	c->pos = cfg_pos_of(kv->value.pos);
	if (kv->value.type == TOML_BOOL) {
		c->required = kv->value.u.b;
		return;
	}
	if (kv->value.type != TOML_TABLE) {
		cfg_expected(tab, kv, "true, false, or a table such as "
		    "{ timeout = \"2m\", approvers = [\"alice\"] }");
		return;
	}
	c->pos = cfg_pos_of(kv->value.u.table->pos);
	snprintf(label, sizeof label, "[alias.confirm] of %s", tab->owner);
	cfg_tab_child(&ct, tab, kv->value.u.table, "confirm", label);
	cfg_check_keys(&ct, confirm_keys, ACK_ARRAY_LEN(confirm_keys));
	c->required = true;
	cfg_read_bool(&ct, "required", &c->required);
	cfg_read_duration(&ct, "timeout", false, &c->timeout_ms);
	cfg_read_strv(&ct, "approvers", false, true, &c->approvers);
	cfg_read_strv(&ct, "approver_groups", false, true, &c->approver_groups);
	c->allow_self = c->approvers.n == 0 && c->approver_groups.n == 0;
	cfg_read_bool(&ct, "allow_self", &c->allow_self);
	if (cfg_read_int(&ct, "approvals", 1, 100, &n)) {
		c->approvals = (uint32_t)n;
		*approvals_pos = cfg_pos_of(cfg_get(&ct, "approvals")->value.pos);
	}
}

static void
read_access(const struct cfg_tab *tab, struct cfg_access *ac)
{
	struct cfg_tab at;
	char label[256];

	snprintf(label, sizeof label, "[alias.access] of %s", tab->owner);
	if (!cfg_read_table(tab, "access", label, &at))
		return;
	ac->present = true;
	ac->pos = cfg_pos_of(at.t->pos);
	cfg_check_keys(&at, access_keys, ACK_ARRAY_LEN(access_keys));
	cfg_read_strv(&at, "users", false, true, &ac->users);
	cfg_read_strv(&at, "groups", false, true, &ac->groups);
	cfg_read_strv(&at, "channels", false, true, &ac->channels);
	cfg_read_strv(&at, "deny_users", false, true, &ac->deny_users);
	cfg_read_strv(&at, "deny_groups", false, true, &ac->deny_groups);
	cfg_read_strv(&at, "deny_channels", false, true, &ac->deny_channels);
	cfg_read_bool(&at, "direct_only", &ac->direct_only);
}

static void
read_immutable(const struct cfg_tab *tab, struct cfg_kvv *out)
{
	struct cfg_tab it;
	size_t i;

	if (!cfg_read_table(tab, "immutable_parameters", NULL, &it))
		return;
	for (i = 0; i < it.t->n; i++) {
		const struct toml_keyval *kv = &it.t->items[i];
		char path[256], got[128];
		char *v;

		cfg_keypath(&it, kv->key, path, sizeof path);
		if (strlen(kv->key) != kv->keylen || !ident_ok(kv->key)) {
			cfg_path_diag(tab, DIAG_ERROR, kv->key_pos, path,
			    "a parameter name is letters, digits and \"_\", not "
			    "starting with a digit");
			continue;
		}
		if ((v = cfg_scalar_string(&kv->value)) == NULL) {
			cfg_describe(&kv->value, got, sizeof got);
			cfg_path_diag(tab, DIAG_ERROR, kv->value.pos, path,
			    "expected a string, number or boolean (a parameter "
			    "value is one template), got %s", got);
			continue;
		}
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n].key = xstrdup(kv->key);
		out->v[out->n].value.s = v;
		out->v[out->n].value.pos = cfg_pos_of(kv->value.pos);
		out->v[out->n].secret = false;
		out->n++;
	}
}

/* --- one alias -------------------------------------------------------------- */

static void
read_alias(struct cfg_ctx *x, const struct toml_table *t, size_t idx,
    struct cfg_alias *a, struct cfg_alias_where *where)
{
	struct cfg_tab tab, ht;
	const struct toml_keyval *kv, *ekv, *hkv;
	char label[256], q[96];
	int64_t n;

	memset(a, 0, sizeof *a);
	a->pos = cfg_pos_of(t->pos);
	a->enabled = true;
	a->category = xstrdup("general");
	tab.x = x;
	tab.t = t;
	tab.path[0] = '\0';
	snprintf(tab.owner, sizeof tab.owner, "alias #%zu", idx + 1);
	snprintf(tab.label, sizeof tab.label, "[[alias]] #%zu", idx + 1);

	kv = cfg_get(&tab, "name");
	if (kv == NULL) {
		if (!cfg_misspelt(&tab, "name", alias_keys, ACK_ARRAY_LEN(alias_keys)))
			cfg_missing(&tab, "name", "a unique name such as \"deploy\"");
	} else if (kv->value.type != TOML_STRING) {
		cfg_expected(&tab, kv, "a name such as \"deploy\"");
	} else if (strlen(kv->value.u.s.ptr) != kv->value.u.s.len ||
	    !name_ok(kv->value.u.s.ptr)) {
		char got[128];

		cfg_describe(&kv->value, got, sizeof got);
		cfg_key_err(&tab, kv->value.pos, "name", "expected a name made of "
		    "letters, digits, \"_\", \".\" and \"-\", got %s", got);
	} else {
		a->name = xstrdup(kv->value.u.s.ptr);
		where->name = cfg_pos_of(kv->value.pos);
		cfg_quote(q, sizeof q, a->name);
		snprintf(tab.owner, sizeof tab.owner, "alias %s", q);
		snprintf(tab.label, sizeof tab.label, "[[alias]] %s", q);
	}

	cfg_check_keys(&tab, alias_keys, ACK_ARRAY_LEN(alias_keys));
	cfg_read_strdup(&tab, "description", &a->description);
	cfg_read_nonempty(&tab, "category", &a->category);
	cfg_read_bool(&tab, "enabled", &a->enabled);
	read_formats(&tab, a);

	ekv = cfg_get(&tab, "exec");
	hkv = cfg_get(&tab, "http");
	if (ekv != NULL && hkv != NULL) {
		const struct toml_keyval *second =
		    ekv->key_pos.line > hkv->key_pos.line ? ekv : hkv;

		cfg_tab_err(&tab, second->key_pos, "has both [alias.exec] and "
		    "[alias.http]; an alias runs exactly one handler");
	} else if (ekv == NULL && hkv == NULL &&
	    !cfg_misspelt(&tab, "exec", alias_keys, ACK_ARRAY_LEN(alias_keys)) &&
	    !cfg_misspelt(&tab, "http", alias_keys, ACK_ARRAY_LEN(alias_keys))) {
		diag_add(x->d, DIAG_ERROR, x->file, t->pos.line, t->pos.col,
		    "missing handler in %s: expected an [alias.exec] table "
		    "(argv = [...]) or an [alias.http] table (url = \"...\")",
		    tab.label);
	}
	a->handler = hkv != NULL && ekv == NULL ? CFG_HANDLER_HTTP : CFG_HANDLER_EXEC;
	a->http.method.s = xstrdup("GET");
	snprintf(label, sizeof label, "[alias.exec] of %s", tab.owner);
	if (cfg_read_table(&tab, "exec", label, &ht))
		read_exec(&ht, &a->exec);
	snprintf(label, sizeof label, "[alias.http] of %s", tab.owner);
	if (cfg_read_table(&tab, "http", label, &ht))
		read_http(&ht, &a->http);

	cfg_read_duration(&tab, "timeout", false, &a->timeout_ms);
	if (cfg_read_int(&tab, "max_concurrent", 1, 100000, &n))
		a->max_concurrent = (uint32_t)n;
	read_template(&tab, "ack", &a->ack);
	read_template(&tab, "result", &a->result);
	read_confirm(&tab, &a->confirm, &where->approvals);
	read_access(&tab, &a->access);
	read_immutable(&tab, &a->immutable);
}

void
cfg_read_aliases(struct cfg_ctx *x, const struct toml_keyval *kv)
{
	struct cfg *c = x->c;
	const struct toml_array *arr;
	size_t i;

	if (kv->value.type == TOML_TABLE) {
		diag_add(x->d, DIAG_ERROR, x->file, kv->key_pos.line,
		    kv->key_pos.col, "key \"alias\": expected an array of tables "
		    "(write [[alias]] with two brackets), got a table");
		return;
	}
	if (kv->value.type != TOML_ARRAY) {
		char got[128];

		cfg_describe(&kv->value, got, sizeof got);
		diag_add(x->d, DIAG_ERROR, x->file, kv->value.pos.line,
		    kv->value.pos.col, "key \"alias\": expected an array of "
		    "tables ([[alias]]), got %s", got);
		return;
	}
	arr = kv->value.u.array;
	c->aliases = xcalloc(arr->n ? arr->n : 1, sizeof *c->aliases);
	x->alias_where = xcalloc(arr->n ? arr->n : 1, sizeof *x->alias_where);
	for (i = 0; i < arr->n; i++) {
		const struct toml_value *v = &arr->items[i];

		if (v->type != TOML_TABLE) {
			char got[128];

			cfg_describe(v, got, sizeof got);
			diag_add(x->d, DIAG_ERROR, x->file, v->pos.line, v->pos.col,
			    "key \"alias[%zu]\": expected a table, got %s", i, got);
			continue;
		}
		read_alias(x, v->u.table, i, &c->aliases[c->naliases],
		    &x->alias_where[c->naliases]);
		c->naliases++;
	}
}

/* --- cross-checks --------------------------------------------------------------- */

struct name_ref {
	const char *name;
	size_t idx;
};

static int
name_ref_cmp(const void *pa, const void *pb)
{
	const struct name_ref *a = pa, *b = pb;
	int r = strcmp(a->name, b->name);

	if (r != 0)
		return r;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static void
check_duplicates(struct cfg_ctx *x)
{
	struct cfg *c = x->c;
	struct name_ref *refs;
	size_t i, n = 0, first = 0;

	refs = xcalloc(c->naliases ? c->naliases : 1, sizeof *refs);
	for (i = 0; i < c->naliases; i++)
		if (c->aliases[i].name != NULL) {
			refs[n].name = c->aliases[i].name;
			refs[n].idx = i;
			n++;
		}
	qsort(refs, n, sizeof *refs, name_ref_cmp);
	for (i = 0; i < n; i++) {
		struct cfg_pos p;

		if (i == 0 || strcmp(refs[i].name, refs[i - 1].name) != 0) {
			first = refs[i].idx;
			continue;
		}
		p = x->alias_where[refs[i].idx].name;
		diag_add(x->d, DIAG_ERROR, x->file, p.line, p.col,
		    "alias \"%s\": key \"name\": the name is already used by "
		    "the alias at line %d; alias names must be unique",
		    refs[i].name, c->aliases[first].pos.line);
	}
	free(refs);
}

/* Everyone who could approve: the named users, the members of the named
 * groups, and (with allow_self) the requester. */
static size_t
count_approvers(const struct cfg *c, const struct cfg_confirm *cf)
{
	struct cfg_strv all = { NULL, 0 };
	size_t i, j, n;

	for (i = 0; i < cf->approvers.n; i++)
		if (!cfg_strv_has(&all, cf->approvers.v[i].s))
			cfg_strv_push(&all, cf->approvers.v[i].s, cf->approvers.v[i].pos);
	for (i = 0; i < cf->approver_groups.n; i++) {
		const struct cfg_group *g = cfg_find_group(c, cf->approver_groups.v[i].s);

		for (j = 0; g != NULL && j < g->members.n; j++)
			if (!cfg_strv_has(&all, g->members.v[j].s))
				cfg_strv_push(&all, g->members.v[j].s, g->members.v[j].pos);
	}
	n = all.n + (cf->allow_self ? 1 : 0);
	cfg_strv_free(&all);
	return n;
}

static void
check_alias(struct cfg_ctx *x, struct cfg_alias *a, size_t idx)
{
	const struct cfg_bot *bot = &x->c->bot;
	struct cfg_confirm *cf = &a->confirm;
	char owner[160], q[96];

	if (a->name != NULL) {
		cfg_quote(q, sizeof q, a->name);
		snprintf(owner, sizeof owner, "alias %s", q);
	} else {
		snprintf(owner, sizeof owner, "alias #%zu", idx + 1);
	}
	cfg_check_user_refs(x, owner, "access.users", &a->access.users);
	cfg_check_user_refs(x, owner, "access.deny_users", &a->access.deny_users);
	cfg_check_group_refs(x, owner, "access.groups", &a->access.groups);
	cfg_check_group_refs(x, owner, "access.deny_groups", &a->access.deny_groups);
	cfg_check_user_refs(x, owner, "confirm.approvers", &cf->approvers);
	cfg_check_group_refs(x, owner, "confirm.approver_groups", &cf->approver_groups);

	if (cf->required) {
		size_t possible = count_approvers(x->c, cf);
		struct cfg_pos p = x->alias_where[idx].approvals;

		if (p.line == 0)
			p = cf->pos;
		if (possible == 0)
			diag_add(x->d, DIAG_ERROR, x->file, cf->pos.line, cf->pos.col,
			    "%s: key \"confirm\": nobody can confirm: allow_self "
			    "is false and %s", owner,
			    cf->approvers.n || cf->approver_groups.n ?
			    "the approver groups have no members" :
			    "no approvers are named");
		else if (cf->approvals > possible)
			diag_add(x->d, DIAG_ERROR, x->file, p.line, p.col,
			    "%s: key \"confirm.approvals\": %" PRIu32 " approvals "
			    "are needed but only %zu %s can approve%s", owner,
			    cf->approvals, possible, possible == 1 ? "person" : "people",
			    cf->allow_self ? " (counting the requester)" : "");
	}

	/* Fill in the defaults from [bot] so that users of the struct need not. */
	if (a->timeout_ms == 0)
		a->timeout_ms = bot->default_timeout_ms;
	if (cf->timeout_ms == 0)
		cf->timeout_ms = bot->confirm_timeout_ms;
	if (a->exec.max_output == 0)
		a->exec.max_output = bot->max_output;
	if (a->http.max_output == 0)
		a->http.max_output = bot->max_output;
}

void
cfg_check_aliases(struct cfg_ctx *x)
{
	size_t i;

	check_duplicates(x);
	for (i = 0; i < x->c->naliases; i++)
		check_alias(x, &x->c->aliases[i], i);
}

void
cfg_alias_free(struct cfg_alias *a)
{
	size_t i;

	free(a->name);
	free(a->description);
	free(a->category);
	for (i = 0; i < a->nformats; i++) {
		cfg_str_free(&a->formats[i].display);
		cfg_strv_free(&a->formats[i].representations);
	}
	free(a->formats);
	cfg_strv_free(&a->exec.argv);
	cfg_str_free(&a->exec.cwd);
	cfg_kvv_free(&a->exec.env);
	cfg_str_free(&a->http.method);
	cfg_str_free(&a->http.url);
	cfg_kvv_free(&a->http.headers);
	cfg_str_free(&a->http.body);
	cfg_str_free(&a->http.ca_file);
	cfg_str_free(&a->ack.text);
	cfg_str_free(&a->result.text);
	cfg_strv_free(&a->confirm.approvers);
	cfg_strv_free(&a->confirm.approver_groups);
	cfg_strv_free(&a->access.users);
	cfg_strv_free(&a->access.groups);
	cfg_strv_free(&a->access.channels);
	cfg_strv_free(&a->access.deny_users);
	cfg_strv_free(&a->access.deny_groups);
	cfg_strv_free(&a->access.deny_channels);
	cfg_kvv_free(&a->immutable);
}
