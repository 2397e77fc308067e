/*
 * messages.c - built-in message templates and their [messages] overrides
 * (see messages.h).
 *
 * The defaults are written against the context the router builds (see
 * docs/running.md, "Messages"): execution, actionalias, user, channel,
 * system, bot, and per message confirm, queue, command, reason.
 */
#include "messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "template.h"
#include "util.h"

#define MSG_MAX_RENDER (4u * 1024 * 1024)

struct msg_def {
	const char *key;
	const char *text;
};

static const struct msg_def msg_defs[MSG_COUNT] = {
	[MSG_ACK] = { "ack",
	    "Running {{ actionalias.name }} ({{ execution.id }}): {{ execution.command }}" },
	[MSG_RESULT] = { "result",
	    "{{ actionalias.name }} ({{ execution.id }}) {{ execution.status }} after "
	    "{{ execution.elapsed_text }}"
	    "{% if execution.result.reason %}: {{ execution.result.reason }}"
	    "{% elif execution.result.summary %}, {{ execution.result.summary }}{% endif %}"
	    "{% if execution.result.output %}\n```\n{{ execution.result.output }}\n```{% endif %}"
	    "{% if execution.result.dropped %}\n({{ execution.result.dropped }} more bytes of "
	    "output were not kept){% endif %}" },
	[MSG_QUEUED] = { "queued",
	    "{{ actionalias.name }} ({{ execution.id }}) is queued: {{ queue.reason }}. "
	    "It starts when a slot frees up ({{ queue.ahead }} ahead of it)." },
	[MSG_CONFIRM_PROMPT] = { "confirm_prompt",
	    "{{ user.name }}: {{ actionalias.name }} needs confirmation"
	    "{% if confirm.approvers %} ({{ confirm.needed }} approval{% if confirm.needed > 1 %}s"
	    "{% endif %} from {{ confirm.approvers }}{% if not confirm.allow_self %}, not "
	    "{{ confirm.requester }}{% endif %}){% endif %}. It will run:\n```\n"
	    "{{ confirm.what }}\n```\n"
	    "{% if confirm.approvers %}Approvers: reply `{{ bot.prefix }}confirm {{ confirm.id }}` "
	    "within {{ confirm.timeout }} to approve it, or `{{ bot.prefix }}deny "
	    "{{ confirm.id }}` to turn it down. {{ confirm.requester }}: `{{ bot.prefix }}cancel "
	    "{{ confirm.id }}` withdraws it."
	    "{% else %}Reply `{{ bot.prefix }}confirm {{ confirm.id }}` within {{ confirm.timeout }} "
	    "to run it, or `{{ bot.prefix }}cancel {{ confirm.id }}` to drop it.{% endif %}" },
	[MSG_CONFIRM_APPROVAL] = { "confirm_approval",
	    "{{ user.name }} approved {{ confirm.id }} ({{ actionalias.name }}): "
	    "{{ confirm.approved }} of {{ confirm.needed }} approval{% if confirm.needed > 1 %}s"
	    "{% endif %}{% if confirm.approved >= confirm.needed %}; it runs now."
	    "{% else %}; waiting for {{ confirm.needed - confirm.approved }} more.{% endif %}" },
	[MSG_CONFIRM_EXPIRED] = { "confirm_expired",
	    "{{ confirm.requester }}: confirmation {{ confirm.id }} for "
	    "{{ actionalias.name }} expired after {{ confirm.timeout }}. Nothing ran." },
	[MSG_CONFIRM_CANCELED] = { "confirm_canceled",
	    "Canceled {{ confirm.id }} ({{ actionalias.name }}). Nothing ran." },
	[MSG_CONFIRM_DENIED] = { "confirm_denied",
	    "{{ user.name }} denied {{ confirm.id }} ({{ actionalias.name }}) requested by "
	    "{{ confirm.requester }}. Nothing ran." },
	[MSG_CONFIRM_DROPPED] = { "confirm_dropped",
	    "{{ confirm.requester }}: confirmation {{ confirm.id }} for "
	    "{{ actionalias.name }} was dropped: {{ reason }}. Nothing ran." },
	[MSG_CONFIRM_REFUSED] = { "confirm_refused",
	    "{{ user.name }}: cannot {{ verb }} {{ confirm.id }}: {{ reason }}." },
	[MSG_NOT_ALLOWED] = { "not_allowed",
	    "{{ user.name }}: you are not allowed to run {{ actionalias.name }}: "
	    "{{ reason }}." },
	[MSG_UNKNOWN_USER] = { "unknown_user",
	    "Sorry, I don't know you ({{ user.platform }} user {{ user.chat.id }}). "
	    "Ask an admin to add you to the configuration." },
	[MSG_UNKNOWN_COMMAND] = { "unknown_command",
	    "Sorry, I don't know \"{{ command }}\"."
	    "{% if suggestions %} Did you mean: {{ suggestions|join(\", \") }}?{% endif %} "
	    "Type `{{ bot.prefix }}help` for the commands you can use." },
	[MSG_AMBIGUOUS] = { "ambiguous",
	    "\"{{ command }}\" matches more than one command: "
	    "{{ candidates|join(\", \") }}. Please be more specific." },
	[MSG_BAD_COMMAND] = { "bad_command",
	    "{{ user.name }}: cannot run {{ actionalias.name }}: {{ reason }}." },
	[MSG_SHUTTING_DOWN] = { "shutting_down",
	    "{{ user.name }}: I am shutting down and not taking new commands." },
	[MSG_SHUTDOWN_WAITING] = { "shutdown_waiting",
	    "Shutting down: {{ actionalias.name }} ({{ execution.id }}) is still running; "
	    "waiting up to {{ grace }} for it before canceling it." },
	/* Where there are buttons, the prompt's message once decided: what
	 * was asked, the outcome and who decided; no buttons. */
	[MSG_CONFIRM_OUTCOME] = { "confirm_outcome",
	    "{{ confirm.requester }} asked for {{ actionalias.name }} ({{ confirm.id }}):\n"
	    "```\n{{ confirm.what }}\n```\n"
	    "{% if outcome == 'confirmed' %}\xe2\x9c\x85 Approved by "
	    "{% if confirm.approved_by %}{{ confirm.approved_by|join(', ') }}"
	    "{% else %}{{ decided_by }}{% endif %} \xe2\x80\x94 running {{ execution.id }}"
	    "{% elif outcome == 'refused' %}\xe2\x9b\x94 Approved by "
	    "{% if confirm.approved_by %}{{ confirm.approved_by|join(', ') }}"
	    "{% else %}{{ decided_by }}{% endif %}, but not run: {{ reason }} "
	    "\xe2\x80\x94 nothing ran"
	    "{% elif outcome == 'denied' %}\xe2\x9d\x8c Denied by {{ decided_by }} "
	    "\xe2\x80\x94 nothing ran"
	    "{% elif outcome == 'canceled' %}\xe2\x9d\x8c Canceled by {{ decided_by }} "
	    "\xe2\x80\x94 nothing ran"
	    "{% elif outcome == 'expired' %}\xe2\x8c\x9b Expired after {{ confirm.timeout }} "
	    "\xe2\x80\x94 nothing ran"
	    "{% else %}\xf0\x9f\x9a\xab Dropped: {{ reason }} \xe2\x80\x94 nothing ran"
	    "{% endif %}" },
	/* The prompt's message after a partial approval (buttons kept). */
	[MSG_CONFIRM_PROGRESS] = { "confirm_progress",
	    "{{ prompt }}\n\xe2\x98\x91 Approved so far by "
	    "{{ confirm.approved_by|join(', ') }}: {{ confirm.approved }} of "
	    "{{ confirm.needed }}; waiting for {{ confirm.needed - confirm.approved }} more." },
};

struct messages {
	struct tmpl *def[MSG_COUNT];    /* compiled defaults */
	struct tmpl *over[MSG_COUNT];   /* [messages] overrides, or NULL */
};

const char *
messages_key(enum msg_id id)
{
	return (unsigned)id < MSG_COUNT ? msg_defs[id].key : "?";
}

const char *
messages_default(enum msg_id id)
{
	return (unsigned)id < MSG_COUNT ? msg_defs[id].text : "";
}

static struct tmpl *
compile_at(const char *src, const char *file, struct cfg_pos pos, const char *what,
    struct diag *d)
{
	struct tmpl_error te;
	struct tmpl *t;

	memset(&te, 0, sizeof te);
	t = tmpl_compile(src, strlen(src), &te);
	if (t == NULL)
		diag_add(d, DIAG_ERROR, file, pos.line, pos.col,
		    "%s: template error at line %d, column %d: %s", what, te.line, te.col,
		    te.msg);
	return t;
}

struct messages *
messages_new(const struct cfg *c, struct diag *d)
{
	struct messages *m = xcalloc(1, sizeof *m);
	const char *file = c->path ? c->path : "config";
	struct cfg_pos nopos = { 0, 0 };
	size_t errors0 = d->nerrors, i;
	int k;

	for (k = 0; k < MSG_COUNT; k++) {
		m->def[k] = compile_at(msg_defs[k].text, "built-in", nopos, msg_defs[k].key, d);
	}
	for (i = 0; i < c->messages.n; i++) {
		const struct cfg_kv *kv = &c->messages.v[i];
		char what[128];

		for (k = 0; k < MSG_COUNT; k++)
			if (strcmp(kv->key, msg_defs[k].key) == 0)
				break;
		if (k == MSG_COUNT) {
			struct buf keys;
			int j;

			buf_init(&keys, 0);
			for (j = 0; j < MSG_COUNT; j++)
				buf_printf(&keys, "%s%s", j ? ", " : "", msg_defs[j].key);
			diag_add(d, DIAG_ERROR, file, kv->value.pos.line, kv->value.pos.col,
			    "unknown key \"%s\" in [messages] (known: %s)", kv->key, keys.data);
			buf_free(&keys);
			continue;
		}
		if (kv->value.s == NULL)
			continue;
		snprintf(what, sizeof what, "key \"messages.%s\"", kv->key);
		tmpl_free(m->over[k]);
		m->over[k] = compile_at(kv->value.s, file, kv->value.pos, what, d);
	}
	if (d->nerrors > errors0) {
		messages_free(m);
		return NULL;
	}
	return m;
}

void
messages_free(struct messages *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < MSG_COUNT; i++) {
		tmpl_free(m->def[i]);
		tmpl_free(m->over[i]);
	}
	free(m);
}

static char *
render(const struct tmpl *t, const json_t *ctx, const char *what)
{
	struct buf out;
	char err[ACK_ERR_LEN];

	if (t == NULL)
		return NULL;
	buf_init(&out, MSG_MAX_RENDER);
	if (tmpl_render(t, ctx, &out, err, sizeof err) != 0) {
		log_warn("message %s: cannot render: %s", what, err);
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

char *
messages_render(const struct messages *m, enum msg_id id, const json_t *ctx)
{
	char *s = NULL;

	if ((unsigned)id >= MSG_COUNT)
		return xstrdup("");
	if (m->over[id] != NULL)
		s = render(m->over[id], ctx, msg_defs[id].key);
	if (s == NULL)
		s = render(m->def[id], ctx, msg_defs[id].key);
	if (s == NULL)
		s = xasprintf("(message %s could not be rendered)", msg_defs[id].key);
	return s;
}

char *
messages_render_with(const struct messages *m, const struct tmpl *t, enum msg_id fallback,
    const json_t *ctx)
{
	char *s = NULL;

	if (t != NULL)
		s = render(t, ctx, messages_key(fallback));
	if (s == NULL)
		s = messages_render(m, fallback, ctx);
	return s;
}
