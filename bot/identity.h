/*
 * identity.h - who is speaking: a chat identity (platform + user id) mapped
 * to the canonical user declared in the config.
 *
 * [users.NAME] lists the platform ids that are NAME (slack = "U…",
 * mattermost = "…", console = "alice"); groups come from the user's own
 * `groups` and from every [groups.X] whose members name the user. A speaker
 * that no [users] entry lists is the configured guest ([bot].guest_name,
 * groups from [groups.X].members naming the guest), or is refused when
 * [bot].unknown_users = "refuse".
 *
 * The chat display name is never used for matching: it can be changed by the
 * user. (The console's ids are names, by design.)
 *
 * User-scoped variables: {{ user.NAME }} comes from the user's
 * [users.NAME.vars] in the config and from the per-user store that people
 * fill from chat (uservars.h); on a clash the config wins, so that a person
 * can never override what an admin set for them.
 *
 * Ownership: identity_resolve fills a caller-owned struct whose strings it
 * allocates; identity_free releases them. `user` borrows the config the
 * identity was resolved against: do not keep it past that config.
 */
#ifndef ACKBOT_IDENTITY_H
#define ACKBOT_IDENTITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

struct identity {
	char *name;                     /* canonical user name */
	bool guest;                     /* not declared in [users] */
	const struct cfg_user *user;    /* NULL for a guest (borrowed) */
	char *platform;                 /* "console", "slack", "mattermost" */
	char *chat_id;                  /* platform user id */
	char *chat_name;                /* display name (may be "") */
	char **groups;                  /* sorted, unique */
	size_t ngroups;
	/* The variables this user set from chat (uservars.h), as they were
	 * when the identity was resolved: an object name -> value, owned; NULL
	 * when there are none or no store is open. A snapshot, so that a
	 * confirmed command runs with the values its prompt was made with. */
	json_t *vars;
};

/*
 * Resolves who spoke. Returns 0 with *out filled (a declared user or the
 * guest), or -1 when the speaker is unknown and unknown speakers are refused
 * ([bot].unknown_users = "refuse"); *out is then still filled, as a guest,
 * so that the refusal can be reported and audited.
 */
int identity_resolve(const struct cfg *c, const char *platform,
    const char *user_id, const char *user_name, struct identity *out);
void identity_free(struct identity *id);

bool identity_in_group(const struct identity *id, const char *group);

/* A deep copy (for handing one identity to several owners). */
void identity_copy(struct identity *dst, const struct identity *src);

/* Whether the name is one of the fixed keys of the `user` object (name,
 * groups, guest, platform, chat, unix_user, vars): a variable of that name
 * could not be reached as {{ user.NAME }}. */
bool identity_reserved_key(const char *name);

/* The template object `user`: {name, groups, guest, platform,
 * chat: {id, name}, unix_user, vars: {...}} with the user's vars (store,
 * then config) also merged at the top level where they do not clash with
 * those keys. New reference. */
json_t *identity_to_json(const struct identity *id);

#endif
