/*
 * runner.h - running actions: command ids, concurrency limits with a FIFO
 * queue, ack and result posting, cancellation.
 *
 * A request that the router has matched, checked and (if needed) had
 * confirmed is submitted here. It starts at once when both the global limit
 * ([bot].max_concurrent) and its alias's limit (alias max_concurrent) have
 * room; otherwise it waits in one FIFO queue and the requester is told it is
 * queued. When an action ends, the first queued request that now has room
 * starts.
 *
 * The ack is posted when the action starts, the result when it ends, both to
 * the request's channel and thread, rendered from the alias's templates (or
 * the defaults in messages.c) against the template context, and split to the
 * adapter's limit. Timeouts are the handler's job (inv.timeout_ms).
 *
 * Ownership: runner_submit takes over the request's generation reference,
 * params and identity in every case.
 */
#ifndef ACKBOT_RUNNER_H
#define ACKBOT_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "identity.h"

struct bot;
struct bot_gen;
struct runner;

struct run_request {
	struct bot_gen *gen;            /* reference handed over */
	size_t alias_idx;               /* index in gen->cfg->aliases */
	json_t *params;                 /* resolved parameters; reference handed over */
	struct identity who;            /* moved into the runner */
	const char *channel_id, *channel_name, *thread_id;  /* copied */
	bool is_direct;
	const char *cmd_id;             /* "c12"; copied */
	const char *confirm_id;         /* the confirmation it came through, or NULL */
	const char *text;               /* what was typed (for the log); copied, may be NULL */
};

struct runner *runner_new(struct bot *b);
/* Only when nothing is running (runner_active() == 0). */
void runner_free(struct runner *r);

void runner_submit(struct runner *r, struct run_request *req);

size_t runner_running(const struct runner *r);
size_t runner_queued(const struct runner *r);
static inline size_t runner_active(const struct runner *r);

/* Queued requests are dropped (each told in its channel, with reason). */
void runner_drop_queued(struct runner *r, const char *reason);
/* Asks every running action to stop; their results still get posted. */
void runner_cancel_all(struct runner *r);

/* Cancels one running (or drops one queued) action by command id; false if
 * there is none. */
bool runner_cancel_id(struct runner *r, const char *id);

/* Visits the running (then the queued) actions. */
struct runner_view {
	const char *id, *alias, *user, *channel, *thread;
	bool queued;
	uint64_t started_ms;            /* loop time; 0 while queued */
};
void runner_foreach(const struct runner *r, void (*cb)(const struct runner_view *v,
    void *arg), void *arg);

/* Builds the template context shared by handlers and messages (execution,
 * actionalias, user, channel, source, system, bot; parameters also at
 * the top level, where they do not clash with those names). New reference. */
json_t *runner_context(const struct bot_gen *gen, size_t alias_idx, const char *cmd_id,
    const json_t *params, const struct identity *who, const char *channel_id,
    const char *channel_name, const char *thread_id, bool is_direct);

/* Sets `channel` (the channel's name, or its id) and `source` {platform,
 * channel_id, channel, thread, direct} in ctx. */
void runner_set_source(json_t *ctx, const char *platform, const char *channel_id,
    const char *channel_name, const char *thread_id, bool is_direct);

/* "deploy app=web env=staging": the alias name and its parameters. New string. */
char *runner_command_text(const char *alias, const json_t *params);

static inline size_t
runner_active(const struct runner *r)
{
	return runner_running(r) + runner_queued(r);
}

/* Starts the handlers of the runs acked on an earlier loop pass (called by
 * app.c from a uv_check; see app_defer_launch). Returns true while some run
 * still waits (the check must run again). */
bool runner_launch_pending(struct runner *r);

#endif
