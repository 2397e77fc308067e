/*
 * config.h - the typed configuration of the whole product, loaded from one
 * TOML file and validated in full before anything starts.
 *
 * cfg_load parses the file (toml.c), maps every table onto the structs below,
 * and reports every problem at once into a struct diag, each naming
 * file:line:col, the key, and what was expected (with a did-you-mean for a
 * misspelt key). It does not compile alias formats or templates: the alias
 * engine (bot/alias.c) does that as a second pass over a loaded struct cfg and
 * reports into the same diag, using the positions kept here.
 *
 * Secrets: the file only names where a secret lives ({ env = "NAME" } or
 * { file = "PATH" }); cfg_load resolves it into cfg_secret.value. Values are
 * never printed by any function here, and cfg_free wipes them.
 *
 * Defaults: after a successful load, the per-alias values documented as
 * "0 = [bot].x" (alias timeout_ms, confirm.timeout_ms, exec/http max_output)
 * are already filled in from [bot], so they are never 0.
 *
 * Ownership: everything hangs off struct cfg and is freed by cfg_free.
 */
#ifndef ACKBOT_CONFIG_H
#define ACKBOT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* A position in the config file: 1-based line and column (0 = unknown). */
struct cfg_pos {
	int line, col;
};

/* A string that came from the file, with where it was written. */
struct cfg_str {
	char *s;                /* NULL when absent */
	struct cfg_pos pos;
};

/* A list of strings (for example user ids, groups, argv). */
struct cfg_strv {
	struct cfg_str *v;
	size_t n;
};

/* A key with a string (often a template) value. */
struct cfg_kv {
	char *key;
	struct cfg_str value;
	/* [vars] and [users.NAME.vars] only: the value came from
	 * { env = "NAME" } or { file = "PATH" } and is a secret. value.s is
	 * then the resolved secret ("" when secrets were not resolved); it is
	 * masked in everything the bot posts or audits, never logged, and wiped
	 * when freed. */
	bool secret;
};

struct cfg_kvv {
	struct cfg_kv *v;
	size_t n;
};

/* Where a secret comes from. Exactly one of env or file is set. */
struct cfg_secret {
	char *env;              /* environment variable name */
	char *file;             /* path to a file holding the secret */
	char *value;            /* resolved at load; never logged; NULL if unset */
	struct cfg_pos pos;
};

enum cfg_adapter_kind {
	CFG_ADAPTER_CONSOLE,
	CFG_ADAPTER_SLACK,
	CFG_ADAPTER_MATTERMOST,
};

enum cfg_policy { CFG_POLICY_ALLOW, CFG_POLICY_DENY };
enum cfg_unknown_users { CFG_UNKNOWN_GUEST, CFG_UNKNOWN_REFUSE };

/* [bot] */
struct cfg_bot {
	char *name;                     /* "ackbot"; what @mentions address */
	char *prefix;                   /* "!" */
	enum cfg_adapter_kind adapter;  /* "console" (default), "slack", "mattermost" */
	int log_level;                  /* enum log_level; "info" */
	char *log_file;                 /* NULL = stderr */
	char *audit_log;                /* NULL = no audit log */
	uint64_t confirm_timeout_ms;    /* default for aliases; "5m" */
	uint32_t max_concurrent;        /* all actions at once; 16 */
	uint64_t shutdown_grace_ms;     /* "30s" */
	size_t max_output;              /* default output cap in bytes; 65536 */
	uint64_t default_timeout_ms;    /* default action timeout; "60s" */
	enum cfg_policy default_policy; /* "allow" (default) or "deny" */
	enum cfg_unknown_users unknown_users; /* "guest" (default) or "refuse" */
	char *guest_name;               /* canonical name for unknown speakers; "guest" */
	char *state_file;               /* per-user variable store; NULL = in memory */
	char *console_user;             /* who the console speaker is at start; "$USER" or "local" */
};

/* [slack] */
struct cfg_slack {
	bool present;                   /* the table was written */
	struct cfg_secret bot_token;    /* xoxb-..., for the Web API */
	struct cfg_secret app_token;    /* xapp-..., for apps.connections.open */
	char *api_url;                  /* "https://slack.com/api/" */
	char *ca_file;                  /* NULL = system trust store */
	bool reply_in_thread;           /* true */
	bool ignore_bots;               /* true */
	bool buttons;                   /* confirmation buttons; true */
	size_t max_message_chars;       /* split size; 4000 */
};

/* [mattermost] */
struct cfg_mattermost {
	bool present;
	char *url;                      /* "https://chat.example.com" (required if used) */
	struct cfg_secret token;        /* bot access token */
	char *ca_file;
	bool reply_in_thread;           /* true */
	bool ignore_bots;               /* true */
	size_t max_message_chars;       /* 16383 code points */
};

/* [users.NAME] */
struct cfg_user {
	char *name;                     /* canonical user name (the table key) */
	struct cfg_pos pos;
	struct cfg_strv slack_ids;      /* slack = "U…" or ["U…", …] */
	struct cfg_strv mattermost_ids; /* mattermost = "…" or [...] */
	struct cfg_strv console_names;  /* console = "alice" */
	struct cfg_strv groups;         /* groups = ["sre"] */
	char *unix_user;                /* unix_user = "alice"; NULL if none */
	struct cfg_kvv vars;            /* [users.NAME.vars] */
};

/* [groups.NAME] members = [...] */
struct cfg_group {
	char *name;
	struct cfg_pos pos;
	struct cfg_strv members;
};

/* One entry of an alias's formats: a string, or
 * { display = "...", representation = "..." | [...], match_multiple = bool }.
 * A string S loads as display = S, representations = [S] (as StackStorm
 * normalises it); a table with only display is help-only. */
struct cfg_format {
	struct cfg_str display;         /* .s NULL if none (representation-only) */
	struct cfg_strv representations;/* empty for a display-only format */
	bool match_multiple;
	struct cfg_pos pos;
};

enum cfg_handler_kind { CFG_HANDLER_EXEC, CFG_HANDLER_HTTP };

/* [alias.exec] */
struct cfg_exec {
	struct cfg_strv argv;           /* each element a template; argv[0] is the program */
	struct cfg_str cwd;             /* template; NULL = the bot's cwd */
	struct cfg_kvv env;             /* extra environment, values are templates */
	size_t max_output;              /* 0 = [bot].max_output */
	bool run_as_user;               /* run as the user's unix_user (issue 7) */
};

/* [alias.http] */
struct cfg_http {
	struct cfg_str method;          /* "GET" default */
	struct cfg_str url;             /* template, required */
	struct cfg_kvv headers;         /* values are templates */
	struct cfg_str body;            /* template producing JSON text; NULL = none */
	struct cfg_str ca_file;
	size_t max_output;              /* 0 = [bot].max_output */
};

/* [alias.confirm], or confirm = true */
struct cfg_confirm {
	bool required;
	uint64_t timeout_ms;            /* 0 = [bot].confirm_timeout */
	struct cfg_strv approvers;      /* canonical user names */
	struct cfg_strv approver_groups;
	bool allow_self;                /* requester may approve; true when no approvers */
	uint32_t approvals;             /* distinct approvals needed; 1 */
	struct cfg_pos pos;
};

/* [alias.access] */
struct cfg_access {
	struct cfg_strv users, groups, channels;          /* allow lists; empty = no rule */
	struct cfg_strv deny_users, deny_groups, deny_channels;
	bool direct_only;                                 /* only in DMs */
	bool present;
	struct cfg_pos pos;
};

/* A message template, or disabled with `ack = false`. */
struct cfg_template {
	bool enabled;                   /* true unless written as false */
	struct cfg_str text;            /* NULL = built-in default */
};

/* [[alias]] */
struct cfg_alias {
	char *name;
	struct cfg_pos pos;
	char *description;
	char *category;                 /* for grouping in help; "general" */
	bool enabled;
	struct cfg_format *formats;
	size_t nformats;
	enum cfg_handler_kind handler;
	struct cfg_exec exec;
	struct cfg_http http;
	uint64_t timeout_ms;            /* 0 = [bot].default_timeout */
	uint32_t max_concurrent;        /* 0 = no per-alias limit */
	struct cfg_template ack, result;
	struct cfg_confirm confirm;
	struct cfg_access access;
	struct cfg_kvv immutable;       /* immutable_parameters; values are templates */
};

struct cfg {
	char *path;                     /* the file it came from */
	struct cfg_bot bot;
	struct cfg_slack slack;
	struct cfg_mattermost mattermost;
	struct cfg_user *users;
	size_t nusers;
	struct cfg_group *groups;
	size_t ngroups;
	struct cfg_kvv vars;            /* [vars]: system-scoped */
	struct cfg_kvv messages;        /* [messages]: overrides of built-in texts */
	struct cfg_alias *aliases;
	size_t naliases;
};

/*
 * Loads and validates path. On success returns 0 and sets *out. Otherwise
 * returns -1 and *out is NULL; every error is in d (which may also hold
 * warnings on success). resolve_secrets=false skips reading environment
 * variables and files for secrets (for `check-config` on another machine);
 * a missing secret is then a warning instead of an error.
 */
int cfg_load(const char *path, bool resolve_secrets, struct cfg **out, struct diag *d);
/* The same from a buffer; name is used in messages. */
int cfg_load_buffer(const char *name, const char *data, size_t len,
    bool resolve_secrets, struct cfg **out, struct diag *d);
void cfg_free(struct cfg *c);

const struct cfg_user *cfg_find_user(const struct cfg *c, const char *name);
const struct cfg_alias *cfg_find_alias(const struct cfg *c, const char *name);
/* A group by name: declared as [groups.NAME], or named only in users'
 * groups (both sides list every member after load). */
const struct cfg_group *cfg_find_group(const struct cfg *c, const char *name);
/* Looks up a [messages] override; NULL if none. */
const char *cfg_message(const struct cfg *c, const char *key);

/* Prints a short summary (adapter, counts) for `ackbot check-config`. */
void cfg_print_summary(const struct cfg *c, FILE *f);

#endif
