/*
 * slack_out.c - the bot's posts to Slack: chat.postMessage and chat.update
 * bodies (text escaped, Block Kit buttons), long text split on line
 * boundaries, and the ordered queue per channel (adapters/outq.h) that
 * honours 429 Retry-After and retries 5xx and network failures.
 *
 * A post whose text is longer than the limit becomes several messages, in
 * order, in the same thread; buttons go on the last one, whose text is also
 * kept within a Block Kit section's 3000 characters. The post callback
 * reports the last message's ts (the one with the buttons).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/outq.h"
#include "adapters/slack.h"
#include "adapters/slack_int.h"
#include "bot/log.h"
#include "bot/output.h"
#include "bot/util.h"
#include "config/config.h"

#define SLACK_BUTTON_TEXT_MAX 75
#define SLACK_BUTTON_VALUE_MAX 2000

/* ---- bodies ----------------------------------------------------------------- */

/* s with invalid UTF-8 bytes replaced by U+FFFD (jansson wants UTF-8). */
static char *
utf8_clean(const char *s)
{
	size_t n = strlen(s), i = 0;
	struct buf b;

	if (utf8_valid(s, n))
		return xstrdup(s);
	buf_init(&b, 0);
	while (i < n) {
		size_t k;

		for (k = 1; k <= 4 && i + k <= n; k++)
			if (utf8_valid(s + i, k))
				break;
		if (k <= 4 && i + k <= n) {
			buf_append(&b, s + i, k);
			i += k;
		} else {
			buf_puts(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	return buf_steal(&b);
}

/* Bytes of the longest prefix of s with at most max code points. */
static size_t
utf8_prefix(const char *s, size_t max)
{
	size_t i = 0, cp = 0;

	while (s[i] != '\0') {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (cp == max)
				break;
			cp++;
		}
		i++;
	}
	return i;
}

static json_t *
jstr_prefix(const char *s, size_t max_cp)
{
	char *c = utf8_clean(s ? s : "");
	size_t n = utf8_prefix(c, max_cp);
	json_t *j = json_stringn(c, n);

	free(c);
	return j != NULL ? j : json_string("");
}

static json_t *
blocks_for(const char *escaped, const struct chat_button *b, size_t nb)
{
	json_t *blocks = json_array(), *els;
	size_t i;

	if (escaped[strspn(escaped, " \t\n")] != '\0')
		json_array_append_new(blocks, json_pack("{s:s,s:{s:s,s:o}}", "type", "section",
		    "text", "type", "mrkdwn", "text", jstr_prefix(escaped, SLACK_SECTION_MAX)));
	if (nb == 0)
		return blocks;
	els = json_array();
	for (i = 0; i < nb && i < 25; i++) {
		json_t *btn = json_object();
		char aid[32];

		snprintf(aid, sizeof aid, "ackbot_%zu", i);
		json_object_set_new(btn, "type", json_string("button"));
		json_object_set_new(btn, "action_id", json_string(aid));
		json_object_set_new(btn, "text", json_pack("{s:s,s:o,s:b}", "type",
		    "plain_text", "text", jstr_prefix(b[i].label ? b[i].label : "?",
		    SLACK_BUTTON_TEXT_MAX), "emoji", 1));
		json_object_set_new(btn, "value", jstr_prefix(b[i].value ? b[i].value : "",
		    SLACK_BUTTON_VALUE_MAX));
		if (b[i].primary)
			json_object_set_new(btn, "style", json_string("primary"));
		else if (b[i].danger)
			json_object_set_new(btn, "style", json_string("danger"));
		json_array_append_new(els, btn);
	}
	json_array_append_new(blocks, json_pack("{s:s,s:s,s:o}", "type", "actions",
	    "block_id", "ackbot_buttons", "elements", els));
	return blocks;
}

static char *
dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s != NULL ? s : xstrdup("{}");
}

char *
slack_post_body(const char *channel, const char *thread_ts, const char *text,
    const struct chat_button *buttons, size_t nbuttons)
{
	char *clean = utf8_clean(text ? text : "");
	char *esc = slack_text_escape(clean);
	json_t *o = json_object();

	json_object_set_new(o, "channel", json_string(channel));
	if (thread_ts != NULL)
		json_object_set_new(o, "thread_ts", json_string(thread_ts));
	json_object_set_new(o, "text", json_string(esc));
	json_object_set_new(o, "unfurl_links", json_false());
	json_object_set_new(o, "unfurl_media", json_false());
	if (nbuttons > 0)
		json_object_set_new(o, "blocks", blocks_for(esc, buttons, nbuttons));
	free(esc);
	free(clean);
	return dump(o);
}

char *
slack_update_body(const char *channel, const char *ts, const char *text,
    const struct chat_button *buttons, size_t nbuttons)
{
	char *clean = utf8_clean(text ? text : "");
	char *esc = slack_text_escape(clean);
	json_t *o = json_object();

	json_object_set_new(o, "channel", json_string(channel));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "text", json_string(esc));
	/* without buttons: [] removes the old ones (omitting blocks keeps them) */
	json_object_set_new(o, "blocks", nbuttons > 0 ? blocks_for(esc, buttons, nbuttons) :
	    json_array());
	free(esc);
	free(clean);
	return dump(o);
}

/* ---- the queue ----------------------------------------------------------------- */

struct post_group {
	struct slack *s;
	chat_post_cb cb;
	void *arg;
	unsigned parts, finished;
	bool failed;
	char *error;
	char *ts;
};

struct out_job {
	struct post_group *g;
	const char *method;             /* "chat.postMessage", "chat.update" */
	char *channel;
	char *body;
	struct slack_call *call;
	struct outq_job *oj;
};

static bool
transient_error(const char *e)
{
	return strcmp(e, "internal_error") == 0 || strcmp(e, "fatal_error") == 0 ||
	    strcmp(e, "service_unavailable") == 0 || strcmp(e, "request_timeout") == 0;
}

static const char *
error_hint(const char *e)
{
	if (strcmp(e, "not_in_channel") == 0)
		return " (invite the bot to the channel)";
	if (strcmp(e, "channel_not_found") == 0)
		return " (unknown channel, or the bot cannot see it)";
	if (strcmp(e, "missing_scope") == 0)
		return " (the bot token needs the chat:write scope)";
	return "";
}

static void
on_sent(struct slack *s, const struct slack_api_result *r, void *arg)
{
	struct out_job *j = arg;
	char why[600];

	j->call = NULL;
	switch (r->kind) {
	case SLACK_API_OK: {
		const char *ts = json_string_value(json_object_get(r->body, "ts"));
		const char *w = json_string_value(json_object_get(r->body, "warning"));

		if (w != NULL)
			log_warn("slack: %s in %s: warning %s", j->method, j->channel, w);
		if (ts != NULL) {
			free(j->g->ts);
			j->g->ts = xstrdup(ts);
		}
		outq_complete(j->oj, OUTQ_DONE, 0, NULL);
		return;
	}
	case SLACK_API_RATE_LIMITED:
		outq_complete(j->oj, OUTQ_RATE_LIMITED, r->retry_after_ms, NULL);
		return;
	case SLACK_API_RETRY:
	case SLACK_API_TLS:
		snprintf(why, sizeof why, "%s: %s", j->method, r->error);
		outq_complete(j->oj, OUTQ_RETRY, 0, why);
		return;
	case SLACK_API_ERROR:
		if (transient_error(r->error)) {
			snprintf(why, sizeof why, "%s: %s", j->method, r->error);
			outq_complete(j->oj, OUTQ_RETRY, 0, why);
			return;
		}
		snprintf(why, sizeof why, "%s: %s%s", j->method, r->error, error_hint(r->error));
		if (slack_error_is_auth(r->error)) {
			outq_complete(j->oj, OUTQ_FAILED, 0, why);
			slack_fatal(s, SLACK_EXIT_AUTH, "%s refused the bot token (slack.bot_token): %s",
			    j->method, r->error);
			return;
		}
		outq_complete(j->oj, OUTQ_FAILED, 0, why);
		return;
	case SLACK_API_HTTP:
	case SLACK_API_CANCELED:
		snprintf(why, sizeof why, "%s: %s", j->method, r->error);
		outq_complete(j->oj, OUTQ_FAILED, 0, why);
		return;
	}
}

static void
q_send(void *arg, struct outq_job *oj, void *data)
{
	struct slack *s = arg;
	struct out_job *j = data;

	j->oj = oj;
	j->call = slack_api(s, j->method, SLACK_TOKEN_BOT, "POST", NULL, j->body, on_sent, j);
	if (j->call == NULL)
		outq_complete(oj, OUTQ_RETRY, 0, "the request could not be made");
}

static void
q_cancel(void *arg, struct outq_job *oj, void *data)
{
	struct out_job *j = data;

	(void)arg;
	(void)oj;
	slack_api_cancel(j->call);
	j->call = NULL;
}

static void
group_part_done(struct post_group *g, bool ok, const char *error)
{
	if (!ok && !g->failed) {
		g->failed = true;
		g->error = xstrdup(error ? error : "failed");
	}
	if (++g->finished < g->parts)
		return;
	if (g->cb != NULL)
		g->cb(g->arg, !g->failed, g->ts, g->failed ? g->error : NULL);
	free(g->error);
	free(g->ts);
	free(g);
}

static void
q_done(void *arg, void *data, bool ok, const char *error)
{
	struct out_job *j = data;

	(void)arg;
	if (!ok)
		log_error("slack: a message to %s was not delivered: %s", j->channel,
		    error ? error : "failed");
	group_part_done(j->g, ok, error);
	free(j->channel);
	free(j->body);
	free(j);
}

struct outq *
slack_out_new(struct slack *s)
{
	static const struct outq_ops ops = { q_send, q_cancel, q_done };
	struct outq_opts o;

	memset(&o, 0, sizeof o);
	o.name = "slack";
	o.rate_limit_all = true;        /* limits are per method and workspace too */
	o.burst = 5;                    /* then about one message a second per channel */
	o.per_sec = 1;
	return outq_new(s->base.host.loop, &o, &ops, s);
}

static int
enqueue(struct slack *s, struct post_group *g, const char *method, const char *channel,
    char *body)
{
	struct out_job *j = xcalloc(1, sizeof *j);

	j->g = g;
	j->method = method;
	j->channel = xstrdup(channel);
	j->body = body;
	if (outq_push(s->outq, channel, j) != 0) {
		free(j->channel);
		free(j->body);
		free(j);
		return -1;
	}
	return 0;
}

static bool
channel_ok(const char *c)
{
	return c != NULL && c[0] != '\0' && strlen(c) < 256;
}

int
slack_out_post(struct slack *s, const struct chat_post *p, chat_post_cb cb, void *arg)
{
	struct output_opts oo;
	struct output_chunks ch;
	struct post_group *g;
	char err[ACK_ERR_LEN];
	const char *text = p->text ? p->text : "";
	size_t i, queued = 0;

	if (s->stopping || s->outq == NULL || !channel_ok(p->channel_id))
		return -1;
	memset(&oo, 0, sizeof oo);
	oo.max = s->base.max_text;
	if (p->nbuttons > 0 && oo.max > SLACK_SECTION_MAX)
		oo.max = SLACK_SECTION_MAX;
	oo.unit = OUTPUT_CODEPOINTS;
	if (output_split(text, strlen(text), &oo, &ch, err, sizeof err) != 0) {
		log_error("slack: cannot split a message: %s", err);
		output_chunks_free(&ch);
		return -1;
	}
	g = xcalloc(1, sizeof *g);
	g->s = s;
	g->cb = cb;
	g->arg = arg;
	if (ch.n == 0 && p->nbuttons == 0) {
		/* nothing to say */
		output_chunks_free(&ch);
		g->parts = 1;
		group_part_done(g, true, NULL);
		return 0;
	}
	g->parts = ch.n > 0 ? (unsigned)ch.n : 1;
	g->finished = 0;
	for (i = 0; i < g->parts; i++) {
		bool last = i + 1 == g->parts;
		const char *t = ch.n > 0 ? ch.v[i] : " ";
		char *body = slack_post_body(p->channel_id, p->thread_id, t,
		    last ? p->buttons : NULL, last ? p->nbuttons : 0);

		if (enqueue(s, g, "chat.postMessage", p->channel_id, body) == 0) {
			queued++;
			continue;
		}
		if (queued == 0) {
			output_chunks_free(&ch);
			free(g);
			return -1;
		}
		/* the queue filled up in the middle: the rest is lost, and said so */
		g->parts = (unsigned)queued + 1;
		group_part_done(g, false, "the outgoing queue is full");
		break;
	}
	output_chunks_free(&ch);
	return 0;
}

int
slack_out_update(struct slack *s, const char *channel, const char *ts,
    const struct chat_post *p, chat_post_cb cb, void *arg)
{
	struct post_group *g;
	const char *text = p->text ? p->text : "";
	char *t;
	size_t n;

	if (s->stopping || s->outq == NULL || !channel_ok(channel) || ts == NULL ||
	    ts[0] == '\0')
		return -1;
	n = utf8_prefix(text, p->nbuttons > 0 ? SLACK_SECTION_MAX : s->base.max_text);
	t = xstrndup(text, n);
	g = xcalloc(1, sizeof *g);
	g->s = s;
	g->cb = cb;
	g->arg = arg;
	g->parts = 1;
	if (enqueue(s, g, "chat.update", channel,
	    slack_update_body(channel, ts, t, p->buttons, p->nbuttons)) != 0) {
		free(t);
		free(g);
		return -1;
	}
	free(t);
	return 0;
}
