/*
 * uservars.h - the per-user variable store: values people set from chat
 * (`set NAME VALUE` in a direct message), read by templates as
 * {{ user.NAME }}.
 *
 * Keyed by canonical user name (never by chat id or display name). A value
 * may be marked secret: it is then never shown back (`vars` lists its name
 * only) and the bot masks it ("***") in everything it posts or audits.
 *
 * Persistence: with a path, the whole store is one small JSON file,
 * rewritten on every change: a temporary file in the same directory (mode
 * 0600), written, fsync'ed, renamed over the old one, then the directory
 * fsync'ed, so that a crash leaves either the old or the new file, never a
 * mix. The write is synchronous: the file is bounded (USERVARS_MAX_VARS per
 * user, USERVARS_MAX_VALUE bytes per value, USERVARS_MAX_USERS users) and
 * changes are rare and human-paced, so the loop is blocked for one small
 * write and two fsyncs (typically well under 10 ms; longer only on a
 * saturated disk). A failed write leaves the store as it was, in memory
 * and on disk, and says why.
 *
 * Loading: a missing file is an empty store. A file that cannot be read or
 * parsed, or breaks a limit, is an error with the file name and what is
 * wrong (line and column for JSON syntax): the bot refuses to start rather
 * than silently dropping people's values.
 *
 * File format (version 1):
 *     {"version": 1, "users": {"alice": {"token": {"value": "...",
 *      "secret": true}, "region": {"value": "eu-west-1"}}}}
 *
 * Ownership: uservars_open returns a store freed by uservars_free (which
 * wipes the values). Strings handed to callbacks are borrowed until the next
 * change. The process-wide store (uservars_shared*) belongs to this module.
 */
#ifndef ACKBOT_USERVARS_H
#define ACKBOT_USERVARS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define USERVARS_MAX_VARS 32            /* per user */
#define USERVARS_MAX_VALUE 4096         /* bytes per value */
#define USERVARS_MAX_NAME 64            /* bytes per variable name */
#define USERVARS_MAX_USERS 10000        /* users with at least one variable */
#define USERVARS_MIN_SECRET 4           /* shorter secrets could not be masked */
#define USERVARS_MAX_FILE (16u * 1024u * 1024u)

struct uservars;

/* Limits; a zero field means the default above (tests use small ones). */
struct uservars_limits {
	size_t max_vars;
	size_t max_value;
	size_t max_users;
};

/*
 * Opens the store kept in path (NULL: in memory only, nothing persists),
 * loading the file when it exists. Returns the store, or NULL with a
 * message in err (unreadable, corrupt, over a limit). lim may be NULL.
 */
struct uservars *uservars_open(const char *path, const struct uservars_limits *lim,
    char *err, size_t errlen);
void uservars_free(struct uservars *s);
/* The file, or NULL for an in-memory store. */
const char *uservars_path(const struct uservars *s);

/* Loads path the way uservars_open does and throws the result away: 0 if
 * the bot could start with it (a missing file is fine), else -1 with why. */
int uservars_check_file(const char *path, char *err, size_t errlen);

/* A variable name: letters, digits and '_', not starting with a digit, at
 * most USERVARS_MAX_NAME bytes. */
bool uservars_name_ok(const char *name);

/*
 * Sets user's variable name to value (replacing an earlier one, secret flag
 * included) and saves the file. Refused with a message: a bad name, an
 * empty or oversized value, a value with control characters or invalid
 * UTF-8, a secret shorter than USERVARS_MIN_SECRET, too many variables, or
 * the write failing (the store is then unchanged). Returns 0 or -1.
 */
int uservars_set(struct uservars *s, const char *user, const char *name,
    const char *value, bool secret, char *err, size_t errlen);
/* Removes it and saves; *found says whether it existed (nothing is written
 * when it did not). 0, or -1 when the write failed (store unchanged). */
int uservars_unset(struct uservars *s, const char *user, const char *name,
    bool *found, char *err, size_t errlen);

struct uservars_item {
	const char *name;
	const char *value;
	bool secret;
};

/* How many variables user has. */
size_t uservars_count(const struct uservars *s, const char *user);
/* The variable, or NULL. Borrowed until the next change. */
const struct uservars_item *uservars_get(const struct uservars *s, const char *user,
    const char *name);
/* Calls cb for each of user's variables, by name. Returns how many. */
size_t uservars_foreach(const struct uservars *s, const char *user,
    void (*cb)(const struct uservars_item *it, void *arg), void *arg);
/* user's variables as a new object name -> value (empty when none). */
json_t *uservars_json(const struct uservars *s, const char *user);
/* Calls cb with every secret value of every user (for masking). */
void uservars_foreach_secret(const struct uservars *s,
    void (*cb)(const char *value, void *arg), void *arg);

/*
 * The process-wide store the bot uses. uservars_shared_open opens it the
 * first time (path as in uservars_open) and returns it; later calls return
 * the same store whatever the path (a changed [bot].state_file takes effect
 * at the next start). NULL with err on failure. uservars_shared is NULL
 * until it has been opened; uservars_shared_close frees it.
 */
struct uservars *uservars_shared_open(const char *path, char *err, size_t errlen);
struct uservars *uservars_shared(void);
void uservars_shared_close(void);

#endif
