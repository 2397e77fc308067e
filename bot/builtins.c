/*
 * builtins.c - the bot's own commands: help [words], confirm ID, cancel ID,
 * pending, whoami. A table, one function each (tmux's cmd_entry idea).
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

static const struct builtin builtins[] = {
	{ "help", "help [words]: the commands you can run (matching words)", bi_help },
	{ "confirm", "confirm ID: run a command waiting for your confirmation", bi_confirm },
	{ "cancel", "cancel ID: drop a command waiting for confirmation, or stop a "
	    "running one (cID)", bi_cancel },
	{ "pending", "pending: your commands waiting for confirmation or running", bi_pending },
	{ "whoami", "whoami: who the bot thinks you are, and what you may run", bi_whoami },
};

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

/* Tells the requester that a confirmation expired (found on lookup before
 * its timer fired). */
static void
tell_expired(struct cmd_ctx *cx, struct confirm_entry *e)
{
	json_t *ctx = pending_cmd_context(e->payload);
	char *text;

	app_remember(cx->b, e->id, "expired");
	bot_audit(cx->b, "expired", json_pack("{s:s,s:s,s:s,s:s}", "confirm_id", e->id,
	    "alias", e->alias, "user", e->user, "channel", e->channel));
	text = messages_render(cx->gen->msgs, MSG_CONFIRM_EXPIRED, ctx);
	bot_say(cx->b, e->channel, e->thread, text);
	free(text);
	json_decref(ctx);
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

	if (!confirm_id_parse(id_text, id)) {
		refused(cx, "confirm", *id_text ? id_text : "?", NULL, *id_text ?
		    "that is not a confirmation id (six letters and digits)" :
		    "say which one: confirm ID (see pending)", "bad_id");
		return;
	}
	pe = confirm_get(b->confirms, id);
	if (pe != NULL)
		alias = pe->alias;
	fill_who(&who, &cx->who);
	r = confirm_approve(b->confirms, id, &who, cx->ev->channel_id, &e);
	switch (r) {
	case CONFIRM_READY: {
		struct pending_cmd *pc = e->payload;
		json_t *f;

		e->payload = NULL;
		app_remember(b, id, "confirmed");
		log_info("confirmation %s confirmed by %s: alias=%s", id, cx->who.name, e->alias);
		f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "confirm_id", id, "alias", e->alias,
		    "user", cx->who.name, "chat_user_id", cx->who.chat_id,
		    "requester", e->user, "channel", e->channel);
		bot_audit(b, "confirmed", f);
		confirm_entry_free(e);
		app_confirm_rearm(b);
		router_run_confirmed(b, pc, id);
		return;
	}
	case CONFIRM_EXPIRED:
		tell_expired(cx, e);
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
		log_info("confirmation %s approved by %s (%u of %u)", id, cx->who.name,
		    (unsigned)pe->napproved, (unsigned)pe->needed);
		bot_audit(b, "approved", json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "confirm_id",
		    id, "alias", pe->alias, "user", cx->who.name, "channel", pe->channel,
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
		snprintf(why, sizeof why, "only %s%s may confirm it", pe ? pe->user : "the requester",
		    pe && (pe->napprovers || pe->napprover_groups) ? " or an approver" : "");
		if (pe && (pe->napprovers || pe->napprover_groups))
			snprintf(why, sizeof why, "only an approver may confirm it");
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
	if (!confirm_id_parse(id_text, id)) {
		refused(cx, "cancel", *id_text ? id_text : "?", NULL, *id_text ?
		    "that is not a confirmation id (six letters and digits) or a command id (cN)" :
		    "say which one: cancel ID (see pending)", "bad_id");
		return;
	}
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
	case CONFIRM_DENIED: {
		json_t *ctx = pending_cmd_context(e->payload);

		json_object_set_new(ctx, "user", identity_to_json(&cx->who));
		app_remember(b, id, denied ? "denied" : "canceled");
		log_info("confirmation %s %s by %s: alias=%s", id, denied ? "denied" : "canceled",
		    cx->who.name, e->alias);
		bot_audit(b, "canceled", json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "confirm_id", id,
		    "alias", e->alias, "user", cx->who.name, "requester", e->user,
		    "channel", e->channel, "by", denied ? "approver" : "requester"));
		cmd_reply_msg(cx, denied ? MSG_CONFIRM_DENIED : MSG_CONFIRM_CANCELED, ctx);
		json_decref(ctx);
		confirm_entry_free(e);
		app_confirm_rearm(b);
		return;
	}
	case CONFIRM_EXPIRED:
		tell_expired(cx, e);
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
