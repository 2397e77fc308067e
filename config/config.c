/*
 * config.c - loads the config file: parses it (toml.c), reads [bot],
 * [slack], [mattermost], [users], [groups], [vars] and [messages] here and
 * [[alias]] in cfg_alias.c, then runs the checks that span tables (chat ids
 * given to two users, unknown user and group names, the adapter's table and
 * secrets). Every problem goes into the caller's diag; loading succeeds only
 * if none of them is an error.
 */
#include "cfg_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bot/log.h"
#include "../bot/uservars.h"

/* A config file bigger than this is certainly a mistake. */
#define CFG_FILE_MAX (16u << 20)

static const char *const root_keys[] = {
	"bot", "slack", "mattermost", "users", "groups", "vars", "messages", "alias",
};
static const char *const bot_keys[] = {
	"name", "prefix", "adapter", "log_level", "log_file", "audit_log",
	"confirm_timeout", "max_concurrent", "shutdown_grace", "max_output",
	"default_timeout", "default_policy", "unknown_users", "guest_name",
	"state_file", "console_user",
};
static const char *const slack_keys[] = {
	"bot_token", "app_token", "api_url", "ca_file", "reply_in_thread",
	"ignore_bots", "buttons", "max_message_chars",
};
static const char *const mattermost_keys[] = {
	"url", "token", "ca_file", "reply_in_thread", "ignore_bots",
	"max_message_chars",
};
static const char *const user_keys[] = {
	"slack", "mattermost", "console", "groups", "unix_user", "vars",
};
static const char *const group_keys[] = { "members" };
/* The texts [messages] may override: the keys of the router's built-in
 * messages (bot/messages.c, msg_defs), kept in step by hand; messages.c
 * checks them again when it compiles the templates. */
static const char *const message_keys[] = {
	"ack", "result", "queued", "confirm_prompt", "confirm_approval",
	"confirm_expired", "confirm_canceled", "confirm_denied",
	"confirm_dropped", "confirm_refused", "not_allowed", "unknown_user",
	"unknown_command", "ambiguous", "bad_command", "shutting_down",
	"shutdown_waiting", "confirm_outcome", "confirm_progress",
};
static const char *const adapter_names[] = { "console", "slack", "mattermost" };
static const char *const log_level_names[] = { "debug", "info", "warn", "error" };
static const char *const policy_names[] = { "allow", "deny" };
static const char *const unknown_names[] = { "guest", "refuse" };

/* --- small checks -------------------------------------------------------- */

/* User and group names: letters, digits and _ . @ - */
static bool
principal_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.@-", *s) == NULL)
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

static bool
http_url_ok(const char *u)
{
	return (strncmp(u, "http://", 7) == 0 && u[7] != '\0') ||
	    (strncmp(u, "https://", 8) == 0 && u[8] != '\0');
}

/* Reads a table of variables ([vars], [users.NAME.vars]): names are
 * identifiers (templates reach them as {{system.NAME}}). A value may be a
 * secret reference ({ env = "NAME" } or { file = "PATH" }). */
static void
read_vars(const struct cfg_tab *tab, struct cfg_kvv *out)
{
	size_t i;

	cfg_read_kvv_table_ex(tab, true, true, out);
	for (i = 0; i < out->n; i++)
		if (!ident_ok(out->v[i].key)) {
			const struct toml_keyval *kv = cfg_get(tab, out->v[i].key);
			char path[256];

			cfg_keypath(tab, out->v[i].key, path, sizeof path);
			cfg_path_diag(tab, DIAG_ERROR, kv->key_pos, path,
			    "a variable name is letters, digits and \"_\", not "
			    "starting with a digit");
		}
}

/* --- [bot] ---------------------------------------------------------------- */

static void
bot_defaults(struct cfg_bot *b)
{
	const char *user = getenv("USER");

	b->name = xstrdup("ackbot");
	b->prefix = xstrdup("!");
	b->adapter = CFG_ADAPTER_CONSOLE;
	b->log_level = LOG_INFO;
	b->confirm_timeout_ms = 5 * 60 * 1000;
	b->max_concurrent = 16;
	b->shutdown_grace_ms = 30 * 1000;
	b->max_output = 65536;
	b->default_timeout_ms = 60 * 1000;
	b->default_policy = CFG_POLICY_ALLOW;
	b->unknown_users = CFG_UNKNOWN_GUEST;
	b->guest_name = xstrdup("guest");
	b->console_user = xstrdup(user != NULL && *user != '\0' ? user : "local");
}

static void
read_bot(struct cfg_tab *tab, struct cfg_bot *b)
{
	const struct toml_keyval *kv;
	int e;
	int64_t n;

	cfg_check_keys(tab, bot_keys, ACK_ARRAY_LEN(bot_keys));
	cfg_read_nonempty(tab, "name", &b->name);
	if (cfg_read_strdup(tab, "prefix", &b->prefix)) {
		kv = cfg_get(tab, "prefix");
		if (strpbrk(b->prefix, " \t\r\n") != NULL)
			cfg_key_err(tab, kv->value.pos, "prefix",
			    "a prefix must not contain spaces");
		else if (b->prefix[0] == '\0')
			cfg_key_warn(tab, kv->value.pos, "prefix",
			    "with an empty prefix every message in a channel is "
			    "read as a command");
	}
	if (cfg_read_enum(tab, "adapter", adapter_names,
	    ACK_ARRAY_LEN(adapter_names), &e))
		b->adapter = (enum cfg_adapter_kind)e;
	kv = cfg_get(tab, "log_level");
	if (kv != NULL && kv->value.type == TOML_STRING &&
	    strcmp(kv->value.u.s.ptr, "warning") == 0)
		b->log_level = LOG_WARN;
	else if (cfg_read_enum(tab, "log_level", log_level_names,
	    ACK_ARRAY_LEN(log_level_names), &e))
		b->log_level = log_level_parse(log_level_names[e]);
	cfg_read_nonempty(tab, "log_file", &b->log_file);
	cfg_read_nonempty(tab, "audit_log", &b->audit_log);
	cfg_read_duration(tab, "confirm_timeout", false, &b->confirm_timeout_ms);
	if (cfg_read_int(tab, "max_concurrent", 1, 10000, &n))
		b->max_concurrent = (uint32_t)n;
	cfg_read_duration(tab, "shutdown_grace", true, &b->shutdown_grace_ms);
	if (cfg_read_int(tab, "max_output", 1, (int64_t)64 << 20, &n))
		b->max_output = (size_t)n;
	cfg_read_duration(tab, "default_timeout", false, &b->default_timeout_ms);
	if (cfg_read_enum(tab, "default_policy", policy_names,
	    ACK_ARRAY_LEN(policy_names), &e))
		b->default_policy = (enum cfg_policy)e;
	if (cfg_read_enum(tab, "unknown_users", unknown_names,
	    ACK_ARRAY_LEN(unknown_names), &e))
		b->unknown_users = (enum cfg_unknown_users)e;
	if (cfg_read_nonempty(tab, "guest_name", &b->guest_name) &&
	    !principal_ok(b->guest_name)) {
		kv = cfg_get(tab, "guest_name");
		cfg_key_err(tab, kv->value.pos, "guest_name", "a user name is "
		    "letters, digits, \"_\", \".\", \"@\" and \"-\"");
	}
	cfg_read_nonempty(tab, "state_file", &b->state_file);
	cfg_read_nonempty(tab, "console_user", &b->console_user);
}

/* --- [slack] and [mattermost] ------------------------------------------------ */

/* A key the adapter needs: an error if the adapter is in use, else a
 * warning. */
static void
adapter_missing(const struct cfg_tab *tab, bool in_use, const char *key,
    const char *what, const char *const *keys, size_t nkeys)
{
	if (cfg_misspelt(tab, key, keys, nkeys))
		return;         /* reported as a misspelt key */
	if (in_use)
		cfg_missing(tab, key, what);
	else
		diag_add(tab->x->d, DIAG_WARNING, tab->x->file, tab->t->pos.line,
		    tab->t->pos.col, "missing key \"%s\" in %s: expected %s "
		    "(needed only when bot.adapter selects it)", key, tab->label,
		    what);
}

static void
read_slack(struct cfg_tab *tab, struct cfg_slack *s, bool in_use)
{
	const struct toml_keyval *kv;
	int64_t n;

	s->present = true;
	cfg_check_keys(tab, slack_keys, ACK_ARRAY_LEN(slack_keys));
	if (cfg_get(tab, "bot_token") == NULL)
		adapter_missing(tab, in_use, "bot_token",
		    "{ env = \"SLACK_BOT_TOKEN\" } (the xoxb- token)",
		    slack_keys, ACK_ARRAY_LEN(slack_keys));
	else
		cfg_read_secret(tab, "bot_token", &s->bot_token);
	if (cfg_get(tab, "app_token") == NULL)
		adapter_missing(tab, in_use, "app_token",
		    "{ env = \"SLACK_APP_TOKEN\" } (the xapp- token for Socket Mode)",
		    slack_keys, ACK_ARRAY_LEN(slack_keys));
	else
		cfg_read_secret(tab, "app_token", &s->app_token);
	if (cfg_read_nonempty(tab, "api_url", &s->api_url)) {
		kv = cfg_get(tab, "api_url");
		if (!http_url_ok(s->api_url)) {
			char got[128];

			cfg_describe(&kv->value, got, sizeof got);
			cfg_key_err(tab, kv->value.pos, "api_url", "expected a URL "
			    "starting with http:// or https://, got %s", got);
		} else if (s->api_url[strlen(s->api_url) - 1] != '/') {
			char *t = xasprintf("%s/", s->api_url);

			free(s->api_url);
			s->api_url = t;
		}
	}
	cfg_read_nonempty(tab, "ca_file", &s->ca_file);
	cfg_read_bool(tab, "reply_in_thread", &s->reply_in_thread);
	cfg_read_bool(tab, "ignore_bots", &s->ignore_bots);
	cfg_read_bool(tab, "buttons", &s->buttons);
	if (cfg_read_int(tab, "max_message_chars", 100, 40000, &n))
		s->max_message_chars = (size_t)n;
}

static void
read_mattermost(struct cfg_tab *tab, struct cfg_mattermost *m, bool in_use)
{
	const struct toml_keyval *kv;
	int64_t n;

	m->present = true;
	cfg_check_keys(tab, mattermost_keys, ACK_ARRAY_LEN(mattermost_keys));
	kv = cfg_get(tab, "url");
	if (kv == NULL) {
		if (!cfg_misspelt(tab, "url", mattermost_keys,
		    ACK_ARRAY_LEN(mattermost_keys)))
			cfg_missing(tab, "url", "the server's URL such as "
			    "\"https://chat.example.com\"");
	} else if (cfg_read_nonempty(tab, "url", &m->url)) {
		if (!http_url_ok(m->url)) {
			char got[128];

			cfg_describe(&kv->value, got, sizeof got);
			cfg_key_err(tab, kv->value.pos, "url", "expected a URL "
			    "starting with http:// or https://, got %s", got);
		} else {
			size_t len = strlen(m->url);

			while (len > 8 && m->url[len - 1] == '/')
				m->url[--len] = '\0';
		}
	}
	if (cfg_get(tab, "token") == NULL)
		adapter_missing(tab, in_use, "token",
		    "{ env = \"MATTERMOST_TOKEN\" } (the bot's access token)",
		    mattermost_keys, ACK_ARRAY_LEN(mattermost_keys));
	else
		cfg_read_secret(tab, "token", &m->token);
	cfg_read_nonempty(tab, "ca_file", &m->ca_file);
	cfg_read_bool(tab, "reply_in_thread", &m->reply_in_thread);
	cfg_read_bool(tab, "ignore_bots", &m->ignore_bots);
	if (cfg_read_int(tab, "max_message_chars", 100, 16383, &n))
		m->max_message_chars = (size_t)n;
}

/* --- [users.NAME] ------------------------------------------------------------ */

static void
read_user(struct cfg_tab *tab, struct cfg_user *u)
{
	const struct toml_keyval *kv;
	struct cfg_tab vt;
	char label[256];
	size_t i;

	cfg_check_keys(tab, user_keys, ACK_ARRAY_LEN(user_keys));
	cfg_read_strv(tab, "slack", true, true, &u->slack_ids);
	cfg_read_strv(tab, "mattermost", true, true, &u->mattermost_ids);
	cfg_read_strv(tab, "console", true, true, &u->console_names);
	cfg_read_strv(tab, "groups", false, true, &u->groups);
	for (i = 0; i < u->groups.n; i++)
		if (!principal_ok(u->groups.v[i].s)) {
			struct toml_pos p = { u->groups.v[i].pos.line,
			    u->groups.v[i].pos.col };

			cfg_key_err(tab, p, "groups", "a group name is letters, "
			    "digits, \"_\", \".\", \"@\" and \"-\"");
		}
	if (cfg_read_nonempty(tab, "unix_user", &u->unix_user)) {
		const char *s = u->unix_user;

		kv = cfg_get(tab, "unix_user");
		if (s[0] == '-' || !principal_ok(s) || strchr(s, '@') != NULL) {
			char got[128];

			cfg_describe(&kv->value, got, sizeof got);
			cfg_key_err(tab, kv->value.pos, "unix_user", "expected a "
			    "login name such as \"alice\", got %s", got);
		}
	}
	snprintf(label, sizeof label, "[%s.vars]", tab->path);
	if (cfg_read_table(tab, "vars", label, &vt))
		read_vars(&vt, &u->vars);
}

static void
read_users(struct cfg_ctx *x, const struct cfg_tab *root)
{
	struct cfg *c = x->c;
	struct cfg_tab ut, one;
	size_t i;

	if (!cfg_read_table(root, "users", NULL, &ut))
		return;
	c->users = xcalloc(ut.t->n ? ut.t->n : 1, sizeof *c->users);
	for (i = 0; i < ut.t->n; i++) {
		const struct toml_keyval *kv = &ut.t->items[i];
		struct cfg_user *u;
		char path[256];

		cfg_keypath(&ut, kv->key, path, sizeof path);
		if (strlen(kv->key) != kv->keylen || !principal_ok(kv->key)) {
			cfg_path_diag(&ut, DIAG_ERROR, kv->key_pos, path,
			    "a user name is letters, digits, \"_\", \".\", \"@\" "
			    "and \"-\"");
			continue;
		}
		if (kv->value.type != TOML_TABLE) {
			char what[400];

			snprintf(what, sizeof what, "a table ([%s] with slack, "
			    "mattermost, console, groups...)", path);
			cfg_expected(&ut, kv, what);
			continue;
		}
		u = &c->users[c->nusers++];
		u->name = xstrdup(kv->key);
		u->pos = cfg_pos_of(kv->value.u.table->pos);
		cfg_tab_child(&one, &ut, kv->value.u.table, kv->key, NULL);
		read_user(&one, u);
	}
}

static void
read_groups(struct cfg_ctx *x, const struct cfg_tab *root)
{
	struct cfg *c = x->c;
	struct cfg_tab gt, one;
	size_t i;

	if (!cfg_read_table(root, "groups", NULL, &gt))
		return;
	c->groups = xcalloc(gt.t->n ? gt.t->n : 1, sizeof *c->groups);
	for (i = 0; i < gt.t->n; i++) {
		const struct toml_keyval *kv = &gt.t->items[i];
		struct cfg_group *g;
		char path[256];

		cfg_keypath(&gt, kv->key, path, sizeof path);
		if (strlen(kv->key) != kv->keylen || !principal_ok(kv->key)) {
			cfg_path_diag(&gt, DIAG_ERROR, kv->key_pos, path,
			    "a group name is letters, digits, \"_\", \".\", \"@\" "
			    "and \"-\"");
			continue;
		}
		if (kv->value.type != TOML_TABLE) {
			char what[400];

			snprintf(what, sizeof what, "a table ([%s] with "
			    "members = [...])", path);
			cfg_expected(&gt, kv, what);
			continue;
		}
		g = &c->groups[c->ngroups++];
		g->name = xstrdup(kv->key);
		g->pos = cfg_pos_of(kv->value.u.table->pos);
		cfg_tab_child(&one, &gt, kv->value.u.table, kv->key, NULL);
		cfg_check_keys(&one, group_keys, ACK_ARRAY_LEN(group_keys));
		cfg_read_strv(&one, "members", false, true, &g->members);
	}
}

/* --- lookups ---------------------------------------------------------------- */

const struct cfg_user *
cfg_find_user(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nusers; i++)
		if (strcmp(c->users[i].name, name) == 0)
			return &c->users[i];
	return NULL;
}

const struct cfg_group *
cfg_find_group(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

const struct cfg_alias *
cfg_find_alias(const struct cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->naliases; i++)
		if (c->aliases[i].name != NULL &&
		    strcmp(c->aliases[i].name, name) == 0)
			return &c->aliases[i];
	return NULL;
}

const char *
cfg_message(const struct cfg *c, const char *key)
{
	size_t i;

	for (i = 0; i < c->messages.n; i++)
		if (strcmp(c->messages.v[i].key, key) == 0)
			return c->messages.v[i].value.s;
	return NULL;
}

/* --- cross-checks ------------------------------------------------------------- */

static void
check_refs(struct cfg_ctx *x, const char *owner, const char *keypath,
    const struct cfg_strv *v, bool users)
{
	const struct cfg *c = x->c;
	size_t n = users ? c->nusers : c->ngroups, i, j;
	const char **names = xcalloc(n ? n : 1, sizeof *names);

	for (j = 0; j < n; j++)
		names[j] = users ? c->users[j].name : c->groups[j].name;
	for (i = 0; i < v->n; i++) {
		const char *s = v->v[i].s;
		char q[96], why[256];
		bool found = false;

		for (j = 0; j < n && !found; j++)
			found = strcmp(names[j], s) == 0;
		if (found)
			continue;
		cfg_quote(q, sizeof q, s);
		cfg_did_you_mean(why, sizeof why, s, names, n);
		if (why[0] == '\0' && users)
			snprintf(why, sizeof why, ": there is no [users.%s] table", s);
		else if (why[0] == '\0')
			snprintf(why, sizeof why, ": there is no [groups.%s] table "
			    "and no user lists it in groups", s);
		if (owner != NULL)
			diag_add(x->d, DIAG_ERROR, x->file, v->v[i].pos.line,
			    v->v[i].pos.col, "%s: key \"%s\": unknown %s %s%s",
			    owner, keypath, users ? "user" : "group", q, why);
		else
			diag_add(x->d, DIAG_ERROR, x->file, v->v[i].pos.line,
			    v->v[i].pos.col, "key \"%s\": unknown %s %s%s",
			    keypath, users ? "user" : "group", q, why);
	}
	free(names);
}

void
cfg_check_user_refs(struct cfg_ctx *x, const char *owner, const char *keypath,
    const struct cfg_strv *v)
{
	check_refs(x, owner, keypath, v, true);
}

void
cfg_check_group_refs(struct cfg_ctx *x, const char *owner, const char *keypath,
    const struct cfg_strv *v)
{
	check_refs(x, owner, keypath, v, false);
}

/*
 * Group membership can be written on either side: [groups.NAME] members,
 * or a user's groups. Afterwards both sides list everything, and a group
 * named only in users' groups exists as a group with no table.
 */
static void
merge_groups(struct cfg_ctx *x)
{
	struct cfg *c = x->c;
	size_t declared = c->ngroups, i, j;
	char key[300];

	for (i = 0; i < c->ngroups; i++) {
		struct cfg_group *g = &c->groups[i];

		snprintf(key, sizeof key, "groups.%s.members", g->name);
		cfg_check_user_refs(x, NULL, key, &g->members);
	}
	for (i = 0; i < c->nusers; i++) {
		struct cfg_user *u = &c->users[i];

		for (j = 0; j < u->groups.n; j++) {
			const char *gn = u->groups.v[j].s;
			struct cfg_group *g =
			    (struct cfg_group *)cfg_find_group(c, gn);

			if (g == NULL) {
				c->groups = xrealloc(c->groups,
				    (c->ngroups + 1) * sizeof *c->groups);
				g = &c->groups[c->ngroups++];
				memset(g, 0, sizeof *g);
				g->name = xstrdup(gn);
				g->pos = u->groups.v[j].pos;
			}
			if (!cfg_strv_has(&g->members, u->name))
				cfg_strv_push(&g->members, u->name, u->groups.v[j].pos);
		}
	}
	/* A group that only appears in users' groups and is one typo away from
	 * another group is probably that group. */
	for (i = declared; i < c->ngroups; i++) {
		const char **names = xcalloc(c->ngroups, sizeof *names);
		const char *m;

		for (j = 0; j < c->ngroups; j++)
			names[j] = j == i ? NULL : c->groups[j].name;
		m = cfg_suggest(c->groups[i].name, names, c->ngroups);
		if (m != NULL)
			diag_add(x->d, DIAG_WARNING, x->file, c->groups[i].pos.line,
			    c->groups[i].pos.col, "group \"%s\" is named only here; "
			    "did you mean \"%s\"?", c->groups[i].name, m);
		free(names);
	}
	for (i = 0; i < c->ngroups; i++) {
		struct cfg_group *g = &c->groups[i];

		for (j = 0; j < g->members.n; j++) {
			struct cfg_user *u =
			    (struct cfg_user *)cfg_find_user(c, g->members.v[j].s);

			if (u != NULL && !cfg_strv_has(&u->groups, g->name))
				cfg_strv_push(&u->groups, g->name, g->members.v[j].pos);
		}
	}
}

struct chat_id {
	const char *platform, *id;
	size_t user;
	struct cfg_pos pos;
	size_t order;
};

static int
chat_id_cmp(const void *pa, const void *pb)
{
	const struct chat_id *a = pa, *b = pb;
	int r = strcmp(a->platform, b->platform);

	if (r == 0)
		r = strcmp(a->id, b->id);
	if (r == 0)
		r = a->order < b->order ? -1 : a->order > b->order;
	return r;
}

static void
add_ids(struct chat_id **v, size_t *n, size_t *cap, const char *platform,
    const struct cfg_strv *ids, size_t user)
{
	size_t i;

	for (i = 0; i < ids->n; i++) {
		*v = xgrow(*v, cap, *n + 1, sizeof **v);
		(*v)[*n].platform = platform;
		(*v)[*n].id = ids->v[i].s;
		(*v)[*n].user = user;
		(*v)[*n].pos = ids->v[i].pos;
		(*v)[*n].order = *n;
		(*n)++;
	}
}

/* A chat id names one user: the same id under two users is an error. */
static void
check_chat_ids(struct cfg_ctx *x)
{
	const struct cfg *c = x->c;
	struct chat_id *v = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; i < c->nusers; i++) {
		add_ids(&v, &n, &cap, "slack", &c->users[i].slack_ids, i);
		add_ids(&v, &n, &cap, "mattermost", &c->users[i].mattermost_ids, i);
		add_ids(&v, &n, &cap, "console", &c->users[i].console_names, i);
	}
	if (n > 1)
		qsort(v, n, sizeof *v, chat_id_cmp);
	for (i = 1; i < n; i++) {
		const struct chat_id *a = &v[i - 1], *b = &v[i];
		char q[96];

		if (strcmp(a->platform, b->platform) != 0 || strcmp(a->id, b->id) != 0)
			continue;
		cfg_quote(q, sizeof q, b->id);
		if (a->user == b->user)
			diag_add(x->d, DIAG_WARNING, x->file, b->pos.line, b->pos.col,
			    "key \"users.%s.%s\": %s id %s is listed twice",
			    c->users[b->user].name, b->platform, b->platform, q);
		else
			diag_add(x->d, DIAG_ERROR, x->file, b->pos.line, b->pos.col,
			    "key \"users.%s.%s\": %s id %s is already given to "
			    "user \"%s\" (line %d); a chat id names one user",
			    c->users[b->user].name, b->platform, b->platform, q,
			    c->users[a->user].name, a->pos.line);
	}
	free(v);
}

static void
check_adapter(struct cfg_ctx *x, const struct cfg_tab *root)
{
	struct cfg *c = x->c;
	const struct toml_value *bot = toml_table_get(root->t, "bot");
	const struct toml_value *v = NULL;
	struct toml_pos pos = { 0, 0 };

	if (bot != NULL && bot->type == TOML_TABLE)
		v = toml_table_get(bot->u.table, "adapter");
	if (v != NULL)
		pos = v->pos;
	if (c->bot.adapter == CFG_ADAPTER_SLACK && !c->slack.present)
		diag_add(x->d, DIAG_ERROR, x->file, pos.line, pos.col,
		    "key \"bot.adapter\": \"slack\" is selected but there is no "
		    "[slack] table (with bot_token and app_token)");
	if (c->bot.adapter == CFG_ADAPTER_MATTERMOST && !c->mattermost.present)
		diag_add(x->d, DIAG_ERROR, x->file, pos.line, pos.col,
		    "key \"bot.adapter\": \"mattermost\" is selected but there is "
		    "no [mattermost] table (with url and token)");
	if (!x->resolve_secrets)
		return;
	if (c->slack.present) {
		bool use = c->bot.adapter == CFG_ADAPTER_SLACK;

		cfg_resolve_secret(x, &c->slack.bot_token, "slack.bot_token", use, "xoxb-");
		cfg_resolve_secret(x, &c->slack.app_token, "slack.app_token", use, "xapp-");
	}
	if (c->mattermost.present)
		cfg_resolve_secret(x, &c->mattermost.token, "mattermost.token",
		    c->bot.adapter == CFG_ADAPTER_MATTERMOST, NULL);
}

/*
 * [bot].state_file holds people's variables: if it exists it must load, so
 * that a corrupt file stops the bot at start (and check-config reports it)
 * instead of people's values being silently dropped. Only when secrets are
 * resolved: that is, on the machine that runs the bot.
 */
static void
check_state_file(struct cfg_ctx *x, const struct cfg_tab *root)
{
	const struct toml_value *bot = toml_table_get(root->t, "bot");
	const struct toml_value *v = NULL;
	struct toml_pos pos = { 0, 0 };
	char err[ACK_ERR_LEN];

	if (!x->resolve_secrets || x->c->bot.state_file == NULL)
		return;
	if (bot != NULL && bot->type == TOML_TABLE)
		v = toml_table_get(bot->u.table, "state_file");
	if (v != NULL)
		pos = v->pos;
	if (uservars_check_file(x->c->bot.state_file, err, sizeof err) != 0)
		diag_add(x->d, DIAG_ERROR, x->file, pos.line, pos.col,
		    "key \"bot.state_file\": %s", err);
}

/* --- the root ------------------------------------------------------------- */

static void
check_root_keys(struct cfg_ctx *x, const struct cfg_tab *root)
{
	size_t i, j;

	for (i = 0; i < root->t->n; i++) {
		const struct toml_keyval *kv = &root->t->items[i];
		const char *m;
		char q[96];
		bool known = false;

		for (j = 0; j < ACK_ARRAY_LEN(root_keys) && !known; j++)
			known = strcmp(kv->key, root_keys[j]) == 0 &&
			    strlen(kv->key) == kv->keylen;
		if (known)
			continue;
		cfg_quote(q, sizeof q, kv->key);
		m = cfg_suggest(kv->key, root_keys, ACK_ARRAY_LEN(root_keys));
		if (kv->value.type == TOML_TABLE) {
			if (m != NULL)
				diag_add(x->d, DIAG_ERROR, x->file, kv->key_pos.line,
				    kv->key_pos.col, "unknown table [%s] (did you "
				    "mean [%s]?)", kv->key, m);
			else
				diag_add(x->d, DIAG_ERROR, x->file, kv->key_pos.line,
				    kv->key_pos.col, "unknown table [%s]; the tables "
				    "are [bot], [slack], [mattermost], [users.NAME], "
				    "[groups.NAME], [vars], [messages] and [[alias]]",
				    kv->key);
			continue;
		}
		for (j = 0; j < ACK_ARRAY_LEN(bot_keys); j++)
			if (strcmp(kv->key, bot_keys[j]) == 0)
				break;
		if (j < ACK_ARRAY_LEN(bot_keys)) {
			diag_add(x->d, DIAG_ERROR, x->file, kv->key_pos.line,
			    kv->key_pos.col, "unknown top-level key %s: it belongs "
			    "in [bot] (move it below the [bot] header)", q);
		} else if (kv->value.type == TOML_ARRAY && m != NULL &&
		    strcmp(m, "alias") == 0) {
			diag_add(x->d, DIAG_ERROR, x->file, kv->key_pos.line,
			    kv->key_pos.col, "unknown key %s (did you mean "
			    "[[alias]]?)", q);
		} else if (m != NULL) {
			diag_add(x->d, DIAG_ERROR, x->file, kv->key_pos.line,
			    kv->key_pos.col, "unknown top-level key %s (did you "
			    "mean \"%s\"?)", q, m);
		} else {
			diag_add(x->d, DIAG_ERROR, x->file, kv->key_pos.line,
			    kv->key_pos.col, "unknown top-level key %s", q);
		}
	}
}

static void
read_all(struct cfg_ctx *x, const struct toml_table *rt)
{
	struct cfg *c = x->c;
	struct cfg_tab root, t;
	const struct toml_keyval *kv;

	cfg_tab_root(&root, x, rt);
	check_root_keys(x, &root);

	/* [bot] first: the adapter it selects decides how strict the
	 * adapter tables are. */
	if (cfg_read_table(&root, "bot", NULL, &t))
		read_bot(&t, &c->bot);
	if (cfg_read_table(&root, "slack", NULL, &t))
		read_slack(&t, &c->slack, c->bot.adapter == CFG_ADAPTER_SLACK);
	if (cfg_read_table(&root, "mattermost", NULL, &t))
		read_mattermost(&t, &c->mattermost,
		    c->bot.adapter == CFG_ADAPTER_MATTERMOST);
	read_users(x, &root);
	read_groups(x, &root);
	if (cfg_read_table(&root, "vars", NULL, &t))
		read_vars(&t, &c->vars);
	if (cfg_read_table(&root, "messages", NULL, &t)) {
		size_t i;

		cfg_check_keys(&t, message_keys, ACK_ARRAY_LEN(message_keys));
		for (i = 0; i < t.t->n; i++) {
			const struct toml_keyval *mk = &t.t->items[i];
			size_t j;

			for (j = 0; j < ACK_ARRAY_LEN(message_keys); j++)
				if (strcmp(mk->key, message_keys[j]) == 0)
					break;
			if (j == ACK_ARRAY_LEN(message_keys))
				continue;       /* reported above */
			if (mk->value.type == TOML_STRING && mk->value.u.s.len == 0) {
				cfg_key_err(&t, mk->value.pos, mk->key,
				    "expected a non-empty message template, got \"\"");
				continue;
			}
			if (mk->value.type != TOML_STRING) {
				cfg_expected(&t, mk, "a message template (a string)");
				continue;
			}
			c->messages.v = xrealloc(c->messages.v,
			    (c->messages.n + 1) * sizeof *c->messages.v);
			c->messages.v[c->messages.n].key = xstrdup(mk->key);
			c->messages.v[c->messages.n].value.s = NULL;
			c->messages.v[c->messages.n].secret = false;
			cfg_read_str(&t, mk->key, &c->messages.v[c->messages.n].value);
			if (c->messages.v[c->messages.n].value.s == NULL)
				free(c->messages.v[c->messages.n].key);
			else
				c->messages.n++;
		}
	}
	kv = toml_table_find(rt, "alias", 5);
	if (kv != NULL)
		cfg_read_aliases(x, kv);
	else
		diag_add(x->d, DIAG_WARNING, x->file, 0, 0, "no [[alias]] is "
		    "defined: the bot will only answer its built-in commands");

	merge_groups(x);
	check_chat_ids(x);
	cfg_check_aliases(x);
	check_adapter(x, &root);
	check_state_file(x, &root);
}

static int
item_cmp(const void *pa, const void *pb)
{
	const struct diag_item *a = pa, *b = pb;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return 0;
}

/* Puts the diagnostics added since index from in file order (checks run
 * table by table, cross-checks last), keeping the order of those at the
 * same place. */
static void
sort_diags(struct diag *d, size_t from)
{
	struct diag_item *v, tmp;
	size_t n, i, j;

	if (d->n < from + 2)
		return;
	v = d->items + from;
	n = d->n - from;
	/* Insertion sort: stable, and the lists are short and nearly sorted. */
	for (i = 1; i < n; i++) {
		tmp = v[i];
		for (j = i; j > 0 && item_cmp(&v[j - 1], &tmp) > 0; j--)
			v[j] = v[j - 1];
		v[j] = tmp;
	}
}

int
cfg_load_buffer(const char *name, const char *data, size_t len,
    bool resolve_secrets, struct cfg **out, struct diag *d)
{
	struct toml_error terr;
	struct toml_doc *doc;
	struct cfg_ctx x;
	struct cfg *c;
	size_t errors_before = d->nerrors, items_before = d->n;

	*out = NULL;
	if (name == NULL)
		name = "<config>";
	memset(&terr, 0, sizeof terr);
	doc = toml_parse(data, len, &terr);
	if (doc == NULL) {
		diag_add(d, DIAG_ERROR, name, terr.pos.line, terr.pos.col,
		    "invalid TOML: %s", terr.msg);
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	c->path = xstrdup(name);
	bot_defaults(&c->bot);
	c->slack.api_url = xstrdup("https://slack.com/api/");
	c->slack.reply_in_thread = c->slack.ignore_bots = c->slack.buttons = true;
	c->slack.max_message_chars = 4000;
	c->mattermost.reply_in_thread = c->mattermost.ignore_bots = true;
	c->mattermost.max_message_chars = 16383;

	memset(&x, 0, sizeof x);
	x.d = d;
	x.file = name;
	x.resolve_secrets = resolve_secrets;
	x.c = c;
	read_all(&x, toml_root(doc));
	free(x.alias_where);
	toml_free(doc);
	sort_diags(d, items_before);
	if (d->nerrors > errors_before) {
		cfg_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int
cfg_load(const char *path, bool resolve_secrets, struct cfg **out,
    struct diag *d)
{
	struct buf b;
	char chunk[65536];
	size_t n;
	FILE *f;
	int r;

	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL) {
		diag_add(d, DIAG_ERROR, path, 0, 0, "cannot open the config "
		    "file: %s", strerror(errno));
		return -1;
	}
	buf_init(&b, CFG_FILE_MAX);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			diag_add(d, DIAG_ERROR, path, 0, 0, "the config file is "
			    "larger than %u bytes", CFG_FILE_MAX);
			fclose(f);
			buf_free(&b);
			return -1;
		}
	if (ferror(f)) {
		diag_add(d, DIAG_ERROR, path, 0, 0, "cannot read the config "
		    "file: %s", strerror(errno));
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	r = cfg_load_buffer(path, b.data ? b.data : "", b.len, resolve_secrets,
	    out, d);
	buf_free(&b);
	return r;
}

static void
user_free(struct cfg_user *u)
{
	free(u->name);
	cfg_strv_free(&u->slack_ids);
	cfg_strv_free(&u->mattermost_ids);
	cfg_strv_free(&u->console_names);
	cfg_strv_free(&u->groups);
	free(u->unix_user);
	cfg_kvv_free(&u->vars);
}

void
cfg_free(struct cfg *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->bot.name);
	free(c->bot.prefix);
	free(c->bot.log_file);
	free(c->bot.audit_log);
	free(c->bot.guest_name);
	free(c->bot.state_file);
	free(c->bot.console_user);
	cfg_secret_free(&c->slack.bot_token);
	cfg_secret_free(&c->slack.app_token);
	free(c->slack.api_url);
	free(c->slack.ca_file);
	free(c->mattermost.url);
	cfg_secret_free(&c->mattermost.token);
	free(c->mattermost.ca_file);
	for (i = 0; i < c->nusers; i++)
		user_free(&c->users[i]);
	free(c->users);
	for (i = 0; i < c->ngroups; i++) {
		free(c->groups[i].name);
		cfg_strv_free(&c->groups[i].members);
	}
	free(c->groups);
	cfg_kvv_free(&c->vars);
	cfg_kvv_free(&c->messages);
	for (i = 0; i < c->naliases; i++)
		cfg_alias_free(&c->aliases[i]);
	free(c->aliases);
	free(c);
}

void
cfg_print_summary(const struct cfg *c, FILE *f)
{
	size_t i, enabled = 0, formats = 0, confirm = 0;

	for (i = 0; i < c->naliases; i++) {
		enabled += c->aliases[i].enabled;
		formats += c->aliases[i].nformats;
		confirm += c->aliases[i].confirm.required;
	}
	fprintf(f, "adapter:   %s", adapter_names[c->bot.adapter]);
	if (c->bot.adapter == CFG_ADAPTER_CONSOLE)
		fprintf(f, " (speaking as user \"%s\")", c->bot.console_user);
	else if (c->bot.adapter == CFG_ADAPTER_MATTERMOST && c->mattermost.url)
		fprintf(f, " (%s)", c->mattermost.url);
	fprintf(f, "\naliases:   %zu (%zu enabled, %zu with confirmation)\n",
	    c->naliases, enabled, confirm);
	fprintf(f, "formats:   %zu\n", formats);
	fprintf(f, "users:     %zu\n", c->nusers);
	fprintf(f, "groups:    %zu\n", c->ngroups);
	fprintf(f, "audit log: %s%s\n", c->bot.audit_log ? "on, " : "off",
	    c->bot.audit_log ? c->bot.audit_log : "");
}
