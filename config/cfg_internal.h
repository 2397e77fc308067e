/*
 * cfg_internal.h - private interface between the files of the config schema
 * (config.c, cfg_read.c, cfg_alias.c, cfg_secret.c). Nothing outside config/
 * includes it.
 *
 * A struct cfg_tab is "a TOML table being read": the table, how to name its
 * keys in messages, and the diag to report into. Every reader takes one, so
 * that each message names file:line:col, the full key path and what was
 * expected, and so that reading never stops at the first problem: a reader
 * that fails reports, leaves the default in place and returns false.
 *
 * Naming in messages:
 *   key errors     "<owner>: key \"<path>.<key>\": <what>"   (owner may be
 *                  absent: key "bot.confirm_timeout": ...)
 *   unknown keys   "unknown key \"<key>\" in <label> (did you mean ...?)"
 */
#ifndef ACKBOT_CFG_INTERNAL_H
#define ACKBOT_CFG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "toml.h"

struct cfg_ctx {
	struct diag *d;
	const char *file;               /* name used in messages */
	bool resolve_secrets;
	struct cfg *c;
	struct cfg_alias_where *alias_where; /* per alias, for cross-checks */
};

/* Positions of an alias's values that cross-checks point at but that
 * struct cfg_alias does not keep. */
struct cfg_alias_where {
	struct cfg_pos name;
	struct cfg_pos approvals;
};

struct cfg_tab {
	struct cfg_ctx *x;
	const struct toml_table *t;
	char owner[160];                /* 'alias "deploy"', or "" */
	char path[160];                 /* key path of t within owner: "bot", "confirm", "" */
	char label[400];                /* for unknown-key messages: "[bot]" */
};

/* --- cfg_read.c: naming ------------------------------------------------- */

/* Appends one key segment to a dotted path, quoting it when it is not a
 * bare TOML key. */
void cfg_path_join(char *out, size_t outlen, const char *path, const char *key);
/* Writes a short, escaped, quoted rendering of s (for "got ..."). */
void cfg_quote(char *out, size_t outlen, const char *s);
/* "a string (\"x\")", "an integer (5)", "a table", ... */
void cfg_describe(const struct toml_value *v, char *out, size_t outlen);

void cfg_tab_root(struct cfg_tab *tab, struct cfg_ctx *x, const struct toml_table *t);
/* A child table reached through key: the owner is kept, the path grows.
 * label may be NULL ("[<path>]" is used). */
void cfg_tab_child(struct cfg_tab *child, const struct cfg_tab *parent,
    const struct toml_table *t, const char *key, const char *label);

/* --- cfg_read.c: diagnostics -------------------------------------------- */

/* The full path of key in tab ("confirm.timeout"), into out. */
void cfg_keypath(const struct cfg_tab *tab, const char *key, char *out, size_t outlen);
/* "<owner>: key \"<fullpath>\": <msg>" at pos. */
void cfg_path_diag(const struct cfg_tab *tab, enum diag_severity sev,
    struct toml_pos pos, const char *fullpath, const char *fmt, ...) ACK_PRINTF(5, 6);
/* "<owner>: key \"<path.key>\": <msg>" at pos. */
void cfg_key_diag(const struct cfg_tab *tab, enum diag_severity sev,
    struct toml_pos pos, const char *key, const char *fmt, ...) ACK_PRINTF(5, 6);
#define cfg_key_err(tab, pos, key, ...) \
	cfg_key_diag((tab), DIAG_ERROR, (pos), (key), __VA_ARGS__)
#define cfg_key_warn(tab, pos, key, ...) \
	cfg_key_diag((tab), DIAG_WARNING, (pos), (key), __VA_ARGS__)
/* A message not about one key: "<owner>: <msg>" (or just msg). */
void cfg_tab_err(const struct cfg_tab *tab, struct toml_pos pos,
    const char *fmt, ...) ACK_PRINTF(3, 4);
/* "<owner>: key \"<path.key>\": expected <what>, got <description of v>". */
void cfg_expected(const struct cfg_tab *tab, const struct toml_keyval *kv,
    const char *what);
/* Missing required key: points at the table's header. */
void cfg_missing(const struct cfg_tab *tab, const char *key, const char *what);

/* Edit distance (with transpositions) between a and b, capped at cap+1. */
size_t cfg_edit_distance(const char *a, const char *b, size_t cap);
/* The candidate closest to s, or NULL if none is close enough. */
const char *cfg_suggest(const char *s, const char *const *cands, size_t n);
/* " (did you mean \"x\"?)" or "" into out. */
void cfg_did_you_mean(char *out, size_t outlen, const char *s,
    const char *const *cands, size_t n);

/* true if tab holds an unknown key (not in keys[]) whose did-you-mean is
 * key: the "missing key" is then already reported as a misspelling. */
bool cfg_misspelt(const struct cfg_tab *tab, const char *key,
    const char *const *keys, size_t n);
/* Reports every key of tab not in keys[] (with a did-you-mean). Returns the
 * number of unknown keys. */
size_t cfg_check_keys(const struct cfg_tab *tab, const char *const *keys, size_t n);

/* --- cfg_read.c: typed readers -------------------------------------------
 * Each returns true when the key is present and valid (and sets *out);
 * false when absent (nothing reported, *out untouched) or invalid
 * (reported, *out untouched). */

const struct toml_keyval *cfg_get(const struct cfg_tab *tab, const char *key);
bool cfg_read_str(const struct cfg_tab *tab, const char *key, struct cfg_str *out);
/* Replaces *out (freeing the old value) when present and valid. */
bool cfg_read_strdup(const struct cfg_tab *tab, const char *key, char **out);
bool cfg_read_nonempty(const struct cfg_tab *tab, const char *key, char **out);
bool cfg_read_bool(const struct cfg_tab *tab, const char *key, bool *out);
bool cfg_read_int(const struct cfg_tab *tab, const char *key, int64_t min,
    int64_t max, int64_t *out);
/* allow_zero: whether "0s" is accepted. */
bool cfg_read_duration(const struct cfg_tab *tab, const char *key,
    bool allow_zero, uint64_t *out_ms);
/* One of names[] (exact match); *out is the index. */
bool cfg_read_enum(const struct cfg_tab *tab, const char *key,
    const char *const *names, size_t n, int *out);
/* An array of strings; with single_ok a lone string is accepted too.
 * nonempty: every element must be non-empty. */
bool cfg_read_strv(const struct cfg_tab *tab, const char *key, bool single_ok,
    bool nonempty, struct cfg_strv *out);
/* A table of strings; with scalars_ok, integers, floats and booleans are
 * converted to their string form. */
bool cfg_read_kvv(const struct cfg_tab *tab, const char *key, bool scalars_ok,
    struct cfg_kvv *out);
/* The same over a table already in hand (tab is that table). */
void cfg_read_kvv_table(const struct cfg_tab *tab, bool scalars_ok,
    struct cfg_kvv *out);
/* The same; with secrets_ok a value may also be a secret reference
 * ({ env = "NAME" } / { file = "PATH" }), resolved at once (when the load
 * resolves secrets; a missing one is an error) into a kv marked secret. */
void cfg_read_kvv_table_ex(const struct cfg_tab *tab, bool scalars_ok, bool secrets_ok,
    struct cfg_kvv *out);
/* A sub-table: true and *child set when present and a table; reported when
 * present and not a table. */
bool cfg_read_table(const struct cfg_tab *tab, const char *key,
    const char *label, struct cfg_tab *child);

/* Converts a string, integer, float or boolean to its string form; NULL for
 * other types. A string containing U+0000 gives NULL too. */
char *cfg_scalar_string(const struct toml_value *v);
/* A string value without U+0000, as a copy; NULL otherwise. */
char *cfg_plain_string(const struct toml_value *v);

struct cfg_pos cfg_pos_of(struct toml_pos p);

/* --- freeing ------------------------------------------------------------ */
void cfg_str_free(struct cfg_str *s);
void cfg_strv_free(struct cfg_strv *v);
void cfg_kvv_free(struct cfg_kvv *v);
void cfg_strv_push(struct cfg_strv *v, const char *s, struct cfg_pos pos);
bool cfg_strv_has(const struct cfg_strv *v, const char *s);

/* --- cfg_secret.c ------------------------------------------------------- */

/* Reads a secret reference ({ env = ... } or { file = ... }) at key. */
bool cfg_read_secret(const struct cfg_tab *tab, const char *key,
    struct cfg_secret *out);
/* Resolves a secret read above. required: a missing secret is an error
 * (the adapter in use), else a warning. keypath names it in messages.
 * prefix_hint, when not NULL, is the prefix a valid value starts with
 * ("xoxb-"); a value without it is warned about (without showing it). */
void cfg_resolve_secret(struct cfg_ctx *x, struct cfg_secret *s,
    const char *keypath, bool required, const char *prefix_hint);
void cfg_secret_free(struct cfg_secret *s);

/* --- cfg_alias.c -------------------------------------------------------- */

/* Reads the [[alias]] array (v is the value of the root key "alias"). */
void cfg_read_aliases(struct cfg_ctx *x, const struct toml_keyval *kv);
/* Cross-checks aliases against users and groups (after all are read) and
 * fills in defaults from [bot]. */
void cfg_check_aliases(struct cfg_ctx *x);
void cfg_alias_free(struct cfg_alias *a);

/* --- config.c ----------------------------------------------------------- */

/* Reports "unknown user \"x\"" (with did-you-mean) for every element of v
 * that names no user. what names the list ("access.users"). */
void cfg_check_user_refs(struct cfg_ctx *x, const char *owner, const char *keypath,
    const struct cfg_strv *v);
void cfg_check_group_refs(struct cfg_ctx *x, const char *owner, const char *keypath,
    const struct cfg_strv *v);

#endif
