/*
 * policy.h - may this user run this alias here?
 *
 * One function, so that a later policy module (rate limits, time windows,
 * per-parameter rules) replaces the body without touching the router. For
 * now it enforces an alias's [alias.access] table and [bot].default_policy:
 *
 *   - deny lists (deny_users, deny_groups, deny_channels) win over anything,
 *     checked in that order;
 *   - direct_only: only in a direct message with the bot;
 *   - allow lists: when users or groups are given, the user must be listed
 *     or belong to a listed group; when channels are given, the command must
 *     come from one of them (by id or name, with or without a leading '#');
 *   - an alias without an [alias.access] table is open when
 *     default_policy = "allow", closed when "deny".
 *
 * help, whoami and suggestions use the same check, so nobody is shown a
 * command they may not run.
 */
#ifndef ACKBOT_POLICY_H
#define ACKBOT_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "identity.h"

struct policy_request {
	const struct cfg *cfg;
	const struct cfg_alias *alias;
	const struct identity *who;
	const char *channel_id;         /* may be NULL (help with no channel) */
	const char *channel_name;       /* may be NULL */
	bool is_direct;
};

/*
 * The decision with the rule that made it, for `why`, the audit log and the
 * refusal. rule is the config key that decided ("access.deny_groups",
 * "access.groups", "bot.default_policy", ...; static). reason is what the
 * requester is told (it names who may run the alias, never the deny lists).
 * detail is the full explanation for `why` and the audit log ("alice is in
 * group sre, listed in access.groups").
 */
struct policy_verdict {
	bool allowed;
	const char *rule;
	char reason[256];
	char detail[512];
};

/* Decides; v is filled in every case. Returns v->allowed. */
bool policy_decide(const struct policy_request *r, struct policy_verdict *v);

/* true if allowed; otherwise false with the short reason in why ("it is only
 * for members of sre", "only in a direct message with the bot"). why may be
 * NULL. */
bool policy_check(const struct policy_request *r, char *why, size_t whylen);

#endif
