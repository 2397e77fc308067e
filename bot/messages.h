/*
 * messages.h - every text the bot says on its own (confirmation prompts,
 * refusals, queue notices, default ack and result), as templates.
 *
 * Each message has a key and a built-in default template; [messages] in the
 * config overrides any of them by key (unknown keys and templates that do not
 * compile are config errors). Aliases' own `ack` and `result` templates are
 * compiled by the alias set (alias.h) and rendered through
 * messages_render_with.
 *
 * Rendering never fails from the caller's point of view: if an override
 * fails to render, the built-in default is used (and a warning logged); if
 * that fails too, a plain fallback line is returned.
 *
 * Ownership: messages_new returns an object freed by messages_free; it does
 * not keep a pointer to the config. Rendered strings are the caller's.
 */
#ifndef ACKBOT_MESSAGES_H
#define ACKBOT_MESSAGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/diag.h"

enum msg_id {
	MSG_ACK,                        /* default ack: "Running deploy (c12): ..." */
	MSG_RESULT,                     /* default result */
	MSG_QUEUED,
	MSG_CONFIRM_PROMPT,
	MSG_CONFIRM_APPROVAL,           /* one approval counted, more needed */
	MSG_CONFIRM_EXPIRED,
	MSG_CONFIRM_CANCELED,
	MSG_CONFIRM_DENIED,
	MSG_CONFIRM_DROPPED,            /* reload removed the alias, or session end */
	MSG_CONFIRM_REFUSED,            /* confirm/cancel that cannot be done */
	MSG_NOT_ALLOWED,
	MSG_UNKNOWN_USER,
	MSG_UNKNOWN_COMMAND,
	MSG_AMBIGUOUS,
	MSG_BAD_COMMAND,                /* the command matched but cannot run */
	MSG_SHUTTING_DOWN,
	MSG_SHUTDOWN_WAITING,
	MSG_CONFIRM_OUTCOME,            /* the prompt's buttons replaced by the outcome */
	MSG_CONFIRM_PROGRESS,           /* the prompt with the approvals so far */
	MSG_COUNT
};

/* The [messages] key of a message ("confirm_prompt"). */
const char *messages_key(enum msg_id id);
/* The built-in default template text. */
const char *messages_default(enum msg_id id);

struct messages;

/*
 * Compiles the defaults and the [messages] overrides. Problems are reported into d (file = c->path); returns
 * NULL if there was any error.
 */
struct messages *messages_new(const struct cfg *c, struct diag *d);
void messages_free(struct messages *m);

/* Renders message id against ctx; never NULL. */
char *messages_render(const struct messages *m, enum msg_id id, const json_t *ctx);

/* Renders t (an alias's own ack or result template, compiled by the alias
 * set; may be NULL) against ctx, falling back to message fallback when t is
 * NULL or fails to render; never NULL. */
struct tmpl;
char *messages_render_with(const struct messages *m, const struct tmpl *t,
    enum msg_id fallback, const json_t *ctx);

#endif
