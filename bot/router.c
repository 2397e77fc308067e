/*
 * router.c - chat event -> built-in, alias, confirmation or reply
 * (see router.h).
 */
#include "router.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alias.h"
#include "app.h"
#include "audit.h"
#include "confirm.h"
#include "handlers/handler.h"
#include "help.h"
#include "log.h"
#include "messages.h"
#include "output.h"
#include "policy.h"
#include "runner.h"
#include "uservars.h"
#include "util.h"

#define ROUTER_MAX_CHUNKS 20    /* longer replies end with a "cut" notice */
#define ROUTER_WHAT_MAX 4096    /* "what will run" shown in a prompt */

/* ---- posting ------------------------------------------------------------ */

/*
 * Posts text in parts; buttons go on the last part, and so does cb (called
 * once, by the adapter, with that part's message id). Returns 0 when cb will
 * be called, -1 when it will not (nothing posted, or the last part could not
 * be handed to the adapter). *last, when not NULL, gets the last part's text
 * as posted (secrets masked), or NULL.
 */
static int
say_parts(struct bot *b, const char *channel, const char *thread, const char *text,
    const struct chat_button *buttons, size_t nbuttons, chat_post_cb cb, void *arg,
    char **last)
{
	struct output_opts oo;
	struct output_chunks ch;
	char err[ACK_ERR_LEN], *masked;
	size_t i;
	int rc = -1;

	if (last != NULL)
		*last = NULL;
	if (b->adapter == NULL || text == NULL) {
		log_warn("cannot post to %s: the adapter is stopped", channel ? channel : "?");
		return -1;
	}
	/* Nothing the bot posts may show a secret: tokens, secret variables
	 * of the config and of the per-user store. */
	masked = router_mask_text(b->gen->cfg, text);
	memset(&oo, 0, sizeof oo);
	oo.max = b->adapter->max_text >= OUTPUT_MIN_MAX ? b->adapter->max_text : 4000;
	oo.unit = OUTPUT_CODEPOINTS;
	oo.max_chunks = ROUTER_MAX_CHUNKS;
	if (output_split(masked, strlen(masked), &oo, &ch, err, sizeof err) != 0) {
		log_error("cannot split a message: %s", err);
		output_chunks_free(&ch);
		free(masked);
		return -1;
	}
	if (ch.cut_bytes > 0)
		log_info("reply to %s cut: %zu bytes (%zu lines) left out", channel,
		    ch.cut_bytes, ch.cut_lines);
	for (i = 0; i < ch.n; i++) {
		struct chat_post p;
		bool is_last = i + 1 == ch.n;

		memset(&p, 0, sizeof p);
		p.channel_id = channel;
		p.thread_id = thread;
		p.text = ch.v[i];
		if (is_last && b->adapter->supports_buttons) {
			p.buttons = buttons;
			p.nbuttons = nbuttons;
		}
		if (b->adapter->ops->post(b->adapter, &p, is_last ? cb : NULL,
		    is_last ? arg : NULL) != 0)
			log_warn("posting to %s failed", channel);
		else if (is_last) {
			rc = 0;
			if (last != NULL)
				*last = xstrdup(ch.v[i]);
		}
	}
	output_chunks_free(&ch);
	free(masked);
	return rc;
}

void
bot_say_buttons(struct bot *b, const char *channel, const char *thread,
    const char *text, const struct chat_button *buttons, size_t nbuttons)
{
	say_parts(b, channel, thread, text, buttons, nbuttons, NULL, NULL, NULL);
}

void
bot_say(struct bot *b, const char *channel, const char *thread, const char *text)
{
	bot_say_buttons(b, channel, thread, text, NULL, 0);
}

/* ---- secrets and audit -------------------------------------------------- */

/*
 * Every secret value the bot knows: the chat tokens, secret [vars] and
 * [users.NAME.vars], and every secret in the per-user store. Shorter than
 * ROUTER_MIN_SECRET they are left out: masking "ab" everywhere would garble
 * every post (the store refuses such secrets; the config ones are tokens).
 */
#define ROUTER_MIN_SECRET 4

static void
secrets_add(struct router_secrets *l, const char *v)
{
	if (v == NULL || strlen(v) < ROUTER_MIN_SECRET)
		return;
	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof *l->v);
	l->v[l->n++] = v;
}

static void
secrets_add_cb(const char *v, void *arg)
{
	secrets_add(arg, v);
}

static void
secrets_add_kvv(struct router_secrets *l, const struct cfg_kvv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->v[i].secret)
			secrets_add(l, v->v[i].value.s);
}

void
router_secrets_collect(const struct cfg *c, struct router_secrets *l)
{
	size_t i;

	memset(l, 0, sizeof *l);
	secrets_add(l, c->slack.bot_token.value);
	secrets_add(l, c->slack.app_token.value);
	secrets_add(l, c->mattermost.token.value);
	secrets_add_kvv(l, &c->vars);
	for (i = 0; i < c->nusers; i++)
		secrets_add_kvv(l, &c->users[i].vars);
	uservars_foreach_secret(uservars_shared(), secrets_add_cb, l);
}

void
router_secrets_free(struct router_secrets *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

char *
router_mask_text(const struct cfg *c, const char *text)
{
	struct router_secrets l;
	char *out;

	router_secrets_collect(c, &l);
	out = l.n ? audit_mask(text, l.v, l.n) : xstrdup(text);
	router_secrets_free(&l);
	return out;
}

static void
mask_walk(json_t *v, const struct router_secrets *l)
{
	size_t i;
	const char *key;
	json_t *x;

	if (json_is_string(v)) {
		char *m = audit_mask(json_string_value(v), l->v, l->n);

		if (strcmp(m, json_string_value(v)) != 0)
			json_string_set(v, m);
		free(m);
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, x)
			mask_walk(x, l);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			mask_walk(x, l);
	}
}

void
bot_mask_secrets(const struct bot_gen *gen, json_t *v)
{
	struct router_secrets l;

	router_secrets_collect(gen->cfg, &l);
	if (l.n > 0)
		mask_walk(v, &l);
	router_secrets_free(&l);
}

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/*
 * The router speaks in JSON fields; audit.h takes a record. Known fields go
 * to their places, the rest into detail ("reason=...; by=...").
 */
void
bot_audit(struct bot *b, const char *event, json_t *fields)
{
	static const char *const known[] = { "id", "confirm_id", "user", "platform",
		"chat_user_id", "user_name", "channel", "thread", "alias", "parameters",
		"status", "exit_code", "http_status", "duration_ms" };
	struct audit_record r;
	struct router_secrets sl;
	const char *k;
	json_t *v;
	struct buf detail;
	char err[ACK_ERR_LEN];
	int e;

	if (fields == NULL)
		return;
	if (b->audit == NULL) {
		json_decref(fields);
		return;
	}
	memset(&r, 0, sizeof r);
	/* every event audit.c knows (it says "unknown" past the last one) */
	for (e = AUDIT_REQUESTED; e < 256; e++) {
		const char *name = audit_event_name((enum audit_event)e);

		if (strcmp(name, "unknown") == 0 || strcmp(name, event) == 0)
			break;
	}
	if (e >= 256 || strcmp(audit_event_name((enum audit_event)e), event) != 0) {
		/* a confirmation dropped by the bot (reload, shutdown) is a cancel */
		if (strcmp(event, "dropped") == 0)
			e = AUDIT_CANCELED;
		else {
			json_decref(fields);
			return;
		}
	}
	r.event = (enum audit_event)e;
	r.command_id = jstr(fields, "id");
	r.confirm_id = jstr(fields, "confirm_id");
	r.user = jstr(fields, "user");
	r.platform = jstr(fields, "platform");
	r.user_id = jstr(fields, "chat_user_id");
	r.user_name = jstr(fields, "user_name");
	r.channel = jstr(fields, "channel");
	r.thread = jstr(fields, "thread");
	r.alias = jstr(fields, "alias");
	v = json_object_get(fields, "parameters");
	r.params = json_is_object(v) ? v : NULL;
	r.outcome = jstr(fields, "status");
	if (r.outcome == NULL && (r.event == AUDIT_REFUSED || r.event == AUDIT_DENIED ||
	    r.event == AUDIT_CANCELED))
		r.outcome = strcmp(event, "dropped") == 0 ? "dropped" : event;
	if ((v = json_object_get(fields, "exit_code")) != NULL ||
	    (v = json_object_get(fields, "http_status")) != NULL) {
		r.has_exit_code = true;
		r.exit_code = (int)json_integer_value(v);
	}
	if ((v = json_object_get(fields, "duration_ms")) != NULL) {
		r.has_duration = true;
		r.duration_ms = (uint64_t)json_integer_value(v);
	}
	buf_init(&detail, 0);
	json_object_foreach(fields, k, v) {
		size_t i;
		bool skip = false;

		for (i = 0; i < ACK_ARRAY_LEN(known); i++)
			if (strcmp(k, known[i]) == 0)
				skip = true;
		if (skip)
			continue;
		if (json_is_string(v)) {
			buf_printf(&detail, "%s%s=%s", detail.len ? "; " : "", k,
			    json_string_value(v));
		} else {
			char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

			buf_printf(&detail, "%s%s=%s", detail.len ? "; " : "", k, d ? d : "?");
			free(d);
		}
	}
	r.detail = detail.len ? detail.data : NULL;
	router_secrets_collect(b->gen->cfg, &sl);
	r.secrets = sl.v;
	r.nsecrets = sl.n;
	if (audit_write(b->audit, &r, err, sizeof err) != 0)
		log_error("audit log: %s", err);
	router_secrets_free(&sl);
	buf_free(&detail);
	json_decref(fields);
}

/* ---- contexts ----------------------------------------------------------- */

json_t *
cmd_context(const struct cmd_ctx *cx)
{
	const struct cfg *c = cx->gen->cfg;
	const struct chat_event *ev = cx->ev;
	json_t *ctx = json_object(), *sys = json_object();
	size_t i;

	for (i = 0; i < c->vars.n; i++)
		if (c->vars.v[i].key && c->vars.v[i].value.s)
			json_object_set_new(sys, c->vars.v[i].key,
			    json_string(c->vars.v[i].value.s));
	json_object_set_new(ctx, "user", identity_to_json(&cx->who));
	runner_set_source(ctx, ev->platform, ev->channel_id, ev->channel_name, cx->thread,
	    ev->is_direct);
	json_object_set_new(ctx, "system", sys);
	json_object_set_new(ctx, "bot", json_pack("{s:s,s:s}", "name", c->bot.name,
	    "prefix", c->bot.prefix));
	json_object_set_new(ctx, "command", json_string(cx->text ? cx->text : ""));
	return ctx;
}

void
cmd_reply_msg(struct cmd_ctx *cx, int msg_id, const json_t *ctx)
{
	char *text = messages_render(cx->gen->msgs, (enum msg_id)msg_id, ctx);

	bot_say(cx->b, cx->channel, cx->thread, text);
	free(text);
}

static json_t *
base_audit(const struct cmd_ctx *cx)
{
	json_t *f = json_object();

	json_object_set_new(f, "user", json_string(cx->who.name));
	json_object_set_new(f, "platform", json_string(cx->who.platform));
	json_object_set_new(f, "chat_user_id", json_string(cx->who.chat_id));
	json_object_set_new(f, "user_name", json_string(cx->who.chat_name));
	json_object_set_new(f, "channel", json_string(cx->ev->channel_id ?
	    cx->ev->channel_id : ""));
	if (cx->thread)
		json_object_set_new(f, "thread", json_string(cx->thread));
	return f;
}

/* ---- pending confirmations ---------------------------------------------- */

/*
 * The message holding a confirmation's buttons. Posting is asynchronous:
 * the message id arrives with the post's callback, possibly after the
 * confirmation was already decided (a typed confirm, an expiry). So the
 * record is shared, reference-counted, by the pending command and by the
 * post callback; a text decided before the id is known waits here and goes
 * out when the id arrives. Only made where buttons were posted.
 */
#define PROMPT_MAX_BUTTONS 3

struct prompt_msg {
	unsigned refs;
	struct bot *b;
	char *channel;
	char *message_id;               /* from the post callback; NULL until then */
	char *last_text;                /* the posted text of that message */
	bool posted;                    /* the post callback came (ok or not) */
	bool decided;                   /* the final text is set: nothing after it */
	char *waiting;                  /* an update waiting for message_id */
	bool waiting_buttons;           /* ... that keeps the buttons */
	struct chat_button btn[PROMPT_MAX_BUTTONS];
	char values[PROMPT_MAX_BUTTONS][32];
	size_t nbtn;
};

struct pending_cmd {
	struct bot_gen *gen;
	size_t alias_idx;
	json_t *params;
	struct identity who;
	char *channel_id, *channel_name, *thread_id;
	bool is_direct;
	char cmd_id[16];
	char *what;
	uint64_t timeout_ms;
	char confirm_id[CONFIRM_ID_SIZE];
	struct prompt_msg *prompt;      /* NULL when no buttons were posted */
	char *decided_by;               /* who reached the quorum */
	json_t *approved_by;            /* everyone who approved, in order */
};

static void
prompt_unref(struct prompt_msg *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	free(p->channel);
	free(p->message_id);
	free(p->last_text);
	free(p->waiting);
	free(p);
}

/*
 * text cut to what the adapter takes in one message: when it is too long,
 * its end is kept (that is where the outcome is said). Secrets masked.
 */
static char *
prompt_fit(struct bot *b, const char *text)
{
	struct output_opts oo;
	struct output_chunks ch;
	char err[ACK_ERR_LEN], *masked = router_mask_text(b->gen->cfg, text), *out;

	memset(&oo, 0, sizeof oo);
	oo.max = b->adapter->max_text >= OUTPUT_MIN_MAX ? b->adapter->max_text : 4000;
	oo.unit = OUTPUT_CODEPOINTS;
	if (output_measure(masked, strlen(masked), oo.unit) <= oo.max)
		return masked;
	oo.max_chunks = 1;
	if (output_split(masked, strlen(masked), &oo, &ch, err, sizeof err) != 0 || ch.n == 0) {
		output_chunks_free(&ch);
		return masked;
	}
	out = xstrdup(ch.v[ch.n - 1]);
	output_chunks_free(&ch);
	free(masked);
	return out;
}

static void
prompt_send(struct prompt_msg *p, const char *text, bool buttons)
{
	struct bot *b = p->b;
	struct chat_post cp;
	char *t;

	if (b->adapter == NULL || b->adapter->ops->update == NULL)
		return;
	t = prompt_fit(b, text);
	memset(&cp, 0, sizeof cp);
	cp.channel_id = p->channel;
	cp.text = t;
	if (buttons) {
		cp.buttons = p->btn;
		cp.nbuttons = p->nbtn;
	}
	if (b->adapter->ops->update(b->adapter, p->channel, p->message_id, &cp, NULL,
	    NULL) != 0)
		log_warn("cannot update the confirmation prompt %s in %s", p->message_id,
		    p->channel);
	free(t);
}

static void
prompt_posted(void *arg, bool ok, const char *message_id, const char *error)
{
	struct prompt_msg *p = arg;

	p->posted = true;
	if (ok && message_id != NULL && *message_id != '\0') {
		p->message_id = xstrdup(message_id);
		if (p->waiting != NULL)
			prompt_send(p, p->waiting, p->waiting_buttons);
	} else {
		log_warn("the confirmation prompt in %s was not posted: %s", p->channel,
		    error ? error : "no message id");
	}
	free(p->waiting);
	p->waiting = NULL;
	prompt_unref(p);
}

/* Replaces the prompt's text (with its buttons, or final without). */
static void
prompt_set(struct prompt_msg *p, const char *text, bool final)
{
	if (p == NULL || p->decided)
		return;
	if (final)
		p->decided = true;
	if (p->message_id != NULL) {
		prompt_send(p, text, !final);
	} else if (!p->posted) {
		free(p->waiting);
		p->waiting = xstrdup(text);
		p->waiting_buttons = !final;
	}
}

static void prompt_gone(struct pending_cmd *pc);

void
pending_cmd_free(void *p)
{
	struct pending_cmd *pc = p;

	if (pc == NULL)
		return;
	if (pc->prompt != NULL) {
		/* Freed undecided: the tracker let it go (expired on its timer,
		 * or dropped by a reload or at the end), after telling the
		 * channel. Its buttons go too. */
		if (!pc->prompt->decided)
			prompt_gone(pc);
		prompt_unref(pc->prompt);
	}
	gen_unref(pc->gen);
	json_decref(pc->params);
	json_decref(pc->approved_by);
	identity_free(&pc->who);
	free(pc->channel_id);
	free(pc->channel_name);
	free(pc->thread_id);
	free(pc->what);
	free(pc->decided_by);
	free(pc);
}

void
pending_cmd_approved(struct pending_cmd *pc, const char *by, const struct confirm_entry *e)
{
	uint16_t k;

	free(pc->decided_by);
	pc->decided_by = xstrdup(by);
	json_decref(pc->approved_by);
	pc->approved_by = json_array();
	for (k = 0; e != NULL && k < e->napproved; k++)
		json_array_append_new(pc->approved_by, json_string(e->approved[k]));
}

const char *
pending_cmd_alias(const struct pending_cmd *pc)
{
	return pc->gen->cfg->aliases[pc->alias_idx].name;
}

static void
fmt_duration(uint64_t ms, char *out, size_t n)
{
	handler_fmt_duration(ms, out, n);
}

static void
join_names(struct buf *b, const struct cfg_strv *v, const char *suffix)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		buf_printf(b, "%s%s%s", b->len ? ", " : "", v->v[i].s, suffix);
}

/* The context of messages about a pending confirmation: the action's
 * context plus confirm {id, requester, what, timeout, approvers, needed}. */
json_t *
pending_cmd_context(const struct pending_cmd *pc)
{
	const struct cfg_alias *a = &pc->gen->cfg->aliases[pc->alias_idx];
	json_t *ctx = runner_context(pc->gen, pc->alias_idx, pc->cmd_id, pc->params,
	    &pc->who, pc->channel_id, pc->channel_name, pc->thread_id, pc->is_direct);
	json_t *conf = json_object();
	char t[32];
	struct buf ap;
	size_t i;

	fmt_duration(pc->timeout_ms, t, sizeof t);
	buf_init(&ap, 0);
	join_names(&ap, &a->confirm.approvers, "");
	for (i = 0; i < a->confirm.approver_groups.n; i++)
		buf_printf(&ap, "%s%s%s", ap.len ? (i == 0 ? " or " : ", ") : "",
		    i == 0 ? "members of " : "", a->confirm.approver_groups.v[i].s);
	json_object_set_new(conf, "id", json_string(pc->confirm_id));
	json_object_set_new(conf, "requester", json_string(pc->who.name));
	json_object_set_new(conf, "what", json_string(pc->what ? pc->what : ""));
	json_object_set_new(conf, "timeout", json_string(t));
	json_object_set_new(conf, "timeout_ms", json_integer((json_int_t)pc->timeout_ms));
	json_object_set_new(conf, "approvers", json_string(ap.data ? ap.data : ""));
	json_object_set_new(conf, "needed", json_integer(a->confirm.approvals ?
	    a->confirm.approvals : 1));
	json_object_set_new(conf, "allow_self", json_boolean(a->confirm.allow_self ||
	    a->confirm.approvers.n + a->confirm.approver_groups.n == 0));
	json_object_set_new(conf, "approved", json_integer(0));
	json_object_set_new(ctx, "confirm", conf);
	buf_free(&ap);
	return ctx;
}

/* Quotes one argv element for display, the way a shell would need it. */
static void
put_arg(struct buf *b, const char *s)
{
	const char *p;
	bool plain = *s != '\0';

	for (p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("-_./=:,@%+", *p)))
			plain = false;
	if (plain) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '\'');
	for (p = s; *p; p++) {
		if (*p == '\'')
			buf_puts(b, "'\\''");
		else if (*p == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *p);
	}
	buf_putc(b, '\'');
}

/* "What will run", for the confirmation prompt: the argv as rendered for
 * exec, method and URL for http. */
static char *
describe_action(const struct bot_gen *gen, const struct cfg_alias *a, const json_t *ctx)
{
	char err[ACK_ERR_LEN];
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	if (a->handler == CFG_HANDLER_EXEC) {
		for (i = 0; i < a->exec.argv.n; i++) {
			char *s = handler_render(a->exec.argv.v[i].s, ctx, 0, "argv", err,
			    sizeof err);

			if (i > 0)
				buf_putc(&b, ' ');
			if (s == NULL) {
				buf_printf(&b, "<%s>", err);
				continue;
			}
			put_arg(&b, s);
			free(s);
		}
	} else {
		char *m = handler_render(a->http.method.s ? a->http.method.s : "GET", ctx, 64,
		    "method", err, sizeof err);
		char *u = handler_render(a->http.url.s, ctx, 0, "url", err, sizeof err);

		buf_printf(&b, "%s %s", m ? m : "GET", u ? u : "<url cannot be rendered>");
		free(m);
		free(u);
	}
	if (b.len > ROUTER_WHAT_MAX) {
		b.len = ROUTER_WHAT_MAX;
		while (b.len > 0 && ((unsigned char)b.data[b.len] & 0xC0) == 0x80)
			b.len--;
		b.data[b.len] = '\0';
		buf_puts(&b, " …");
	}
	{
		json_t *s = json_string(b.data ? b.data : "");
		char *out;

		if (s == NULL)
			return buf_steal(&b);
		bot_mask_secrets(gen, s);
		out = xstrdup(json_string_value(s));
		json_decref(s);
		buf_free(&b);
		return out;
	}
}

char *
router_describe_action(const struct bot_gen *gen, const struct cfg_alias *a,
    const json_t *ctx)
{
	return describe_action(gen, a, ctx);
}

static const char *const *
strv_ptrs(const struct cfg_strv *v)
{
	const char **p;
	size_t i;

	if (v->n == 0)
		return NULL;
	p = xcalloc(v->n, sizeof *p);
	for (i = 0; i < v->n; i++)
		p[i] = v->v[i].s;
	return p;
}

static void
fill_who(struct confirm_who *w, const struct identity *id)
{
	w->platform = id->platform;
	w->user_id = id->chat_id;
	w->user = id->name;
	w->groups = (const char *const *)id->groups;
	w->ngroups = id->ngroups;
}

static bool
wants_buttons(const struct bot *b, const struct cfg *c)
{
	if (b->adapter == NULL || !b->adapter->supports_buttons)
		return false;
	if (c->bot.adapter == CFG_ADAPTER_SLACK)
		return c->slack.buttons;
	return true;
}

/* The context of the outcome and progress texts: the confirmation's, with
 * outcome, decided_by, reason and confirm.approved_by. */
static json_t *
prompt_context(const struct pending_cmd *pc, const char *outcome, const char *by,
    const char *reason)
{
	json_t *ctx = pending_cmd_context(pc), *conf = json_object_get(ctx, "confirm");
	json_t *ab = pc->approved_by ? json_incref(pc->approved_by) : json_array();

	json_object_set_new(ctx, "outcome", json_string(outcome ? outcome : ""));
	json_object_set_new(ctx, "decided_by", json_string(by ? by : ""));
	json_object_set_new(ctx, "reason", json_string(reason ? reason : ""));
	json_object_set_new(conf, "approved", json_integer((json_int_t)json_array_size(ab)));
	json_object_set_new(conf, "approved_by", ab);
	return ctx;
}

void
router_prompt_decided(struct bot *b, struct pending_cmd *pc, const char *outcome,
    const char *by, const char *reason)
{
	json_t *ctx;
	char *text;

	if (pc == NULL || pc->prompt == NULL || pc->prompt->decided)
		return;
	if (b->adapter == NULL) {
		pc->prompt->decided = true;
		return;
	}
	ctx = prompt_context(pc, outcome, by, reason);
	text = messages_render(b->gen->msgs, MSG_CONFIRM_OUTCOME, ctx);
	{
		/* Too long for one message (a prompt that took several): "what
		 * will run" is shortened, so that the outcome still shows. */
		size_t max = b->adapter->max_text >= OUTPUT_MIN_MAX ? b->adapter->max_text :
		    4000, n = output_measure(text, strlen(text), OUTPUT_CODEPOINTS);
		json_t *conf = json_object_get(ctx, "confirm");
		const char *w = json_string_value(json_object_get(conf, "what"));
		size_t wn = w ? output_measure(w, strlen(w), OUTPUT_CODEPOINTS) : 0;

		if (n > max && wn > n - max + 2) {
			size_t keep = wn - (n - max + 2), i = 0, cp = 0;
			char *cut;

			while (w[i] != '\0') {
				if (((unsigned char)w[i] & 0xC0) != 0x80 && cp++ == keep)
					break;
				i++;
			}
			cut = xasprintf("%.*s\xe2\x80\xa6", (int)i, w);
			json_object_set_new(conf, "what", json_string(cut));
			free(cut);
			free(text);
			text = messages_render(b->gen->msgs, MSG_CONFIRM_OUTCOME, ctx);
		}
	}
	log_debug("confirmation %s: prompt in %s becomes %s%s%s", pc->confirm_id,
	    pc->prompt->channel, outcome, by ? " by " : "", by ? by : "");
	prompt_set(pc->prompt, text, true);
	free(text);
	json_decref(ctx);
}

void
router_prompt_progress(struct bot *b, struct pending_cmd *pc, const char *by,
    const struct confirm_entry *e)
{
	json_t *ctx;
	char *text;

	if (pc == NULL || pc->prompt == NULL || pc->prompt->decided || b->adapter == NULL)
		return;
	pending_cmd_approved(pc, by, e);
	ctx = prompt_context(pc, "approved", by, NULL);
	json_object_set_new(json_object_get(ctx, "confirm"), "needed",
	    json_integer(e->needed));
	json_object_set_new(ctx, "prompt", json_string(pc->prompt->last_text ?
	    pc->prompt->last_text : ""));
	text = messages_render(b->gen->msgs, MSG_CONFIRM_PROGRESS, ctx);
	prompt_set(pc->prompt, text, false);
	free(text);
	json_decref(ctx);
}

/* A confirmation freed without a decision of the router's: the tracker
 * expired it on its timer, or the bot dropped it (reload, shutdown, end of
 * the session). app_remember has already recorded which. */
static void
prompt_gone(struct pending_cmd *pc)
{
	struct bot *b = pc->prompt->b;
	const char *what = app_recall(b, pc->confirm_id);
	const char *reason;

	if (what != NULL && strcmp(what, "expired") == 0) {
		router_prompt_decided(b, pc, "expired", NULL, NULL);
		return;
	}
	switch (b->state) {
	case BOT_RUNNING:
		reason = "its alias was removed or disabled by a configuration reload";
		break;
	case BOT_DRAINING:
		reason = "the session ended";
		break;
	default:
		reason = "the bot is shutting down";
		break;
	}
	router_prompt_decided(b, pc, "dropped", NULL, reason);
}

static void
ask_confirmation(struct cmd_ctx *cx, size_t alias_idx, json_t *params, const char *cmd_id)
{
	struct bot *b = cx->b;
	const struct cfg *c = cx->gen->cfg;
	const struct cfg_alias *a = &c->aliases[alias_idx];
	struct pending_cmd *pc = xcalloc(1, sizeof *pc);
	struct confirm_request rq;
	const struct confirm_entry *e;
	char err[ACK_ERR_LEN];
	json_t *ctx, *f;
	char *text;

	pc->gen = gen_ref(cx->gen);
	pc->alias_idx = alias_idx;
	pc->params = params;
	identity_copy(&pc->who, &cx->who);
	pc->channel_id = xstrdup(cx->ev->channel_id);
	pc->channel_name = xstrdup(cx->ev->channel_name);
	pc->thread_id = xstrdup(cx->thread);
	pc->is_direct = cx->ev->is_direct;
	snprintf(pc->cmd_id, sizeof pc->cmd_id, "%s", cmd_id);
	pc->timeout_ms = a->confirm.timeout_ms ? a->confirm.timeout_ms :
	    c->bot.confirm_timeout_ms;
	ctx = runner_context(cx->gen, alias_idx, cmd_id, params, &cx->who,
	    cx->ev->channel_id, cx->ev->channel_name, cx->thread, cx->ev->is_direct);
	pc->what = describe_action(cx->gen, a, ctx);
	json_decref(ctx);

	memset(&rq, 0, sizeof rq);
	fill_who(&rq.requester, &cx->who);
	rq.channel = cx->ev->channel_id;
	rq.thread = cx->thread;
	rq.alias = a->name;
	rq.what = pc->what;
	rq.timeout_ms = pc->timeout_ms;
	rq.policy.approvers = strv_ptrs(&a->confirm.approvers);
	rq.policy.napprovers = a->confirm.approvers.n;
	rq.policy.approver_groups = strv_ptrs(&a->confirm.approver_groups);
	rq.policy.napprover_groups = a->confirm.approver_groups.n;
	rq.policy.allow_self = a->confirm.allow_self;
	rq.policy.approvals = a->confirm.approvals;
	rq.payload = pc;
	rq.payload_free = pending_cmd_free;
	if (confirm_add(b->confirms, &rq, &e, err, sizeof err) != 0) {
		json_t *x = cmd_context(cx);

		log_error("%s: cannot hold a confirmation: %s", cmd_id, err);
		json_object_set_new(x, "actionalias", json_pack("{s:s}", "name", a->name));
		json_object_set_new(x, "reason", json_string(err));
		cmd_reply_msg(cx, MSG_BAD_COMMAND, x);
		json_decref(x);
		pending_cmd_free(pc);
		free((void *)rq.policy.approvers);
		free((void *)rq.policy.approver_groups);
		return;
	}
	free((void *)rq.policy.approvers);
	free((void *)rq.policy.approver_groups);
	snprintf(pc->confirm_id, sizeof pc->confirm_id, "%s", e->id);
	app_confirm_rearm(b);

	log_info("%s: confirmation %s asked: alias=%s user=%s channel=%s", cmd_id, e->id,
	    a->name, cx->who.name, cx->ev->channel_id);
	f = base_audit(cx);
	json_object_set_new(f, "id", json_string(cmd_id));
	json_object_set_new(f, "confirm_id", json_string(e->id));
	json_object_set_new(f, "alias", json_string(a->name));
	json_object_set_new(f, "what", json_string(pc->what));
	json_object_set(f, "parameters", params);
	json_object_set_new(f, "timeout_ms", json_integer((json_int_t)pc->timeout_ms));
	bot_audit(b, "confirmation_asked", f);

	ctx = pending_cmd_context(pc);
	json_object_set_new(ctx, "user", identity_to_json(&cx->who));
	text = messages_render(cx->gen->msgs, MSG_CONFIRM_PROMPT, ctx);
	if (wants_buttons(b, c)) {
		struct chat_button btn[3];
		char v1[32], v2[32], v3[32];
		size_t nb = 0;

		/* With approvers: Approve, Deny (an approver turns it down) and
		 * Cancel (the requester withdraws it). Who clicked is checked
		 * when the click comes in, exactly as a typed command. */
		snprintf(v1, sizeof v1, "confirm:%s", pc->confirm_id);
		snprintf(v2, sizeof v2, "deny:%s", pc->confirm_id);
		snprintf(v3, sizeof v3, "cancel:%s", pc->confirm_id);
		memset(btn, 0, sizeof btn);
		btn[nb].label = "Approve";
		btn[nb].value = v1;
		btn[nb++].primary = true;
		if (a->confirm.approvers.n + a->confirm.approver_groups.n > 0) {
			btn[nb].label = "Deny";
			btn[nb].value = v2;
			btn[nb++].danger = true;
		}
		btn[nb].label = "Cancel";
		btn[nb].value = v3;
		btn[nb].danger = nb == 1;
		nb++;
		if (b->adapter->ops->update != NULL) {
			/* Remember the message with the buttons, to replace them
			 * with the outcome once it is decided. */
			struct prompt_msg *pm = xcalloc(1, sizeof *pm);
			size_t k;

			pm->refs = 2;   /* the pending command and the post callback */
			pm->b = b;
			pm->channel = xstrdup(cx->channel);
			for (k = 0; k < nb; k++) {
				pm->btn[k] = btn[k];
				snprintf(pm->values[k], sizeof pm->values[k], "%s", btn[k].value);
				pm->btn[k].value = pm->values[k];
			}
			pm->nbtn = nb;
			pc->prompt = pm;
			if (say_parts(b, cx->channel, cx->thread, text, btn, nb, prompt_posted,
			    pm, &pm->last_text) != 0) {
				pm->posted = true;      /* no callback will come */
				prompt_unref(pm);
			}
		} else {
			bot_say_buttons(b, cx->channel, cx->thread, text, btn, nb);
		}
	} else {
		bot_say(b, cx->channel, cx->thread, text);
	}
	free(text);
	json_decref(ctx);
}

static void
submit(struct bot *b, struct bot_gen *gen, size_t alias_idx, json_t *params,
    struct identity *who, const char *channel_id, const char *channel_name,
    const char *thread, bool is_direct, const char *cmd_id, const char *confirm_id)
{
	struct run_request rq;

	memset(&rq, 0, sizeof rq);
	rq.gen = gen_ref(gen);
	rq.alias_idx = alias_idx;
	rq.params = params;
	rq.who = *who;
	memset(who, 0, sizeof *who);
	rq.channel_id = channel_id;
	rq.channel_name = channel_name;
	rq.thread_id = thread;
	rq.is_direct = is_direct;
	rq.cmd_id = cmd_id;
	rq.confirm_id = confirm_id;
	runner_submit(b->runner, &rq);
}

/*
 * A confirmed request runs exactly what was shown: the alias definition of
 * the generation it was made with. Access is checked again against the
 * current configuration, which may have changed since.
 */
void
router_run_confirmed(struct bot *b, struct pending_cmd *pc, const char *confirm_id)
{
	const struct cfg_alias *now = cfg_find_alias(b->gen->cfg, pending_cmd_alias(pc));
	struct policy_request pr;
	char why[ACK_ERR_LEN];

	if (now != NULL) {
		struct identity cur;

		identity_resolve(b->gen->cfg, pc->who.platform, pc->who.chat_id,
		    pc->who.chat_name, &cur);
		memset(&pr, 0, sizeof pr);
		pr.cfg = b->gen->cfg;
		pr.alias = now;
		pr.who = &cur;
		pr.channel_id = pc->channel_id;
		pr.channel_name = pc->channel_name;
		pr.is_direct = pc->is_direct;
		if (!policy_check(&pr, why, sizeof why)) {
			json_t *ctx = pending_cmd_context(pc);
			char *text;

			json_object_set_new(ctx, "reason", json_string(why));
			text = messages_render(b->gen->msgs, MSG_NOT_ALLOWED, ctx);
			bot_say(b, pc->channel_id, pc->thread_id, text);
			free(text);
			json_decref(ctx);
			bot_audit(b, "denied", json_pack("{s:s,s:s,s:s,s:s,s:s}", "id",
			    pc->cmd_id, "confirm_id", confirm_id, "alias", now->name,
			    "user", cur.name, "reason", why));
			identity_free(&cur);
			router_prompt_decided(b, pc, "refused", pc->decided_by, why);
			pending_cmd_free(pc);
			return;
		}
		identity_free(&cur);
	}
	router_prompt_decided(b, pc, "confirmed", pc->decided_by, NULL);
	submit(b, pc->gen, pc->alias_idx, json_incref(pc->params), &pc->who, pc->channel_id,
	    pc->channel_name, pc->thread_id, pc->is_direct, pc->cmd_id, confirm_id);
	pending_cmd_free(pc);
}

/* ---- alias commands ----------------------------------------------------- */

static bool
visible_cb(const struct cfg_alias *a, void *arg)
{
	const struct cmd_ctx *cx = arg;
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

bool
router_runas_missing(const struct cfg_alias *a, const struct identity *who, char *why,
    size_t whylen)
{
	if (a->handler != CFG_HANDLER_EXEC || !a->exec.run_as_user)
		return false;
	if (who->user != NULL && who->user->unix_user != NULL)
		return false;
	ack_err(why, whylen, "it runs as your unix account, and you have none "
	    "(unix_user in your [users] entry)");
	return true;
}

static void
reply_unknown(struct cmd_ctx *cx)
{
	json_t *ctx = cmd_context(cx), *sugg = json_array();
	struct help_item items[3];
	size_t n, i;

	n = help_suggest(cx->gen->cfg, cx->text, visible_cb, cx, items, 3);
	for (i = 0; i < n; i++) {
		char *s = xasprintf("`%s%s`", cx->gen->cfg->bot.prefix, items[i].display);

		json_array_append_new(sugg, json_string(s));
		free(s);
	}
	json_object_set_new(ctx, "suggestions", sugg);
	cmd_reply_msg(cx, MSG_UNKNOWN_COMMAND, ctx);
	json_decref(ctx);
}

static void
request_one(struct cmd_ctx *cx, size_t alias_idx, json_t *params)
{
	struct bot *b = cx->b;
	const struct cfg *c = cx->gen->cfg;
	const struct cfg_alias *a = &c->aliases[alias_idx];
	char cmd_id[16];
	json_t *f;

	snprintf(cmd_id, sizeof cmd_id, "c%lu", ++b->next_cmd);
	f = base_audit(cx);
	json_object_set_new(f, "id", json_string(cmd_id));
	json_object_set_new(f, "alias", json_string(a->name));
	json_object_set(f, "parameters", params);
	bot_audit(b, "requested", f);
	log_info("%s: %s requested by %s in %s", cmd_id, a->name, cx->who.name,
	    cx->ev->channel_id);
	if (a->confirm.required) {
		ask_confirmation(cx, alias_idx, json_incref(params), cmd_id);
	} else {
		struct identity who;

		/* the runner takes its own copy of the identity */
		identity_copy(&who, &cx->who);
		submit(b, cx->gen, alias_idx, json_incref(params), &who,
		    cx->ev->channel_id, cx->ev->channel_name, cx->thread, cx->ev->is_direct,
		    cmd_id, NULL);
	}
}

static void
refuse(struct cmd_ctx *cx, const struct cfg_alias *a, int msg, const char *audit_event,
    const char *why, const json_t *params, const struct policy_verdict *v)
{
	json_t *ctx = cmd_context(cx), *f;

	json_object_set_new(ctx, "actionalias", json_pack("{s:s}", "name", a->name));
	json_object_set_new(ctx, "reason", json_string(why));
	cmd_reply_msg(cx, msg, ctx);
	json_decref(ctx);
	f = base_audit(cx);
	json_object_set_new(f, "alias", json_string(a->name));
	if (params != NULL)
		json_object_set(f, "parameters", (json_t *)params);
	json_object_set_new(f, "reason", json_string(why));
	if (v != NULL) {
		json_object_set_new(f, "rule", json_string(v->rule));
		json_object_set_new(f, "why", json_string(v->detail));
	}
	bot_audit(cx->b, audit_event, f);
}

static void
handle_alias(struct cmd_ctx *cx)
{
	const struct cfg *c = cx->gen->cfg;
	struct alias_match m;
	const struct cfg_alias *a;
	struct policy_request pr;
	struct policy_verdict verdict;
	char why[ACK_ERR_LEN];
	size_t idx;
	json_t *ctx;

	memset(&m, 0, sizeof m);
	alias_set_match(cx->gen->aliases, cx->text, strlen(cx->text), &m);
	if (m.kind == ALIAS_NO_MATCH) {
		log_info("unknown command from %s in %s", cx->who.name, cx->ev->channel_id);
		reply_unknown(cx);
		alias_match_clear(&m);
		return;
	}
	if (m.kind == ALIAS_AMBIGUOUS) {
		json_t *cands = json_array();
		size_t i;

		for (i = 0; i < m.ncandidates; i++) {
			const struct alias_candidate *k = &m.candidates[i];
			char *s = xasprintf("%s (`%s%s`)", k->alias->name, c->bot.prefix,
			    k->display ? k->display : k->representation);

			json_array_append_new(cands, json_string(s));
			free(s);
		}
		ctx = cmd_context(cx);
		json_object_set_new(ctx, "candidates", cands);
		log_info("ambiguous command from %s in %s (%zu candidates)", cx->who.name,
		    cx->ev->channel_id, m.ncandidates);
		cmd_reply_msg(cx, MSG_AMBIGUOUS, ctx);
		json_decref(ctx);
		alias_match_clear(&m);
		return;
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
	if (!policy_decide(&pr, &verdict)) {
		log_info("%s denied to %s in %s: %s (%s)", a->name, cx->who.name,
		    cx->ev->channel_id, verdict.reason, verdict.rule);
		refuse(cx, a, MSG_NOT_ALLOWED, "denied", verdict.reason, m.params,
		    &verdict);
		alias_match_clear(&m);
		return;
	}
	if (router_runas_missing(a, &cx->who, why, sizeof why)) {
		log_info("%s refused to %s in %s: %s", a->name, cx->who.name,
		    cx->ev->channel_id, why);
		refuse(cx, a, MSG_BAD_COMMAND, "refused", why, m.params, NULL);
		alias_match_clear(&m);
		return;
	}
	ctx = cmd_context(cx);
	json_object_set_new(ctx, "actionalias", json_pack("{s:s}", "name", a->name));
	if (alias_apply_immutable(cx->gen->aliases, a, m.params, ctx, why, sizeof why) != 0) {
		log_info("%s refused to %s in %s: %s", a->name, cx->who.name,
		    cx->ev->channel_id, why);
		refuse(cx, a, MSG_BAD_COMMAND, "refused", why, m.params, NULL);
		json_decref(ctx);
		alias_match_clear(&m);
		return;
	}
	json_decref(ctx);
	if (json_is_array(m.params)) {
		size_t i;
		json_t *p;

		json_array_foreach(m.params, i, p)
			request_one(cx, idx, p);
	} else {
		request_one(cx, idx, m.params);
	}
	alias_match_clear(&m);
}

/* ---- the event ---------------------------------------------------------- */

static bool
wants_threads(const struct bot *b, const struct cfg *c)
{
	if (b->adapter == NULL || !b->adapter->supports_threads)
		return false;
	switch (c->bot.adapter) {
	case CFG_ADAPTER_SLACK:
		return c->slack.reply_in_thread;
	case CFG_ADAPTER_MATTERMOST:
		return c->mattermost.reply_in_thread;
	default:
		return false;   /* the console: unthreaded unless in a thread */
	}
}

static const char *
skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return s;
}

void
router_on_event(void *arg, const struct chat_event *ev)
{
	struct bot *b = arg;
	struct cmd_ctx cx;
	const struct cfg *c;
	const char *text = ev->text ? ev->text : "";
	char *cmd = NULL;
	size_t plen, n;
	bool addressed = false;

	uint64_t t0 = ack_now_us();

	memset(&cx, 0, sizeof cx);
	cx.b = b;
	cx.gen = gen_ref(b->gen);
	cx.ev = ev;
	c = cx.gen->cfg;

	if (ev->kind == CHAT_ACTION) {
		addressed = true;
	} else {
		text = skip_blanks(text);
		plen = strlen(c->bot.prefix);
		if (plen > 0 && strncmp(text, c->bot.prefix, plen) == 0) {
			text += plen;
			addressed = true;
		} else if (ev->mentions_bot || ev->is_direct) {
			addressed = true;
		}
	}
	if (!addressed || ev->channel_id == NULL)
		goto out;
	text = skip_blanks(text);
	n = strlen(text);
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\r' ||
	    text[n - 1] == '\n'))
		n--;
	cmd = xstrndup(text, n);
	cx.text = cmd;
	cx.channel = ev->channel_id;
	cx.thread = ev->thread_id;
	if (cx.thread == NULL && ev->message_id != NULL && wants_threads(b, c))
		cx.thread = ev->message_id;

	/* The per-user store, opened on first use (the config load has already
	 * checked that its file loads). */
	if (uservars_shared() == NULL) {
		char err[ACK_ERR_LEN];

		if (uservars_shared_open(c->bot.state_file, err, sizeof err) == NULL)
			log_error("user variables are unavailable: %s", err);
	}
	if (identity_resolve(c, ev->platform, ev->user_id, ev->user_name, &cx.who) != 0) {
		json_t *ctx = cmd_context(&cx), *f;

		log_info("refused: unknown %s user %s in %s", ev->platform, ev->user_id,
		    ev->channel_id);
		cmd_reply_msg(&cx, MSG_UNKNOWN_USER, ctx);
		json_decref(ctx);
		f = base_audit(&cx);
		json_object_set_new(f, "reason", json_string("unknown user"));
		bot_audit(b, "refused", f);
		goto out;
	}
	if (builtin_is_sensitive(cmd))
		log_debug("command from %s (%s %s) in %s: %.*s (the rest is not logged)",
		    cx.who.name, ev->platform, ev->user_id, ev->channel_id,
		    (int)strcspn(cmd, " \t"), cmd);
	else
		log_debug("command from %s (%s %s) in %s: %s", cx.who.name, ev->platform,
		    ev->user_id, ev->channel_id, cmd);

	if (b->state != BOT_RUNNING) {
		json_t *ctx = cmd_context(&cx);

		cmd_reply_msg(&cx, MSG_SHUTTING_DOWN, ctx);
		json_decref(ctx);
		goto out;
	}
	if (ev->kind == CHAT_ACTION) {
		const char *v = ev->action_value ? ev->action_value : "";

		/* The clicker is cx.who, resolved from the platform's user id
		 * of the click: the same checks as typing the command. */
		if (strncmp(v, "confirm:", 8) == 0)
			builtin_confirm(&cx, v + 8);
		else if (strncmp(v, "cancel:", 7) == 0)
			builtin_cancel(&cx, v + 7);
		else if (strncmp(v, "deny:", 5) == 0)
			builtin_deny(&cx, v + 5);
		else
			log_warn("unknown button value from %s in %s", cx.who.name, ev->channel_id);
		goto out;
	}
	if (*cmd == '\0') {
		char *hint = xasprintf("%s: yes? Type `%shelp` for what I can do.", cx.who.name,
		    c->bot.prefix);

		bot_say(b, cx.channel, cx.thread, hint);
		free(hint);
		goto out;
	}
	if (!builtin_dispatch(&cx))
		handle_alias(&cx);
	log_debug("event handled in %llu us", (unsigned long long)(ack_now_us() - t0));
out:
	identity_free(&cx.who);
	free(cmd);
	gen_unref(cx.gen);
}
