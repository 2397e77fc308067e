/*
 * identity.c - chat identity to canonical user (see identity.h).
 */
#include "identity.h"

#include <stdlib.h>
#include <string.h>

#include "uservars.h"
#include "util.h"

static bool
strv_has(const struct cfg_strv *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->v[i].s != NULL && strcmp(v->v[i].s, s) == 0)
			return true;
	return false;
}

static const struct cfg_strv *
ids_for(const struct cfg_user *u, const char *platform)
{
	if (strcmp(platform, "slack") == 0)
		return &u->slack_ids;
	if (strcmp(platform, "mattermost") == 0)
		return &u->mattermost_ids;
	if (strcmp(platform, "console") == 0)
		return &u->console_names;
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_group(struct identity *id, size_t *cap, const char *g)
{
	size_t i;

	for (i = 0; i < id->ngroups; i++)
		if (strcmp(id->groups[i], g) == 0)
			return;
	id->groups = xgrow(id->groups, cap, id->ngroups + 1, sizeof *id->groups);
	id->groups[id->ngroups++] = xstrdup(g);
}

int
identity_resolve(const struct cfg *c, const char *platform,
    const char *user_id, const char *user_name, struct identity *out)
{
	const struct cfg_user *found = NULL;
	size_t i, cap = 0;

	memset(out, 0, sizeof *out);
	platform = platform ? platform : "";
	user_id = user_id ? user_id : "";
	for (i = 0; i < c->nusers && found == NULL; i++) {
		const struct cfg_strv *ids = ids_for(&c->users[i], platform);

		if (ids != NULL && *user_id != '\0' && strv_has(ids, user_id))
			found = &c->users[i];
	}
	out->platform = xstrdup(platform);
	out->chat_id = xstrdup(user_id);
	out->chat_name = xstrdup(user_name ? user_name : "");
	out->user = found;
	out->guest = found == NULL;
	out->name = xstrdup(found ? found->name :
	    (c->bot.guest_name ? c->bot.guest_name : "guest"));
	if (found != NULL)
		for (i = 0; i < found->groups.n; i++)
			if (found->groups.v[i].s)
				add_group(out, &cap, found->groups.v[i].s);
	for (i = 0; i < c->ngroups; i++)
		if (strv_has(&c->groups[i].members, out->name))
			add_group(out, &cap, c->groups[i].name);
	if (out->ngroups > 1)
		qsort(out->groups, out->ngroups, sizeof *out->groups, cmp_str);
	/* guests share one name: they never get a store of their own */
	if (found != NULL && uservars_count(uservars_shared(), out->name) > 0)
		out->vars = uservars_json(uservars_shared(), out->name);
	if (found == NULL && c->bot.unknown_users == CFG_UNKNOWN_REFUSE)
		return -1;
	return 0;
}

void
identity_free(struct identity *id)
{
	size_t i;

	if (id == NULL)
		return;
	for (i = 0; i < id->ngroups; i++)
		free(id->groups[i]);
	free(id->groups);
	free(id->name);
	free(id->platform);
	free(id->chat_id);
	free(id->chat_name);
	json_decref(id->vars);
	memset(id, 0, sizeof *id);
}

bool
identity_in_group(const struct identity *id, const char *group)
{
	size_t i;

	for (i = 0; i < id->ngroups; i++)
		if (strcmp(id->groups[i], group) == 0)
			return true;
	return false;
}

void
identity_copy(struct identity *dst, const struct identity *src)
{
	size_t i;

	memset(dst, 0, sizeof *dst);
	dst->name = xstrdup(src->name);
	dst->guest = src->guest;
	dst->user = src->user;
	dst->platform = xstrdup(src->platform);
	dst->chat_id = xstrdup(src->chat_id);
	dst->chat_name = xstrdup(src->chat_name);
	if (src->ngroups > 0) {
		dst->groups = xcalloc(src->ngroups, sizeof *dst->groups);
		for (i = 0; i < src->ngroups; i++)
			dst->groups[i] = xstrdup(src->groups[i]);
		dst->ngroups = src->ngroups;
	}
	dst->vars = src->vars ? json_deep_copy(src->vars) : NULL;
}

static const char *const reserved_keys[] = { "name", "groups", "guest", "platform",
	"chat", "unix_user", "vars" };

bool
identity_reserved_key(const char *name)
{
	size_t i;

	for (i = 0; i < ACK_ARRAY_LEN(reserved_keys); i++)
		if (strcmp(name, reserved_keys[i]) == 0)
			return true;
	return false;
}

json_t *
identity_to_json(const struct identity *id)
{
	json_t *u = json_object(), *groups = json_array(), *vars = json_object();
	size_t i;

	for (i = 0; i < id->ngroups; i++)
		json_array_append_new(groups, json_string(id->groups[i]));
	/* the person's own values first, so that the config's win */
	if (json_is_object(id->vars))
		json_object_update(vars, id->vars);
	if (id->user != NULL)
		for (i = 0; i < id->user->vars.n; i++) {
			const struct cfg_kv *kv = &id->user->vars.v[i];

			if (kv->key && kv->value.s)
				json_object_set_new(vars, kv->key, json_string(kv->value.s));
		}
	/* user vars first, so that the fixed keys below win on a clash */
	json_object_update(u, vars);
	json_object_set_new(u, "name", json_string(id->name));
	json_object_set_new(u, "groups", groups);
	json_object_set_new(u, "guest", json_boolean(id->guest));
	json_object_set_new(u, "platform", json_string(id->platform));
	json_object_set_new(u, "chat", json_pack("{s:s,s:s}", "id", id->chat_id,
	    "name", id->chat_name));
	json_object_set_new(u, "unix_user", id->user && id->user->unix_user ?
	    json_string(id->user->unix_user) : json_null());
	json_object_set_new(u, "vars", vars);
	return u;
}
