/*
 * policy.c - the access check for one alias (see policy.h).
 */
#include "policy.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static bool
strv_has(const struct cfg_strv *v, const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < v->n; i++)
		if (v->v[i].s != NULL && strcmp(v->v[i].s, s) == 0)
			return true;
	return false;
}

static bool
any_group(const struct cfg_strv *v, const struct identity *who)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->v[i].s != NULL && identity_in_group(who, v->v[i].s))
			return true;
	return false;
}

static bool
channel_listed(const struct cfg_strv *v, const char *id, const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		const char *s = v->v[i].s;

		if (s == NULL)
			continue;
		if (*s == '#')
			s++;
		if ((id != NULL && strcmp(s, id) == 0) ||
		    (name != NULL && strcmp(s, name[0] == '#' ? name + 1 : name) == 0))
			return true;
	}
	return false;
}

bool
policy_check(const struct policy_request *r, char *why, size_t whylen)
{
	const struct cfg_access *a = &r->alias->access;
	const struct identity *who = r->who;
	const char *chan = r->channel_name ? r->channel_name : r->channel_id;

	if (!a->present) {
		if (r->cfg->bot.default_policy == CFG_POLICY_DENY) {
			ack_err(why, whylen, "no access rule grants it (the default policy is deny)");
			return false;
		}
		return true;
	}
	if (strv_has(&a->deny_users, who->name)) {
		ack_err(why, whylen, "user %s is denied", who->name);
		return false;
	}
	if (any_group(&a->deny_groups, who)) {
		ack_err(why, whylen, "a group of yours is denied");
		return false;
	}
	if ((r->channel_id || r->channel_name) &&
	    channel_listed(&a->deny_channels, r->channel_id, r->channel_name)) {
		ack_err(why, whylen, "not allowed in #%s", chan);
		return false;
	}
	if (a->direct_only && !r->is_direct) {
		ack_err(why, whylen, "only in a direct message with the bot");
		return false;
	}
	if ((a->users.n > 0 || a->groups.n > 0) &&
	    !strv_has(&a->users, who->name) && !any_group(&a->groups, who)) {
		struct buf b;
		size_t i;

		buf_init(&b, 0);
		for (i = 0; i < a->users.n; i++)
			buf_printf(&b, "%s%s", b.len ? ", " : "", a->users.v[i].s);
		if (a->groups.n > 0)
			buf_printf(&b, "%smembers of ", b.len ? " and " : "");
		for (i = 0; i < a->groups.n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", a->groups.v[i].s);
		ack_err(why, whylen, "it is only for %s", b.data ? b.data : "");
		buf_free(&b);
		return false;
	}
	if (a->channels.n > 0 &&
	    !channel_listed(&a->channels, r->channel_id, r->channel_name)) {
		ack_err(why, whylen, "not allowed in #%s", chan ? chan : "?");
		return false;
	}
	return true;
}
