/*
 * app.h - the bot runtime: one libuv loop tying the adapter, the router, the
 * confirmation tracker, the runner and the HTTP client together.
 *
 * Config generations: everything derived from one loaded config file (the
 * struct cfg, the compiled aliases, the compiled messages) is one struct
 * bot_gen, reference-counted. The bot holds the current one; each running or
 * queued action and each pending confirmation holds the one it was made
 * with. A reload (SIGHUP) builds a complete new generation first and swaps it
 * in only if every check passed, so a running action never sees its alias
 * change or disappear under it.
 *
 * Shutdown order (design/c-style.md §6.8): stop taking commands, wait for
 * running actions (up to [bot].shutdown_grace on a signal; until they end on
 * console EOF), cancel what is left, post the last results, stop the adapter
 * (which flushes its output), close the HTTP client, then close the bot's
 * own handles; app_run returns once the loop has nothing left and
 * uv_loop_close succeeded.
 */
#ifndef ACKBOT_APP_H
#define ACKBOT_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "adapters/adapter.h"
#include "config/config.h"

struct alias_set;
struct messages;
struct confirm;
struct runner;
struct audit;
struct http_client;

/* One loaded configuration and what was compiled from it. */
struct bot_gen {
	unsigned refs;
	unsigned serial;                /* 1 for the first load, +1 per reload */
	struct cfg *cfg;
	struct alias_set *aliases;
	struct messages *msgs;
};

struct bot_gen *gen_ref(struct bot_gen *g);
void gen_unref(struct bot_gen *g);

enum bot_state {
	BOT_RUNNING,
	BOT_DRAINING,           /* console EOF: finishing running actions */
	BOT_STOPPING,           /* signal: grace period, then cancel */
	BOT_CLOSING,            /* actions done: closing the adapter and handles */
};

/* A confirmation/command outcome remembered so that a second `confirm ID`
 * can say what happened to it ("already confirmed"). */
#define BOT_RECENT 64
struct bot_recent {
	char id[16];
	char what[24];          /* "confirmed", "canceled", "expired", ... */
};

struct bot {
	uv_loop_t *loop;
	struct bot_gen *gen;            /* current generation */
	char *config_path;
	bool json_output;
	const char *speaker;            /* console speaker override, or NULL */

	struct adapter *adapter;
	struct http_client *http;
	struct runner *runner;
	struct confirm *confirms;
	struct audit *audit;
	char *audit_path;               /* the audit log now open, or NULL */
	FILE *log_file;                 /* [bot].log_file, or NULL = stderr */

	uv_timer_t confirm_timer;
	uv_timer_t grace_timer;
	uv_check_t launch_check;        /* starts acked actions after the poll phase */
	uv_idle_t launch_idle;          /* keeps that poll from blocking meanwhile */
	uv_signal_t sig_int, sig_term, sig_hup;
	int open_handles;

	enum bot_state state;
	int exit_code;
	unsigned signals_seen;
	unsigned long next_cmd;         /* command ids: c1, c2, ... */
	struct bot_recent recent[BOT_RECENT];
	unsigned recent_next;
};

/* Options for app_run; zero = defaults. */
struct app_opts {
	const char *config_path;
	bool json_output;               /* console: JSON lines on stdout */
};

/* Runs the bot until it is stopped; returns the process exit status
 * (0 on a clean stop, 1 if it could not start, 2 for an invalid config). */
int app_run(const struct app_opts *o);

/* Loads, validates and compiles a config into a new generation (refs = 1).
 * Every problem is in d. Used at start, on SIGHUP, and by tests/benches. */
struct bot_gen *app_load_gen(const char *path, struct diag *d);
/* The same for an already loaded cfg, whose ownership passes to the new
 * generation (freed with it, also on failure): handler checks, alias
 * compilation, message templates. `ackbot check-config` runs exactly this,
 * so that it accepts only what the bot would. */
struct bot_gen *app_build_gen(struct cfg *c, const char *path, struct diag *d);

/* The shared HTTP client, created (with libcurl's global state) on first
 * use; NULL only if libcurl cannot be initialized or the bot is closing. */
struct http_client *app_http(struct bot *b);

/* Asks for runner_launch_pending on this loop pass, after I/O (the posts
 * and frames written before it). */
void app_defer_launch(struct bot *b);
/* Tells the requester that confirmation e expired (nothing ran), audits it
 * and updates its prompt; e still belongs to the caller. */
struct confirm_entry;
void app_confirm_expired(struct bot *b, struct confirm_entry *e);
/* Re-arms the confirmation timer after any change to the tracker. */
void app_confirm_rearm(struct bot *b);
/* Called by the runner when the last action has ended (drain/stop). */
void app_actions_idle(struct bot *b);
/* Remembers an outcome for a confirmation or command id. */
void app_remember(struct bot *b, const char *id, const char *what);
const char *app_recall(const struct bot *b, const char *id);

#endif
