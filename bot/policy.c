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

static void
list_strv(struct buf *b, const struct cfg_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		buf_printf(b, "%s%s", i ? ", " : "", v->v[i].s ? v->v[i].s : "");
}

/* The first group of who listed in v, or NULL. */
static const char *
first_group(const struct cfg_strv *v, const struct identity *who)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->v[i].s != NULL && identity_in_group(who, v->v[i].s))
			return v->v[i].s;
	return NULL;
}

static bool
verdict(struct policy_verdict *v, bool allowed, const char *rule)
{
	v->allowed = allowed;
	v->rule = rule;
	return allowed;
}

bool
policy_decide(const struct policy_request *r, struct policy_verdict *v)
{
	const struct cfg_access *a = &r->alias->access;
	const struct identity *who = r->who;
	const char *chan = r->channel_name ? r->channel_name : r->channel_id;
	const char *g;
	bool have_chan = r->channel_id != NULL || r->channel_name != NULL;

	memset(v, 0, sizeof *v);
	if (!a->present) {
		if (r->cfg->bot.default_policy == CFG_POLICY_DENY) {
			snprintf(v->reason, sizeof v->reason,
			    "no access rule grants it (the default policy is deny)");
			snprintf(v->detail, sizeof v->detail, "alias %s has no [alias.access] "
			    "table and bot.default_policy = \"deny\"", r->alias->name);
			return verdict(v, false, "bot.default_policy");
		}
		snprintf(v->detail, sizeof v->detail, "alias %s has no [alias.access] table "
		    "and bot.default_policy = \"allow\"", r->alias->name);
		return verdict(v, true, "bot.default_policy");
	}
	if (strv_has(&a->deny_users, who->name)) {
		snprintf(v->reason, sizeof v->reason, "user %s is denied", who->name);
		snprintf(v->detail, sizeof v->detail, "%s is listed in access.deny_users",
		    who->name);
		return verdict(v, false, "access.deny_users");
	}
	if ((g = first_group(&a->deny_groups, who)) != NULL) {
		snprintf(v->reason, sizeof v->reason, "a group of yours is denied");
		snprintf(v->detail, sizeof v->detail, "%s is in group %s, listed in "
		    "access.deny_groups", who->name, g);
		return verdict(v, false, "access.deny_groups");
	}
	if (have_chan && channel_listed(&a->deny_channels, r->channel_id, r->channel_name)) {
		snprintf(v->reason, sizeof v->reason, "not allowed in #%s", chan);
		snprintf(v->detail, sizeof v->detail, "channel #%s is listed in "
		    "access.deny_channels", chan);
		return verdict(v, false, "access.deny_channels");
	}
	if (a->direct_only && !r->is_direct) {
		snprintf(v->reason, sizeof v->reason, "only in a direct message with the bot");
		snprintf(v->detail, sizeof v->detail, "access.direct_only = true and this is "
		    "not a direct message");
		return verdict(v, false, "access.direct_only");
	}
	if (a->users.n > 0 || a->groups.n > 0) {
		if (strv_has(&a->users, who->name)) {
			snprintf(v->detail, sizeof v->detail, "%s is listed in access.users",
			    who->name);
			v->rule = "access.users";
		} else if ((g = first_group(&a->groups, who)) != NULL) {
			snprintf(v->detail, sizeof v->detail, "%s is in group %s, listed in "
			    "access.groups", who->name, g);
			v->rule = "access.groups";
		} else {
			struct buf b;

			buf_init(&b, 0);
			list_strv(&b, &a->users);
			if (a->groups.n > 0) {
				buf_printf(&b, "%smembers of ", b.len ? " and " : "");
				list_strv(&b, &a->groups);
			}
			snprintf(v->reason, sizeof v->reason, "it is only for %s",
			    b.data ? b.data : "");
			snprintf(v->detail, sizeof v->detail, "%s is neither listed in "
			    "access.users nor in a group of access.groups (only for %s)",
			    who->name, b.data ? b.data : "");
			buf_free(&b);
			return verdict(v, false, a->groups.n > 0 ? "access.groups" :
			    "access.users");
		}
	}
	if (a->channels.n > 0) {
		if (!channel_listed(&a->channels, r->channel_id, r->channel_name)) {
			snprintf(v->reason, sizeof v->reason, "not allowed in #%s",
			    chan ? chan : "?");
			snprintf(v->detail, sizeof v->detail, "channel #%s is not listed in "
			    "access.channels", chan ? chan : "?");
			return verdict(v, false, "access.channels");
		}
		if (v->rule == NULL) {
			snprintf(v->detail, sizeof v->detail, "channel #%s is listed in "
			    "access.channels", chan ? chan : "?");
			v->rule = "access.channels";
		} else {
			size_t n = strlen(v->detail);

			snprintf(v->detail + n, sizeof v->detail - n, ", and channel #%s is "
			    "listed in access.channels", chan ? chan : "?");
		}
	}
	if (v->rule == NULL) {
		/* only deny rules (or direct_only), and none applied */
		snprintf(v->detail, sizeof v->detail, "no deny rule of alias %s applies and "
		    "it has no allow list", r->alias->name);
		v->rule = a->direct_only ? "access.direct_only" : "access";
	}
	return verdict(v, true, v->rule);
}

bool
policy_check(const struct policy_request *r, char *why, size_t whylen)
{
	struct policy_verdict v;

	if (policy_decide(r, &v))
		return true;
	ack_err(why, whylen, "%s", v.reason);
	return false;
}
