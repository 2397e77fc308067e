/*
 * builtins.c - the bot's own commands: help [words], confirm ID, cancel ID,
 * deny ID, pending, whoami, why TEXT, set/unset/vars (per-user variables).
 * A table, one function each (tmux's cmd_entry idea).
 *
 * They run before alias matching, so an alias cannot shadow them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alias.h"
#include "app.h"
#include "confirm.h"
#include "handlers/handler.h"
#include "help.h"
#include "log.h"
#include "messages.h"
#include "policy.h"
#include "router.h"
#include "runner.h"
#include "uservars.h"
#include "util.h"

struct builtin {
	const char *name;
	const char *usage;
	void (*run)(struct cmd_ctx *cx, const char *args);
};

static void bi_help(struct cmd_ctx *cx, const char *args);
static void bi_confirm(struct cmd_ctx *cx, const char *args);
static void bi_cancel(struct cmd_ctx *cx, const char *args);
static void bi_pending(struct cmd_ctx *cx, const char *args);
static void bi_whoami(struct cmd_ctx *cx, const char *args);
static void bi_deny(struct cmd_ctx *cx, const char *args);
static void bi_why(struct cmd_ctx *cx, const char *args);
static void bi_set(struct cmd_ctx *cx, const char *args);
static void bi_unset(struct cmd_ctx *cx, const char *args);
static void bi_vars(struct cmd_ctx *cx, const char *args);

static const struct builtin builtins[] = {
	{ "help", "help [words]: the commands you can run (matching words)", bi_help },
	{ "confirm", "confirm ID: run (or approve) a command waiting for confirmation",
	    bi_confirm },
	{ "deny", "deny ID: turn down a command waiting for your approval", bi_deny },
	{ "cancel", "cancel ID: drop a command waiting for confirmation, or stop a "
	    "running one (cID)", bi_cancel },
	{ "pending", "pending: your commands waiting for confirmation or running", bi_pending },
	{ "whoami", "whoami: who the bot thinks you are, and what you may run", bi_whoami },
	{ "why", "why COMMAND: which command it would run, with what, and whether you "
	    "may (runs nothing)", bi_why },
	{ "set", "set [--secret] NAME VALUE: keep a variable for your commands "
	    "({{user.NAME}}); in a direct message only", bi_set },
	{ "unset", "unset NAME: forget one of your variables", bi_unset },
	{ "vars", "vars: the names of your variables", bi_vars },
};

bool
builtin_is_sensitive(const char *text)
{
	size_t n = strcspn(text, " \t");

	return n == 3 && strncasecmp(text, "set", 3) == 0;
}

static void
say(struct cmd_ctx *cx, const char *text)
{
	bot_say(cx->b, cx->channel, cx->thread, text);
}

bool
builtin_dispatch(struct cmd_ctx *cx)
{
	const char *t = cx->text, *args;
	size_t n = 0, i;

	while (t[n] != '\0' && !isspace((unsigned char)t[n]))
		n++;
	args = t + n;
	while (isspace((unsigned char)*args))
		args++;
	for (i = 0; i < ACK_ARRAY_LEN(builtins); i++) {
		if (strlen(builtins[i].name) == n && strncasecmp(t, builtins[i].name, n) == 0) {
			builtins[i].run(cx, args);
			return true;
		}
	}
	return false;
}

/* ---- help --------------------------------------------------------------- */

static bool
may_run(const struct cmd_ctx *cx, const struct cfg_alias *a)
{
	struct policy_request pr;

	memset(&pr, 0, sizeof pr);
	pr.cfg = cx->gen->cfg;
	pr.alias = a;
	pr.who = &cx->who;
	pr.channel_id = cx->ev->channel_id;
	pr.channel_name = cx->ev->channel_name;
	pr.is_direct = cx->ev->is_direct;
	return policy_check(&pr, NULL, 0);
}

static bool
help_visible(const struct cfg_alias *a, void *arg)
{
	return may_run(arg, a);
}

static void
bi_help(struct cmd_ctx *cx, const char *args)
{
	const char *prefix = cx->gen->cfg->bot.prefix;
	struct help_opts o;
	struct help_text t;
	size_t i;

	memset(&o, 0, sizeof o);
	o.prefix = prefix;
	o.filter = args;
	o.visible = help_visible;
	o.arg = cx;
	help_render(cx->gen->cfg, &o, &t);
	for (i = 0; i < t.n; i++) {
		if (i + 1 == t.n && *args == '\0') {
			struct buf b;
			size_t k;

			buf_init(&b, 0);
			buf_puts(&b, t.chunks[i]);
			while (b.len > 0 && b.data[b.len - 1] == '\n')
				b.data[--b.len] = '\0';
			buf_puts(&b, "\n\nBuilt-in commands:");
			for (k = 0; k < ACK_ARRAY_LEN(builtins); k++)
				buf_printf(&b, "\n  %s%s", prefix, builtins[k].usage);
			say(cx, b.data);
			buf_free(&b);
		} else {
			say(cx, t.chunks[i]);
		}
	}
	help_text_free(&t);
}

/* ---- confirm / cancel --------------------------------------------------- */

static void
fill_who(struct confirm_who *w, const struct identity *id)
{
	w->platform = id->platform;
	w->user_id = id->chat_id;
	w->user = id->name;
	w->groups = (const char *const *)id->groups;
	w->ngroups = id->ngroups;
}

static void
refused(struct cmd_ctx *cx, const char *verb, const char *id, const char *alias,
    const char *why, const char *result)
{
	json_t *ctx = cmd_context(cx), *f;

	json_object_set_new(ctx, "verb", json_string(verb));
	json_object_set_new(ctx, "confirm", json_pack("{s:s}", "id", id));
	if (alias)
		json_object_set_new(ctx, "actionalias", json_pack("{s:s}", "name", alias));
	json_object_set_new(ctx, "reason", json_string(why));
	cmd_reply_msg(cx, MSG_CONFIRM_REFUSED, ctx);
	json_decref(ctx);
	log_info("%s %s by %s in %s refused: %s", verb, id, cx->who.name,
	    cx->ev->channel_id, result);
	f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "action", verb, "confirm_id", id,
	    "user", cx->who.name, "chat_user_id", cx->who.chat_id,
	    "channel", cx->ev->channel_id, "reason", result);
	if (f && alias)
		json_object_set_new(f, "alias", json_string(alias));
	bot_audit(cx->b, "refused", f);
}

static const char *
gone_reason(const struct bot *b, const char *id, char *buf, size_t n)
{
	const char *what = app_recall(b, id);

	if (what != NULL)
		snprintf(buf, n, "it was already %s", what);
	else
		snprintf(buf, n, "there is no pending confirmation with that id");
	return buf;
}

/* "alice, bob or members of sre" for a refusal. */
static void
approvers_text(const struct confirm_entry *e, char *out, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < e->napprovers; i++)
		buf_printf(&b, "%s%s", b.len ? ", " : "", e->approvers[i]);
	for (i = 0; i < e->napprover_groups; i++)
		buf_printf(&b, "%s%s%s", b.len ? ", " : "", i == 0 ? "members of " : "",
		    e->approver_groups[i]);
	snprintf(out, n, "%s", b.data ? b.data : "the requester");
	buf_free(&b);
}

/* Reads the ID argument of confirm/cancel/deny; on a bad or missing one,
 * says so and returns false. also names other ids the verb takes. */
static bool
take_id(struct cmd_ctx *cx, const char *verb, const char *id_text, const char *also,
    char id[CONFIRM_ID_SIZE])
{
	char why[160];

	if (confirm_id_parse(id_text, id))
		return true;
	if (*id_text)
		snprintf(why, sizeof why, "that is not a confirmation id (six letters and digits)%s",
		    also);
	else
		snprintf(why, sizeof why, "say which one: %s ID (see pending)", verb);
	refused(cx, verb, *id_text ? id_text : "?", NULL, why, "bad_id");
	return false;
}

void
builtin_confirm(struct cmd_ctx *cx, const char *id_text)
{
	struct bot *b = cx->b;
	struct confirm_who who;
	struct confirm_entry *e = NULL;
	const struct confirm_entry *pe;
	enum confirm_result r;
	char id[CONFIRM_ID_SIZE], why[200];
	const char *alias = NULL;

	if (!take_id(cx, "confirm", id_text, "", id))
		return;
	pe = confirm_get(b->confirms, id);
	if (pe != NULL)
		alias = pe->alias;
	fill_who(&who, &cx->who);
	r = confirm_approve(b->confirms, id, &who, cx->ev->channel_id, &e);
	switch (r) {
	case CONFIRM_READY: {
		struct pending_cmd *pc = e->payload;
		json_t *f;

		if (e->napprovers + e->napprover_groups > 0) {
			/* the approval that reached the quorum is announced too */
			json_t *ctx = pending_cmd_context(pc);

			json_object_set_new(ctx, "user", identity_to_json(&cx->who));
			json_object_set_new(json_object_get(ctx, "confirm"), "approved",
			    json_integer(e->napproved));
			json_object_set_new(json_object_get(ctx, "confirm"), "needed",
			    json_integer(e->needed));
			json_object_set_new(json_object_get(ctx, "confirm"), "approved_by",
			    json_string(e->approved[e->napproved - 1]));
			cmd_reply_msg(cx, MSG_CONFIRM_APPROVAL, ctx);
			json_decref(ctx);
		}
		pending_cmd_approved(pc, cx->who.name, e);
		e->payload = NULL;
		app_remember(b, id, "confirmed");
		log_info("confirmation %s confirmed by %s: alias=%s", id, cx->who.name, e->alias);
		f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "confirm_id", id, "alias",
		    e->alias, "user", cx->who.name, "chat_user_id", cx->who.chat_id,
		    "platform", cx->who.platform, "requester", e->user, "channel", e->channel);
		if (f != NULL && e->napproved > 0) {
			json_t *by = json_array();
			uint16_t k;

			for (k = 0; k < e->napproved; k++)
				json_array_append_new(by, json_string(e->approved[k]));
			json_object_set_new(f, "approved_by", by);
		}
		bot_audit(b, "confirmed", f);
		confirm_entry_free(e);
		app_confirm_rearm(b);
		router_run_confirmed(b, pc, id);
		return;
	}
	case CONFIRM_EXPIRED:
		app_confirm_expired(cx->b, e);
		confirm_entry_free(e);
		app_confirm_rearm(b);
		return;
	case CONFIRM_APPROVED_MORE_NEEDED: {
		json_t *ctx;

		pe = confirm_get(b->confirms, id);
		if (pe == NULL)
			return;
		ctx = pending_cmd_context(pe->payload);
		json_object_set_new(ctx, "user", identity_to_json(&cx->who));
		json_object_set_new(json_object_get(ctx, "confirm"), "approved",
		    json_integer(pe->napproved));
		json_object_set_new(json_object_get(ctx, "confirm"), "needed",
		    json_integer(pe->needed));
		cmd_reply_msg(cx, MSG_CONFIRM_APPROVAL, ctx);
		json_decref(ctx);
		router_prompt_progress(b, pe->payload, cx->who.name, pe);
		log_info("confirmation %s approved by %s (%u of %u)", id, cx->who.name,
		    (unsigned)pe->napproved, (unsigned)pe->needed);
		bot_audit(b, "approved", json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:i}",
		    "confirm_id", id, "alias", pe->alias, "user", cx->who.name,
		    "chat_user_id", cx->who.chat_id, "platform", cx->who.platform,
		    "requester", pe->user, "channel", pe->channel,
		    "approved", (int)pe->napproved, "needed", (int)pe->needed));
		return;
	}
	case CONFIRM_NOT_FOUND:
		refused(cx, "confirm", id, NULL, gone_reason(b, id, why, sizeof why),
		    confirm_result_name(r));
		return;
	case CONFIRM_WRONG_CHANNEL:
		refused(cx, "confirm", id, alias, "it must be confirmed in the channel where it "
		    "was requested", confirm_result_name(r));
		return;
	case CONFIRM_NOT_ALLOWED:
		if (pe && (pe->napprovers || pe->napprover_groups)) {
			char names[160];

			approvers_text(pe, names, sizeof names);
			snprintf(why, sizeof why, "only an approver (%s) may approve it", names);
		} else {
			snprintf(why, sizeof why, "only %s, who asked for it, may confirm it",
			    pe ? pe->user : "the requester");
		}
		refused(cx, "confirm", id, alias, why, confirm_result_name(r));
		return;
	case CONFIRM_SELF_NOT_ALLOWED:
		refused(cx, "confirm", id, alias, "you asked for it: someone else must approve it",
		    confirm_result_name(r));
		return;
	case CONFIRM_DUPLICATE:
		refused(cx, "confirm", id, alias, "you have already approved it",
		    confirm_result_name(r));
		return;
	default:
		refused(cx, "confirm", id, alias, confirm_result_name(r), confirm_result_name(r));
		confirm_entry_free(e);
		return;
	}
}

/* A pending confirmation withdrawn by its requester (cancel) or turned
 * down by an approver (deny): said in the channel, audited, gone. */
static void
turned_down(struct cmd_ctx *cx, struct confirm_entry *e, const char *id, bool denied)
{
	struct bot *b = cx->b;
	json_t *ctx = pending_cmd_context(e->payload);

	json_object_set_new(ctx, "user", identity_to_json(&cx->who));
	app_remember(b, id, denied ? "denied" : "canceled");
	log_info("confirmation %s %s by %s: alias=%s", id, denied ? "denied" : "canceled",
	    cx->who.name, e->alias);
	bot_audit(b, "canceled", json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
	    "confirm_id", id, "alias", e->alias, "user", cx->who.name, "chat_user_id",
	    cx->who.chat_id, "platform", cx->who.platform, "requester", e->user,
	    "channel", e->channel, "by", denied ? "approver" : "requester",
	    "status", denied ? "denied" : "canceled"));
	cmd_reply_msg(cx, denied ? MSG_CONFIRM_DENIED : MSG_CONFIRM_CANCELED, ctx);
	json_decref(ctx);
	router_prompt_decided(b, e->payload, denied ? "denied" : "canceled", cx->who.name,
	    NULL);
	confirm_entry_free(e);
	app_confirm_rearm(b);
}

/* `cancel cN`: stops a running (or queued) command of yours. */
struct find_run {
	const char *id;
	const struct runner_view *found;
	struct runner_view copy;
	char user[128], channel[128];
};

static void
find_run_cb(const struct runner_view *v, void *arg)
{
	struct find_run *fr = arg;

	if (fr->found == NULL && strcmp(v->id, fr->id) == 0) {
		fr->copy = *v;
		snprintf(fr->user, sizeof fr->user, "%s", v->user);
		fr->found = &fr->copy;
	}
}

static void
cancel_command(struct cmd_ctx *cx, const char *id)
{
	struct find_run fr;
	char msg[256];

	memset(&fr, 0, sizeof fr);
	fr.id = id;
	runner_foreach(cx->b->runner, find_run_cb, &fr);
	if (fr.found == NULL) {
		snprintf(msg, sizeof msg, "%s: %s is not running%s.", cx->who.name, id,
		    app_recall(cx->b, id) ? "" : " (no such command)");
		say(cx, msg);
		return;
	}
	if (strcmp(fr.user, cx->who.name) != 0) {
		snprintf(msg, sizeof msg, "%s: only %s, who started %s, may cancel it.",
		    cx->who.name, fr.user, id);
		say(cx, msg);
		bot_audit(cx->b, "refused", json_pack("{s:s,s:s,s:s,s:s}", "action", "cancel",
		    "id", id, "user", cx->who.name, "reason", "not_allowed"));
		return;
	}
	log_info("%s: cancel asked by %s", id, cx->who.name);
	bot_audit(cx->b, "canceled", json_pack("{s:s,s:s,s:s}", "id", id, "user",
	    cx->who.name, "channel", cx->ev->channel_id));
	snprintf(msg, sizeof msg, "Canceling %s (%s).", id, fr.copy.alias);
	say(cx, msg);
	runner_cancel_id(cx->b->runner, id);
}

static bool
is_command_id(const char *s)
{
	if ((s[0] != 'c' && s[0] != 'C') || !isdigit((unsigned char)s[1]))
		return false;
	for (s++; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

void
builtin_cancel(struct cmd_ctx *cx, const char *id_text)
{
	struct bot *b = cx->b;
	struct confirm_who who;
	struct confirm_entry *e = NULL;
	const struct confirm_entry *pe;
	enum confirm_result r;
	char id[CONFIRM_ID_SIZE], why[200];
	const char *alias = NULL;
	bool denied = false;

	if (is_command_id(id_text)) {
		char cid[16];

		snprintf(cid, sizeof cid, "c%s", id_text + 1);
		cancel_command(cx, cid);
		return;
	}
	if (!take_id(cx, "cancel", id_text, " or a command id (cN)", id))
		return;
	pe = confirm_get(b->confirms, id);
	if (pe != NULL)
		alias = pe->alias;
	fill_who(&who, &cx->who);
	r = confirm_cancel(b->confirms, id, &who, cx->ev->channel_id, &e);
	if (r == CONFIRM_NOT_ALLOWED) {
		/* not the requester: an approver may still turn it down */
		r = confirm_deny(b->confirms, id, &who, cx->ev->channel_id, &e);
		denied = r == CONFIRM_DENIED;
	}
	switch (r) {
	case CONFIRM_CANCELED:
	case CONFIRM_DENIED:
		turned_down(cx, e, id, denied);
		return;
	case CONFIRM_EXPIRED:
		app_confirm_expired(cx->b, e);
		confirm_entry_free(e);
		app_confirm_rearm(b);
		return;
	case CONFIRM_NOT_FOUND:
		refused(cx, "cancel", id, NULL, gone_reason(b, id, why, sizeof why),
		    confirm_result_name(r));
		return;
	case CONFIRM_WRONG_CHANNEL:
		refused(cx, "cancel", id, alias, "it must be canceled in the channel where it "
		    "was requested", confirm_result_name(r));
		return;
	default:
		snprintf(why, sizeof why, "only %s (or an approver) may cancel it",
		    pe ? pe->user : "the requester");
		refused(cx, "cancel", id, alias, why, confirm_result_name(r));
		confirm_entry_free(e);
		return;
	}
}

/*
 * `deny ID` (or a Deny button): an approver turns a request down; nothing
 * runs and the channel is told. The requester's own `deny` is a cancel.
 */
void
builtin_deny(struct cmd_ctx *cx, const char *id_text)
{
	struct bot *b = cx->b;
	struct confirm_who who;
	struct confirm_entry *e = NULL;
	const struct confirm_entry *pe;
	enum confirm_result r;
	char id[CONFIRM_ID_SIZE], why[200];
	const char *alias = NULL;

	if (!take_id(cx, "deny", id_text, "", id))
		return;
	pe = confirm_get(b->confirms, id);
	if (pe != NULL) {
		alias = pe->alias;
		if (strcmp(pe->platform, cx->who.platform) == 0 &&
		    strcmp(pe->user_id, cx->who.chat_id) == 0) {
			builtin_cancel(cx, id);
			return;
		}
	}
	fill_who(&who, &cx->who);
	r = confirm_deny(b->confirms, id, &who, cx->ev->channel_id, &e);
	switch (r) {
	case CONFIRM_DENIED:
		turned_down(cx, e, id, true);
		return;
	case CONFIRM_EXPIRED:
		app_confirm_expired(cx->b, e);
		confirm_entry_free(e);
		app_confirm_rearm(b);
		return;
	case CONFIRM_NOT_FOUND:
		refused(cx, "deny", id, NULL, gone_reason(b, id, why, sizeof why),
		    confirm_result_name(r));
		return;
	case CONFIRM_WRONG_CHANNEL:
		refused(cx, "deny", id, alias, "it must be turned down in the channel where it "
		    "was requested", confirm_result_name(r));
		return;
	default:
		if (pe && (pe->napprovers || pe->napprover_groups)) {
			char names[160];

			approvers_text(pe, names, sizeof names);
			snprintf(why, sizeof why, "only an approver (%s) may deny it", names);
		} else {
			snprintf(why, sizeof why, "it has no approvers; only %s, who asked for "
			    "it, may cancel it", pe ? pe->user : "the requester");
		}
		refused(cx, "deny", id, alias, why, confirm_result_name(r));
		confirm_entry_free(e);
		return;
	}
}

static void
bi_deny(struct cmd_ctx *cx, const char *args)
{
	builtin_deny(cx, args);
}

static void
bi_confirm(struct cmd_ctx *cx, const char *args)
{
	builtin_confirm(cx, args);
}

static void
bi_cancel(struct cmd_ctx *cx, const char *args)
{
	builtin_cancel(cx, args);
}

/* ---- pending ------------------------------------------------------------ */

struct pending_list {
	struct cmd_ctx *cx;
	struct buf *b;
	uint64_t now;
	size_t n;
	const char *me;
};

/* Whole seconds (rounded up) read better than "119.5s" in a list. */
static void
fmt_left(uint64_t ms, char *out, size_t n)
{
	if (ms >= 1000)
		ms = (ms + 999) / 1000 * 1000;
	handler_fmt_duration(ms, out, n);
}

static void
list_entry(const struct confirm_entry *e, void *arg)
{
	struct pending_list *pl = arg;
	char left[32];

	fmt_left(e->expires_ms > pl->now ? e->expires_ms - pl->now : 0, left, sizeof left);
	buf_printf(pl->b, "  %s  %s: `%s` (in #%s, %s left", e->id, e->alias, e->what,
	    e->channel, left);
	if (e->needed > 1 || e->napprovers || e->napprover_groups)
		buf_printf(pl->b, ", %u of %u approvals", (unsigned)e->napproved,
		    (unsigned)e->needed);
	buf_puts(pl->b, ")\n");
	pl->n++;
}

static void
list_run(const struct runner_view *v, void *arg)
{
	struct pending_list *pl = arg;
	char el[32];

	if (strcmp(v->user, pl->me) != 0)
		return;
	if (v->queued) {
		buf_printf(pl->b, "  %s  %s: queued (in #%s)\n", v->id, v->alias, v->channel);
	} else {
		fmt_left(pl->now - v->started_ms, el, sizeof el);
		buf_printf(pl->b, "  %s  %s: running for %s (in #%s)\n", v->id, v->alias, el,
		    v->channel);
	}
	pl->n++;
}

static void
bi_pending(struct cmd_ctx *cx, const char *args)
{
	struct bot *b = cx->b;
	struct confirm_who who;
	struct pending_list pl;
	struct buf out, sec;
	const char *prefix = cx->gen->cfg->bot.prefix;

	(void)args;
	buf_init(&out, 0);
	buf_init(&sec, 0);
	memset(&pl, 0, sizeof pl);
	pl.cx = cx;
	pl.now = uv_now(b->loop);
	pl.me = cx->who.name;
	pl.b = &sec;
	confirm_list_for(b->confirms, cx->who.platform, cx->who.chat_id, list_entry, &pl);
	if (pl.n > 0)
		buf_printf(&out, "Waiting for your confirmation (`%sconfirm ID` or "
		    "`%scancel ID`):\n%s", prefix, prefix, sec.data);
	buf_reset(&sec);
	pl.n = 0;
	fill_who(&who, &cx->who);
	confirm_list_awaiting(b->confirms, &who, list_entry, &pl);
	if (pl.n > 0)
		buf_printf(&out, "%sWaiting for your approval (`%sconfirm ID`, or "
		    "`%scancel ID` to turn it down):\n%s", out.len ? "\n" : "", prefix, prefix,
		    sec.data);
	buf_reset(&sec);
	pl.n = 0;
	runner_foreach(b->runner, list_run, &pl);
	if (pl.n > 0)
		buf_printf(&out, "%sYour commands:\n%s", out.len ? "\n" : "", sec.data);
	if (out.len == 0)
		buf_printf(&out, "%s: nothing is pending for you.", cx->who.name);
	while (out.len > 0 && out.data[out.len - 1] == '\n')
		out.data[--out.len] = '\0';
	say(cx, out.data);
	buf_free(&out);
	buf_free(&sec);
}

/* ---- whoami ------------------------------------------------------------- */

static void
bi_whoami(struct cmd_ctx *cx, const char *args)
{
	const struct cfg *c = cx->gen->cfg;
	struct buf b;
	size_t i, n = 0, shown = 0;

	(void)args;
	buf_init(&b, 0);
	if (cx->who.guest)
		buf_printf(&b, "You are not in my user list: you act as the guest user \"%s\".\n",
		    cx->who.name);
	else
		buf_printf(&b, "You are %s.\n", cx->who.name);
	buf_printf(&b, "Chat identity: %s user %s", cx->who.platform, cx->who.chat_id);
	if (cx->who.chat_name[0] && strcmp(cx->who.chat_name, cx->who.chat_id) != 0)
		buf_printf(&b, " (%s)", cx->who.chat_name);
	buf_puts(&b, "\nGroups: ");
	if (cx->who.ngroups == 0)
		buf_puts(&b, "none");
	for (i = 0; i < cx->who.ngroups; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", cx->who.groups[i]);
	if (cx->who.user && cx->who.user->unix_user)
		buf_printf(&b, "\nUnix account for actions that run as you: %s",
		    cx->who.user->unix_user);
	if (!cx->who.guest) {
		size_t nv = uservars_count(uservars_shared(), cx->who.name);

		if (nv > 0)
			buf_printf(&b, "\nVariables you set: %zu (`%svars` lists them)", nv,
			    c->bot.prefix);
	}
	buf_puts(&b, "\nYou may run here: ");
	for (i = 0; i < c->naliases; i++) {
		const struct cfg_alias *a = &c->aliases[i];

		if (!a->enabled || !may_run(cx, a))
			continue;
		n++;
		if (shown >= 30)
			continue;
		buf_printf(&b, "%s%s%s", shown ? ", " : "", a->name,
		    a->confirm.required ? " (with confirmation)" : "");
		shown++;
	}
	if (n == 0)
		buf_puts(&b, "nothing");
	else if (n > shown)
		buf_printf(&b, " and %zu more (see %shelp)", n - shown, c->bot.prefix);
	say(cx, b.data);
	buf_free(&b);
}

/* ---- why ---------------------------------------------------------------- */

static void
put_params(struct buf *b, const json_t *params)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	json_object_foreach((json_t *)params, k, v) {
		const char *s = json_string_value(v);

		buf_printf(b, "%s%s=", n++ ? ", " : "", k);
		if (s != NULL)
			buf_printf(b, "%s", s);
		else {
			char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

			buf_puts(b, d ? d : "?");
			free(d);
		}
	}
	if (n == 0)
		buf_puts(b, "none");
}

static void
why_confirm(struct buf *b, const struct cmd_ctx *cx, const struct cfg_alias *a)
{
	const struct cfg_confirm *cf = &a->confirm;
	uint64_t t = cf->timeout_ms ? cf->timeout_ms : cx->gen->cfg->bot.confirm_timeout_ms;
	char tt[32];
	size_t i, n = 0;

	handler_fmt_duration(t, tt, sizeof tt);
	if (!cf->required) {
		buf_puts(b, "\nConfirmation: none, it would run at once.");
		return;
	}
	if (cf->approvers.n + cf->approver_groups.n == 0) {
		buf_printf(b, "\nConfirmation: you would confirm it yourself within %s.", tt);
		return;
	}
	buf_printf(b, "\nConfirmation: %u approval%s within %s from ", (unsigned)cf->approvals,
	    cf->approvals == 1 ? "" : "s", tt);
	for (i = 0; i < cf->approvers.n; i++)
		buf_printf(b, "%s%s", n++ ? ", " : "", cf->approvers.v[i].s);
	for (i = 0; i < cf->approver_groups.n; i++)
		buf_printf(b, "%s%s%s", n++ ? ", " : "", i == 0 ? "members of " : "",
		    cf->approver_groups.v[i].s);
	buf_printf(b, "; you %s approve your own request.", cf->allow_self ? "may" : "may not");
}

/*
 * `why TEXT`: what TEXT would do, without doing it: the alias and format it
 * matches, the parameters (immutable ones included), the access verdict
 * with the rule that decided, the confirmation it would need, and (when
 * allowed) what would run. Secrets are masked by bot_say.
 */
static void
bi_why(struct cmd_ctx *cx, const char *args)
{
	const struct cfg *c = cx->gen->cfg;
	const char *prefix = c->bot.prefix;
	const char *text = args;
	struct alias_match m;
	struct policy_request pr;
	struct policy_verdict v;
	const struct cfg_alias *a;
	struct buf b;
	char err[ACK_ERR_LEN];
	json_t *ctx, *one = NULL;
	size_t plen = strlen(prefix), idx, i;

	if (plen > 0 && strncmp(text, prefix, plen) == 0)
		text += plen;
	while (isspace((unsigned char)*text))
		text++;
	if (*text == '\0') {
		say(cx, "Say which command: `why deploy web to prod`. I explain what it "
		    "would do, and run nothing.");
		return;
	}
	buf_init(&b, 0);
	memset(&m, 0, sizeof m);
	alias_set_match(cx->gen->aliases, text, strlen(text), &m);
	{
		size_t n = strcspn(text, " \t");

		for (i = 0; i < ACK_ARRAY_LEN(builtins); i++)
			if (strlen(builtins[i].name) == n &&
			    strncasecmp(text, builtins[i].name, n) == 0) {
				buf_printf(&b, "`%s%s` is the built-in command %s: %s%s.",
				    prefix, text, builtins[i].name, prefix, builtins[i].usage);
				goto done;
			}
	}
	if (m.kind == ALIAS_NO_MATCH) {
		char *sugg = help_suggest_line(c, text, prefix, help_visible, cx);

		buf_printf(&b, "`%s%s` matches no command you could run.%s%s", prefix, text,
		    *sugg ? " " : "", sugg);
		free(sugg);
		goto done;
	}
	if (m.kind == ALIAS_AMBIGUOUS) {
		buf_printf(&b, "`%s%s` matches more than one command equally well, so it "
		    "would be refused:", prefix, text);
		for (i = 0; i < m.ncandidates; i++)
			buf_printf(&b, "\n  %s (`%s%s`)", m.candidates[i].alias->name, prefix,
			    m.candidates[i].display ? m.candidates[i].display :
			    m.candidates[i].representation);
		goto done;
	}
	a = m.alias;
	idx = (size_t)(a - c->aliases);
	memset(&pr, 0, sizeof pr);
	pr.cfg = c;
	pr.alias = a;
	pr.who = &cx->who;
	pr.channel_id = cx->ev->channel_id;
	pr.channel_name = cx->ev->channel_name;
	pr.is_direct = cx->ev->is_direct;
	policy_decide(&pr, &v);
	buf_printf(&b, "`%s%s` would run %s", prefix, text, a->name);
	if (a->description)
		buf_printf(&b, " (%s)", a->description);
	buf_printf(&b, ", matching the format `%s`%s.", m.representation,
	    m.multiple ? " (repeated: one run per match)" : "");
	ctx = cmd_context(cx);
	json_object_set_new(ctx, "actionalias", json_pack("{s:s}", "name", a->name));
	if (alias_apply_immutable(cx->gen->aliases, a, m.params, ctx, err, sizeof err) != 0) {
		buf_printf(&b, "\nIt would be refused: %s.", err);
		json_decref(ctx);
		goto policy;
	}
	json_decref(ctx);
	one = json_is_array(m.params) ? json_array_get(m.params, 0) : m.params;
	if (json_is_array(m.params)) {
		json_t *p;

		json_array_foreach(m.params, i, p) {
			buf_printf(&b, "\nParameters (run %zu): ", i + 1);
			put_params(&b, p);
		}
	} else {
		buf_puts(&b, "\nParameters: ");
		put_params(&b, m.params);
	}
	if (a->immutable.n > 0) {
		buf_puts(&b, " (set by the alias, not by you: ");
		for (i = 0; i < a->immutable.n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", a->immutable.v[i].key);
		buf_puts(&b, ")");
	}
policy:
	buf_printf(&b, "\nAccess for %s in %s%s: %s. Decided by %s: %s.", cx->who.name,
	    cx->ev->is_direct ? "a direct message" : "#",
	    cx->ev->is_direct ? "" : (cx->ev->channel_name ? cx->ev->channel_name :
	    cx->ev->channel_id), v.allowed ? "allowed" : "refused", v.rule, v.detail);
	if (!v.allowed)
		goto done;
	if (router_runas_missing(a, &cx->who, err, sizeof err)) {
		buf_printf(&b, "\nIt would still be refused: %s.", err);
		goto done;
	}
	if (a->handler == CFG_HANDLER_EXEC && a->exec.run_as_user)
		buf_printf(&b, "\nIt would run as the unix account %s.",
		    cx->who.user->unix_user);
	why_confirm(&b, cx, a);
	if (one != NULL && json_is_object(one)) {
		char *what;

		ctx = runner_context(cx->gen, idx, "why", one, &cx->who, cx->ev->channel_id,
		    cx->ev->channel_name, cx->thread, cx->ev->is_direct);
		what = router_describe_action(cx->gen, a, ctx);
		buf_printf(&b, "\nIt would run:\n```\n%s\n```", what);
		free(what);
		json_decref(ctx);
	}
done:
	buf_puts(&b, "\nNothing was run.");
	say(cx, b.data);
	buf_free(&b);
	alias_match_clear(&m);
}

/* ---- set / unset / vars ------------------------------------------------- */

/* true if the user's config entry sets name ([users.NAME.vars]). */
static bool
config_var(const struct identity *who, const char *name)
{
	size_t i;

	if (who->user == NULL)
		return false;
	for (i = 0; i < who->user->vars.n; i++)
		if (strcmp(who->user->vars.v[i].key, name) == 0)
			return true;
	return false;
}

static void
var_audit(struct cmd_ctx *cx, const char *event, const char *action, const char *name,
    const char *outcome, bool secret)
{
	json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "action", action,
	    "user", cx->who.name, "chat_user_id", cx->who.chat_id, "platform",
	    cx->who.platform, "channel", cx->ev->channel_id, "variable", name ? name : "",
	    "reason", outcome, "secret", secret);

	bot_audit(cx->b, event, f);
}

/* The store, or NULL after telling the user. */
static struct uservars *
store_or_say(struct cmd_ctx *cx)
{
	struct uservars *st = uservars_shared();
	char msg[256];

	if (st == NULL) {
		snprintf(msg, sizeof msg, "%s: user variables are unavailable right now (see "
		    "the bot's log).", cx->who.name);
		say(cx, msg);
	}
	return st;
}

static bool
secret_flag(const char **p)
{
	static const char *const flags[] = { "--secret", "-s", "\xe2\x80\x94secret",
		"\xe2\x80\x93secret" };    /* chat clients turn -- into a dash */
	size_t i, n = strcspn(*p, " \t");

	for (i = 0; i < ACK_ARRAY_LEN(flags); i++)
		if (strlen(flags[i]) == n && strncasecmp(*p, flags[i], n) == 0) {
			*p += n;
			while (isspace((unsigned char)**p))
				(*p)++;
			return true;
		}
	return false;
}

/*
 * `set [--secret] NAME VALUE`, in a direct message only: the value is kept
 * in the store and reaches templates as {{ user.NAME }}. The value is never
 * logged, never echoed, and a secret one is masked in every post.
 */
static void
bi_set(struct cmd_ctx *cx, const char *args)
{
	const char *p = args, *prefix = cx->gen->cfg->bot.prefix;
	struct uservars *st;
	char name[USERVARS_MAX_NAME + 2], err[ACK_ERR_LEN];
	struct buf b;
	bool secret;
	size_t n;

	buf_init(&b, 0);
	secret = secret_flag(&p);
	n = strcspn(p, " \t");
	snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n :
	    sizeof name - 1), p);
	p += n;
	while (isspace((unsigned char)*p))
		p++;
	if (!cx->ev->is_direct) {
		buf_printf(&b, "%s: `set` only works in a direct message with me: here, "
		    "everyone in the channel sees the value. Nothing was saved.", cx->who.name);
		if (*p != '\0')
			buf_puts(&b, " If the value is a secret, consider it exposed and "
			    "replace it.");
		say(cx, b.data);
		buf_free(&b);
		var_audit(cx, "refused", "set", name, "not_direct", secret);
		log_info("set refused to %s in %s: not a direct message", cx->who.name,
		    cx->ev->channel_id);
		return;
	}
	if (cx->who.guest) {
		buf_printf(&b, "%s: I don't know you (you are the guest user), so I keep no "
		    "variables for you. Ask an admin to add you to the configuration.",
		    cx->who.name);
		say(cx, b.data);
		buf_free(&b);
		var_audit(cx, "refused", "set", name, "guest", secret);
		return;
	}
	if (*name == '\0' || *p == '\0') {
		buf_printf(&b, "Usage: `%sset NAME VALUE`, or `%sset --secret NAME VALUE` for "
		    "a value I must never show. Your commands reach it as `{{ user.NAME }}`.",
		    prefix, prefix);
		say(cx, b.data);
		buf_free(&b);
		return;
	}
	if (!uservars_name_ok(name) || identity_reserved_key(name)) {
		buf_printf(&b, "%s: \"%s\" cannot be a variable name: %s. Nothing was saved.",
		    cx->who.name, name, uservars_name_ok(name) ? "it is taken by "
		    "{{ user.* }} itself" : "use letters, digits and _, not starting with a "
		    "digit");
		say(cx, b.data);
		buf_free(&b);
		return;
	}
	if (config_var(&cx->who, name)) {
		buf_printf(&b, "%s: %s is set for you by the configuration; you cannot "
		    "change it here. Nothing was saved.", cx->who.name, name);
		say(cx, b.data);
		buf_free(&b);
		var_audit(cx, "refused", "set", name, "set_by_config", secret);
		return;
	}
	if ((st = store_or_say(cx)) == NULL) {
		buf_free(&b);
		return;
	}
	if (uservars_set(st, cx->who.name, name, p, secret, err, sizeof err) != 0) {
		buf_printf(&b, "%s: %s was not saved: %s.", cx->who.name, name, err);
		say(cx, b.data);
		buf_free(&b);
		log_warn("set %s for %s failed: %s", name, cx->who.name, err);
		var_audit(cx, "refused", "set", name, "store_failed", secret);
		return;
	}
	log_info("%s set variable %s%s", cx->who.name, name, secret ? " (secret)" : "");
	var_audit(cx, "var_set", "set", name, "saved", secret);
	buf_printf(&b, "Saved %s%s. Your commands reach it as `{{ user.%s }}`.", name,
	    secret ? " as a secret: I will never show it, and I mask it in everything I "
	    "post" : "", name);
	say(cx, b.data);
	buf_free(&b);
}

static void
bi_unset(struct cmd_ctx *cx, const char *args)
{
	struct uservars *st;
	char msg[ACK_ERR_LEN + 200], err[ACK_ERR_LEN];
	bool found = false;

	if (*args == '\0' || strcspn(args, " \t") != strlen(args)) {
		snprintf(msg, sizeof msg, "Usage: `%sunset NAME`.", cx->gen->cfg->bot.prefix);
		say(cx, msg);
		return;
	}
	if ((st = store_or_say(cx)) == NULL)
		return;
	if (cx->who.guest) {
		snprintf(msg, sizeof msg, "%s: you have no variables.", cx->who.name);
		say(cx, msg);
		return;
	}
	if (uservars_unset(st, cx->who.name, args, &found, err, sizeof err) != 0) {
		snprintf(msg, sizeof msg, "%s: %.64s was not removed: %s.", cx->who.name, args,
		    err);
		say(cx, msg);
		return;
	}
	if (!found) {
		snprintf(msg, sizeof msg, "%s: you have no variable %.64s%s.", cx->who.name,
		    args, config_var(&cx->who, args) ? " of your own (it is set by the "
		    "configuration)" : "");
		say(cx, msg);
		return;
	}
	log_info("%s unset variable %s", cx->who.name, args);
	var_audit(cx, "var_unset", "unset", args, "removed", false);
	snprintf(msg, sizeof msg, "Removed %s.", args);
	say(cx, msg);
}

struct vars_list {
	struct buf *b;
	bool show_values;
};

static void
vars_item(const struct uservars_item *it, void *arg)
{
	struct vars_list *vl = arg;

	if (it->secret)
		buf_printf(vl->b, "\n  %s (secret: never shown)", it->name);
	else if (vl->show_values)
		buf_printf(vl->b, "\n  %s = %s", it->name, it->value);
	else
		buf_printf(vl->b, "\n  %s", it->name);
}

/* `vars`: names (values too in a DM, secrets never). */
static void
bi_vars(struct cmd_ctx *cx, const char *args)
{
	const char *prefix = cx->gen->cfg->bot.prefix;
	struct uservars *st = uservars_shared();
	struct vars_list vl;
	struct buf b;
	size_t n = 0, i;

	(void)args;
	buf_init(&b, 0);
	vl.b = &b;
	vl.show_values = cx->ev->is_direct;
	buf_printf(&b, "%s, your variables", cx->who.name);
	if (!cx->ev->is_direct)
		buf_puts(&b, " (names only here; values in a direct message)");
	buf_puts(&b, ":");
	if (st != NULL && !cx->who.guest)
		n = uservars_foreach(st, cx->who.name, vars_item, &vl);
	if (n == 0)
		buf_printf(&b, "\n  none yet: `%sset NAME VALUE` in a direct message", prefix);
	if (cx->who.user != NULL && cx->who.user->vars.n > 0) {
		buf_puts(&b, "\nSet by the configuration:");
		for (i = 0; i < cx->who.user->vars.n; i++) {
			const struct cfg_kv *kv = &cx->who.user->vars.v[i];

			if (kv->secret)
				buf_printf(&b, "\n  %s (secret)", kv->key);
			else if (vl.show_values)
				buf_printf(&b, "\n  %s = %s", kv->key, kv->value.s);
			else
				buf_printf(&b, "\n  %s", kv->key);
		}
	}
	say(cx, b.data);
	buf_free(&b);
}
