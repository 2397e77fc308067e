/*
 * router.h - from a chat event to a reply or an action.
 *
 * A message is for the bot when it starts with the command prefix, mentions
 * the bot, or is a direct message. The speaker is resolved (identity.h), then
 * the text goes to a built-in (help, confirm, cancel, deny, pending, whoami,
 * why, set, unset, vars), else
 * to the alias engine; no match gets a helpful reply with the closest
 * commands, a tie names the candidates. A matched alias is checked
 * (policy.h), then either waits for confirmation (confirm.h, one uv timer)
 * or goes to the runner. A button click (CHAT_ACTION, "confirm:ID",
 * "deny:ID" or "cancel:ID") takes exactly the same path as typing
 * `confirm ID`: the clicker is resolved from the click's platform user id,
 * never from anything the button carries.
 *
 * Everything posted goes through bot_say, which masks every secret value.
 *
 * Replies go to the channel and thread the command came from.
 */
#ifndef ACKBOT_ROUTER_H
#define ACKBOT_ROUTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "adapters/adapter.h"
#include "identity.h"

struct bot;
struct bot_gen;

/* The adapter's on_event. */
void router_on_event(void *arg, const struct chat_event *ev);

/* Posts text to channel/thread, split to the adapter's limit (code fences
 * kept balanced); buttons go on the last part. */
void bot_say(struct bot *b, const char *channel, const char *thread, const char *text);
void bot_say_buttons(struct bot *b, const char *channel, const char *thread,
    const char *text, const struct chat_button *buttons, size_t nbuttons);

/* Writes one audit line (when an audit log is configured). fields is a JSON
 * object whose reference is taken; secret values are masked. */
void bot_audit(struct bot *b, const char *event, json_t *fields);
/* Replaces, in every string of v, each secret value by "***". */
void bot_mask_secrets(const struct bot_gen *gen, json_t *v);

/* Every secret value the bot must never show: chat tokens, secret [vars]
 * and [users.NAME.vars], and the per-user store's secrets (at least 4
 * bytes each). The strings are borrowed from c and the store: use the list
 * at once. */
struct router_secrets {
	const char **v;
	size_t n, cap;
};
void router_secrets_collect(const struct cfg *c, struct router_secrets *l);
void router_secrets_free(struct router_secrets *l);
/* text with every secret replaced by "***". New string. */
char *router_mask_text(const struct cfg *c, const char *text);

/* One command being handled: who said what where. */
struct cmd_ctx {
	struct bot *b;
	struct bot_gen *gen;            /* the current generation (borrowed) */
	const struct chat_event *ev;
	struct identity who;
	const char *channel;            /* reply target */
	const char *thread;             /* reply thread, or NULL */
	const char *text;               /* the command, prefix and blanks removed */
};

/* The base template context for bot messages: user, channel, system, bot.
 * New reference. */
json_t *cmd_context(const struct cmd_ctx *cx);

/* builtins.c: runs a built-in command; false if text is not one. */
bool builtin_dispatch(struct cmd_ctx *cx);
/* confirm/cancel/deny by id, from a typed command or a button. */
void builtin_confirm(struct cmd_ctx *cx, const char *id_text);
void builtin_cancel(struct cmd_ctx *cx, const char *id_text);
void builtin_deny(struct cmd_ctx *cx, const char *id_text);
/* true for a command whose arguments must not be logged (set VALUE). */
bool builtin_is_sensitive(const char *text);

/* Renders message id (messages.h) with ctx and says it to the command's
 * channel. ctx is borrowed. */
void cmd_reply_msg(struct cmd_ctx *cx, int msg_id, const json_t *ctx);

/* router.c: the confirmation payload and the hand-over to the runner,
 * shared with builtins.c. */
struct pending_cmd;
void pending_cmd_free(void *p);
void router_run_confirmed(struct bot *b, struct pending_cmd *pc, const char *confirm_id);
/* true (with why) when alias a runs as the requester's unix account
 * (exec.run_as_user) and who has none: it is refused before anything is
 * asked or run. */
bool router_runas_missing(const struct cfg_alias *a, const struct identity *who,
    char *why, size_t whylen);

/* "What will run" for alias a rendered against ctx (runner_context): the
 * argv quoted as a shell would need it, or the HTTP method and URL; secrets
 * masked. New string. */
char *router_describe_action(const struct bot_gen *gen, const struct cfg_alias *a,
    const json_t *ctx);

/*
 * The buttons of a confirmation prompt (where the adapter has buttons): the
 * message that holds them is replaced (adapter update) once the
 * confirmation is decided, by the [messages] confirm_outcome text, which
 * keeps what was asked and says what became of it and who decided, without
 * buttons. outcome: "confirmed", "refused" (approved, but the access check
 * at run time said no; reason says why), "denied", "canceled", "expired",
 * "dropped" (reason says why). by: who decided, or NULL. Once per
 * confirmation; later calls do nothing. A decision made before the prompt's
 * post has come back waits for its message id. A confirmation freed
 * without a decision (expired on the timer, dropped by a reload or at the
 * end) is replaced by pending_cmd_free itself, as "expired" or "dropped".
 */
void router_prompt_decided(struct bot *b, struct pending_cmd *pc, const char *outcome,
    const char *by, const char *reason);
/* A partial approval by `by`: the prompt (the [messages] confirm_progress
 * text) lists the approvals so far of pending entry e; buttons kept. */
struct confirm_entry;
void router_prompt_progress(struct bot *b, struct pending_cmd *pc, const char *by,
    const struct confirm_entry *e);
/* Records who reached the quorum (by) and everyone who approved (e), for
 * the outcome text; call before router_run_confirmed. */
void pending_cmd_approved(struct pending_cmd *pc, const char *by,
    const struct confirm_entry *e);

/* The alias name and "what will run" of a pending payload. */
const char *pending_cmd_alias(const struct pending_cmd *pc);
json_t *pending_cmd_context(const struct pending_cmd *pc);

#endif
