/*
 * handler.h - the interface every action kind implements (exec, http).
 *
 * The router builds an invocation (who asked, where, which alias, the
 * resolved parameters and the full template context), picks the handler named
 * by the alias, and calls start(). The handler renders its own templates from
 * the alias config against inv->context, runs the action without blocking the
 * loop, and calls done exactly once with a result (also after cancel()).
 * Handlers know nothing about chat platforms.
 *
 * Ownership: the router owns the invocation and keeps it alive until done has
 * been called; the result passed to done is owned by the handler and valid
 * only during the callback (copy what you keep).
 */
#ifndef ACKBOT_HANDLER_H
#define ACKBOT_HANDLER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config/config.h"
#include "config/diag.h"

struct http_client;

enum action_status {
	ACTION_SUCCEEDED,
	ACTION_FAILED,
	ACTION_TIMEOUT,
	ACTION_CANCELED,
};

const char *action_status_name(enum action_status s); /* "succeeded", ... */

struct action_result {
	enum action_status status;
	int exit_code;          /* exec: exit status, -1 if killed by a signal or never started */
	int term_signal;        /* exec: signal that ended it, 0 if none */
	long http_status;       /* http: response status, 0 if no response */
	char *out;              /* exec: stdout; http: response body (capped) */
	size_t out_len;
	size_t out_dropped;     /* bytes not kept because of the cap */
	char *err;              /* exec: stderr (capped) */
	size_t err_len;
	size_t err_dropped;
	json_t *json;           /* http: body parsed as JSON when it is JSON, else NULL */
	char *reason;           /* why it failed, in words: "program not found: foo" */
	uint64_t duration_ms;
};

struct invocation {
	char id[16];            /* command id, e.g. "c7" */
	const struct cfg *cfg;
	const struct cfg_alias *alias;
	json_t *params;         /* resolved parameters, name -> string */
	json_t *context;        /* the template context (execution, user, channel, system...) */
	json_t *env;            /* extra environment for exec: name -> string (user context) */
	const char *unix_user;  /* run as this account (exec run_as_user), or NULL */
	uint64_t timeout_ms;
	size_t max_output;
	uv_loop_t *loop;
	struct http_client *http;
	uint64_t kill_grace_ms; /* exec: SIGTERM -> SIGKILL delay; 0 = EXEC_KILL_GRACE_MS */
	void *handler_state;    /* private to the handler while running */
};

typedef void (*handler_done_cb)(struct invocation *inv,
    const struct action_result *res, void *arg);

struct handler_ops {
	const char *name;
	/* At config load: checks and compiles the alias's handler fields,
	 * reporting problems into d with the file name given. */
	void (*check)(const struct cfg_alias *a, const char *file, struct diag *d);
	/* Starts the action; returns 0, or -1 with err filled when it could not
	 * start at all (done is then not called). */
	int (*start)(struct invocation *inv, handler_done_cb done, void *arg,
	    char *err, size_t errlen);
	/* Asks a running action to stop; done is still called (ACTION_CANCELED). */
	void (*cancel)(struct invocation *inv);
};

extern const struct handler_ops handler_exec;
extern const struct handler_ops handler_http;

/* The ops for an alias's handler kind. */
const struct handler_ops *handler_for(enum cfg_handler_kind kind);

void action_result_free_fields(struct action_result *r);

/*
 * Helpers shared by the handlers (handler.c).
 *
 * handler_render renders one template field src against ctx into a new
 * string of at most max bytes (0 = 64 KiB). what names the field in
 * messages ("argv[1]", "url"). Returns NULL with err filled on a template
 * error, an oversized result, or a NUL byte in the result.
 *
 * handler_check_template compiles v (if set) and reports a failure into d
 * at the template's position in the file.
 */
char *handler_render(const char *src, const json_t *ctx, size_t max,
    const char *what, char *err, size_t errlen);
void handler_check_template(const struct cfg_str *v, const char *what,
    const char *file, struct diag *d);
/* Formats a duration in ms for people: "250ms", "30s", "5m", "1h30m". */
void handler_fmt_duration(uint64_t ms, char *out, size_t outlen);

#endif
