/*
 * test_slack_adapter.c - the Slack adapter (adapters/slack*.c) end to end
 * against the fake Slack server (tests/fakes/slack/fake_slack.js), through
 * a small host instead of the bot runtime: the host records every chat
 * event, and the test thread posts and updates through the adapter.
 *
 * Scenarios: hello; events acked within the deadline; mentions, DMs,
 * threads, entities and user names; a message that arrives as both message
 * and app_mention, and a redelivered envelope, handled once; own and other
 * bots' messages, edits and deletes ignored; a dropped connection and a
 * refresh with nothing lost; 429 with ordered delivery after the wait; 5xx
 * retried; long output split; buttons, a click, and chat.update; malformed
 * frames survived; bad tokens and link_disabled end the adapter with code 3;
 * wss with a test CA, and an untrusted certificate refused at start.
 *
 * Skips (as cmocka skips) when node or tests/fakes/node_modules is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/fake_slack_util.h"

#include "adapters/slack.h"
#include "adapters/ws.h"
#include "bot/http_client.h"
#include "bot/log.h"
#include "config/config.h"

#define MAX_EVENTS 64

struct ev_rec {
	enum chat_event_kind kind;
	char channel[32], thread[32], msg[32], user[32], name[96], value[128], amsg[32];
	char text[1024];
	bool direct, mention;
};

struct T {
	struct loop_thread lt;
	struct fake_slack fake;
	struct cfg cfg;
	struct http_client *http;
	struct adapter *a;
	char bot_token[128], app_token[128], api[256];

	/* under lt.mu */
	struct ev_rec ev[MAX_EVENTS];
	int nev;
	int end_code;
	char end_why[1024];
	bool ended, stopped;
};

/* ---- the host (loop thread) ------------------------------------------------ */

static void
cp(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

static void
on_event(void *arg, const struct chat_event *e)
{
	struct T *t = arg;
	struct ev_rec *r;

	pthread_mutex_lock(&t->lt.mu);
	if (t->nev < MAX_EVENTS) {
		r = &t->ev[t->nev++];
		r->kind = e->kind;
		cp(r->channel, sizeof r->channel, e->channel_id);
		cp(r->thread, sizeof r->thread, e->thread_id);
		cp(r->msg, sizeof r->msg, e->message_id);
		cp(r->user, sizeof r->user, e->user_id);
		cp(r->name, sizeof r->name, e->user_name);
		cp(r->value, sizeof r->value, e->action_value);
		cp(r->amsg, sizeof r->amsg, e->action_message_id);
		cp(r->text, sizeof r->text, e->text);
		r->direct = e->is_direct;
		r->mention = e->mentions_bot;
	}
	pthread_mutex_unlock(&t->lt.mu);
}

static void
on_end(void *arg, int code, const char *why)
{
	struct T *t = arg;

	pthread_mutex_lock(&t->lt.mu);
	t->ended = true;
	t->end_code = code;
	cp(t->end_why, sizeof t->end_why, why);
	pthread_mutex_unlock(&t->lt.mu);
}

static void
after_run(struct loop_thread *lt)
{
	(void)lt;
	ws_context_final_destroy();
}

static void
do_start(struct loop_thread *lt, void *arg)
{
	struct T *t = arg;
	struct adapter_host h;
	char err[ACK_ERR_LEN];

	(void)lt;
	t->http = http_client_new(&t->lt.loop);
	memset(&h, 0, sizeof h);
	h.loop = &t->lt.loop;
	h.http = t->http;
	h.cfg = &t->cfg;
	h.on_event = on_event;
	h.on_end = on_end;
	h.arg = t;
	t->a = slack_adapter_new(&h, err, sizeof err);
	if (t->a == NULL || t->a->ops->start(t->a, err, sizeof err) != 0) {
		fprintf(stderr, "slack adapter: %s\n", err);
		abort();
	}
}

static void
on_http_closed(void *arg)
{
	struct T *t = arg;

	lt_close_async(&t->lt);
}

static void
on_stopped(void *arg)
{
	struct T *t = arg;

	pthread_mutex_lock(&t->lt.mu);
	t->stopped = true;
	pthread_mutex_unlock(&t->lt.mu);
	http_client_close(t->http, on_http_closed, t);
}

static void
do_stop(struct loop_thread *lt, void *arg)
{
	struct T *t = arg;

	(void)lt;
	t->a->ops->stop(t->a, on_stopped, t);
}

struct post_req {
	struct T *t;
	bool update;
	const char *channel, *thread, *ts, *text;
	const struct chat_button *buttons;
	size_t nbuttons;
	/* results, under lt.mu */
	int rc;
	bool done, ok;
	char id[32], error[256];
};

static void
post_cb(void *arg, bool ok, const char *id, const char *error)
{
	struct post_req *p = arg;

	pthread_mutex_lock(&p->t->lt.mu);
	p->done = true;
	p->ok = ok;
	cp(p->id, sizeof p->id, id);
	cp(p->error, sizeof p->error, error);
	pthread_mutex_unlock(&p->t->lt.mu);
}

static void
do_post(struct loop_thread *lt, void *arg)
{
	struct post_req *p = arg;
	struct chat_post cp_;

	(void)lt;
	memset(&cp_, 0, sizeof cp_);
	cp_.channel_id = p->channel;
	cp_.thread_id = p->thread;
	cp_.text = p->text;
	cp_.buttons = p->buttons;
	cp_.nbuttons = p->nbuttons;
	if (p->update)
		p->rc = p->t->a->ops->update(p->t->a, p->channel, p->ts, &cp_, post_cb, p);
	else
		p->rc = p->t->a->ops->post(p->t->a, &cp_, post_cb, p);
}

/* ---- test side -------------------------------------------------------------- */

static int g_want;

static bool
events_at_least(void *arg)
{
	return ((struct T *)arg)->nev >= g_want;
}

static bool
has_ended(void *arg)
{
	return ((struct T *)arg)->ended;
}

static bool
is_stopped(void *arg)
{
	return ((struct T *)arg)->stopped;
}

static bool
post_done(void *arg)
{
	return ((struct post_req *)arg)->done;
}

static void
wait_events(struct T *t, int n)
{
	g_want = n;
	if (!lt_wait(&t->lt, events_at_least, t, 15000))
		fail_msg("waited for %d event(s), got %d", n, t->nev);
}

static bool
setup_fake(struct T *t, const char *const *args)
{
	memset(t, 0, sizeof *t);
	if (!fake_available())
		return false;
	assert_int_equal(fake_start(&t->fake, args), 0);
	snprintf(t->bot_token, sizeof t->bot_token, "%s", t->fake.bot_token);
	snprintf(t->app_token, sizeof t->app_token, "%s", t->fake.app_token);
	snprintf(t->api, sizeof t->api, "%s", t->fake.api);
	t->cfg.slack.present = true;
	t->cfg.slack.bot_token.value = t->bot_token;
	t->cfg.slack.app_token.value = t->app_token;
	t->cfg.slack.api_url = t->api;
	t->cfg.slack.reply_in_thread = true;
	t->cfg.slack.ignore_bots = true;
	t->cfg.slack.buttons = true;
	t->cfg.slack.max_message_chars = 4000;
	t->lt.after_run = after_run;
	return true;
}

static void
start(struct T *t)
{
	json_t *c;

	lt_start(&t->lt);
	lt_call(&t->lt, do_start, t);
	c = fake_ctlf(&t->fake, "wait_connections", "{\"count\":1,\"state\":\"open\","
	    "\"timeout_ms\":15000}");
	assert_non_null(c);
	json_decref(c);
}

static void
start_expecting_end(struct T *t)
{
	lt_start(&t->lt);
	lt_call(&t->lt, do_start, t);
	assert_true(lt_wait(&t->lt, has_ended, t, 15000));
}

static void
finish(struct T *t)
{
	lt_call(&t->lt, do_stop, t);
	assert_true(lt_wait(&t->lt, is_stopped, t, 15000));
	assert_int_equal(lt_join(&t->lt), 0);
	fake_stop(&t->fake);
}

static void
assert_no_errors(struct T *t)
{
	json_t *e = fake_ctl(&t->fake, "errors", NULL, NULL);

	if (json_array_size(e) != 0) {
		char *d = json_dumps(e, JSON_COMPACT);

		fail_msg("the fake reports protocol errors: %s", d);
	}
	json_decref(e);
}

/* Injects a user message and waits for its acks; returns its ts (static). */
static const char *
inject(struct T *t, const char *json_args)
{
	static char ts[64];
	json_t *j = fake_ctlf(&t->fake, "inject_message", "%s", json_args);
	json_t *envs;
	size_t i;

	assert_non_null(j);
	cp(ts, sizeof ts, json_string_value(json_object_get(j, "ts")));
	envs = json_object_get(j, "envelopes");
	for (i = 0; i < json_array_size(envs); i++) {
		const char *eid = json_string_value(json_object_get(json_array_get(envs, i),
		    "envelope_id"));
		json_t *a = fake_ctlf(&t->fake, "wait_acks", "{\"envelope_id\":\"%s\","
		    "\"timeout_ms\":10000}", eid);

		assert_non_null(a);
		/* acked in time, on the first delivery */
		assert_true(json_is_false(json_object_get(json_array_get(a, 0), "late")));
		json_decref(a);
	}
	json_decref(j);
	return ts;
}

static struct post_req *
post(struct T *t, const char *channel, const char *thread, const char *text,
    const struct chat_button *b, size_t nb)
{
	struct post_req *p = xcalloc(1, sizeof *p);

	p->t = t;
	p->channel = channel;
	p->thread = thread;
	p->text = text;
	p->buttons = b;
	p->nbuttons = nb;
	lt_call(&t->lt, do_post, p);
	assert_int_equal(p->rc, 0);
	return p;
}

static void
wait_post(struct T *t, struct post_req *p)
{
	assert_true(lt_wait(&t->lt, post_done, p, 30000));
}

static json_t *
wait_posts(struct T *t, int n, const char *extra)
{
	json_t *j = fake_ctlf(&t->fake, "wait_posts", "{\"count\":%d,\"timeout_ms\":20000%s%s}",
	    n, extra ? "," : "", extra ? extra : "");

	assert_non_null(j);
	return j;
}

static void
test_events(void **state)
{
	struct T t;
	const char *ts;
	char root[64];
	struct post_req *p;
	json_t *j;

	(void)state;
	if (!setup_fake(&t, NULL))
		skip();
	start(&t);

	/* a mention in a channel: message + app_mention, handled once */
	ts = inject(&t, "{\"text\":\"<@U0BOT0001> deploy api &amp; <https://x.example|docs> "
	    "for <@U0HUMAN02>\"}");
	cp(root, sizeof root, ts);
	wait_events(&t, 1);
	assert_int_equal(t.ev[0].kind, CHAT_MESSAGE);
	assert_string_equal(t.ev[0].channel, "C0GENERAL");
	assert_string_equal(t.ev[0].user, "U0HUMAN01");
	assert_string_equal(t.ev[0].name, "alice");
	assert_string_equal(t.ev[0].msg, root);
	assert_string_equal(t.ev[0].thread, "");
	assert_true(t.ev[0].mention);
	assert_false(t.ev[0].direct);
	assert_string_equal(t.ev[0].text, "deploy api & docs (https://x.example) for @bob");

	/* a DM */
	inject(&t, "{\"channel\":\"D0DM00001\",\"text\":\"help\"}");
	wait_events(&t, 2);
	assert_true(t.ev[1].direct);
	assert_false(t.ev[1].mention);
	assert_string_equal(t.ev[1].text, "help");

	/* a thread reply carries its root */
	{
		char args[256];

		snprintf(args, sizeof args, "{\"text\":\"<@U0BOT0001> and the worker\","
		    "\"thread_ts\":\"%s\",\"user\":\"U0HUMAN02\"}", root);
		inject(&t, args);
	}
	wait_events(&t, 3);
	assert_string_equal(t.ev[2].thread, root);
	assert_string_equal(t.ev[2].user, "U0HUMAN02");
	assert_string_equal(t.ev[2].name, "bob");
	assert_string_equal(t.ev[2].text, "and the worker");

	/* a reply in that thread */
	p = post(&t, "C0GENERAL", root, "Deploying *api* <for> you & me", NULL, 0);
	wait_post(&t, p);
	assert_true(p->ok);
	j = wait_posts(&t, 1, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "thread_ts")),
	    root);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "text")),
	    "Deploying *api* &lt;for&gt; you &amp; me");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "ts")), p->id);
	json_decref(j);
	free(p);

	/* own messages, other bots, edits and deletes: nothing for the core */
	json_decref(fake_ctlf(&t.fake, "config", "{\"echo_bot_messages\":true}"));
	p = post(&t, "C0GENERAL", NULL, "an echo of myself", NULL, 0);
	wait_post(&t, p);
	free(p);
	inject(&t, "{\"text\":\"build passed\",\"subtype\":\"bot_message\"}");
	json_decref(fake_ctlf(&t.fake, "inject_edit", "{\"channel\":\"C0GENERAL\","
	    "\"ts\":\"%s\",\"text\":\"<@U0BOT0001> deploy db\"}", root));
	json_decref(fake_ctlf(&t.fake, "inject_delete", "{\"channel\":\"C0GENERAL\","
	    "\"ts\":\"%s\"}", root));
	/* a marker: when it arrives, everything before it was seen */
	inject(&t, "{\"text\":\"<@U0BOT0001> marker\"}");
	wait_events(&t, 4);
	usleep(300000);
	assert_int_equal(t.nev, 4);
	assert_string_equal(t.ev[3].text, "marker");
	assert_no_errors(&t);
	finish(&t);
}

static void
test_duplicates(void **state)
{
	struct T t;
	json_t *j, *a, *m;
	const char *eid, *ts, *evid;
	char ts_copy[32], evid_copy[64];

	(void)state;
	if (!setup_fake(&t, NULL))
		skip();
	start(&t);
	j = fake_ctlf(&t.fake, "inject_message", "{\"text\":\"<@U0BOT0001> once\","
	    "\"events\":[\"message\"]}");
	eid = json_string_value(json_object_get(json_array_get(json_object_get(j, "envelopes"),
	    0), "envelope_id"));
	evid = json_string_value(json_object_get(json_array_get(json_object_get(j, "envelopes"),
	    0), "event_id"));
	ts = json_string_value(json_object_get(j, "ts"));
	cp(ts_copy, sizeof ts_copy, ts);
	cp(evid_copy, sizeof evid_copy, evid);
	json_decref(fake_ctlf(&t.fake, "wait_acks", "{\"envelope_id\":\"%s\"}", eid));
	/* the same envelope again (seen in the wild): acked again, not run again.
	 * (The fake files a second ack of one envelope under ack_duplicate; the
	 * protocol brief's advice is to ack it anyway, in case the first ack
	 * was lost.) */
	json_decref(fake_ctlf(&t.fake, "redeliver", "{\"envelope_id\":\"%s\"}", eid));
	a = fake_ctlf(&t.fake, "wait_errors", "{\"kind\":\"ack_duplicate\",\"timeout_ms\":5000}");
	assert_non_null(a);
	json_decref(a);
	json_decref(j);
	/* the same event in a new envelope (a retry): acked, not run again */
	m = fake_ctlf(&t.fake, "inject_event", "{\"event_id\":\"%s\",\"event\":{"
	    "\"type\":\"message\",\"channel\":\"C0GENERAL\",\"channel_type\":\"channel\","
	    "\"user\":\"U0HUMAN01\",\"text\":\"<@U0BOT0001> once\",\"ts\":\"%s\"}}",
	    evid_copy, ts_copy);
	assert_non_null(m);
	eid = json_string_value(json_object_get(json_array_get(json_object_get(m, "envelopes"),
	    0), "envelope_id"));
	json_decref(fake_ctlf(&t.fake, "wait_acks", "{\"envelope_id\":\"%s\"}", eid));
	json_decref(m);
	/* and as an app_mention with its own event id: same channel and ts */
	json_decref(fake_ctlf(&t.fake, "inject_event", "{\"event\":{\"type\":\"app_mention\","
	    "\"channel\":\"C0GENERAL\",\"user\":\"U0HUMAN01\",\"text\":\"<@U0BOT0001> once\","
	    "\"ts\":\"%s\"}}", ts_copy));
	inject(&t, "{\"text\":\"<@U0BOT0001> marker\"}");
	wait_events(&t, 2);
	usleep(200000);
	assert_int_equal(t.nev, 2);
	assert_string_equal(t.ev[0].text, "once");
	assert_string_equal(t.ev[1].text, "marker");
	assert_int_equal(fake_count(&t.fake, "errors"), 1);
	finish(&t);
}

static void
test_retry_after_missed_ack(void **state)
{
	struct T t;
	/* the bot hangs up on a silent connection after 20 s; the retry comes
	 * after that, on the new connection */
	const char *args[] = { "--ack-timeout-ms", "300", "--retry-delays-ms", "[23000]",
	    NULL };
	json_t *e;

	(void)state;
	if (!setup_fake(&t, args))
		skip();
	start(&t);
	/* a ghost connection swallows the first delivery; the retry comes on the
	 * next connection and runs once */
	json_decref(fake_ctlf(&t.fake, "drop", "{\"mode\":\"ghost\"}"));
	json_decref(fake_ctlf(&t.fake, "inject_message", "{\"text\":\"<@U0BOT0001> lost?\","
	    "\"events\":[\"message\"]}"));
	g_want = 1;
	assert_true(lt_wait(&t.lt, events_at_least, &t, 40000));
	assert_string_equal(t.ev[0].text, "lost?");
	e = fake_ctlf(&t.fake, "wait_acks", "{\"count\":1,\"timeout_ms\":5000}");
	assert_non_null(e);
	json_decref(e);
	usleep(500000);
	assert_int_equal(t.nev, 1);
	finish(&t);
}

static void
test_drop_and_refresh(void **state)
{
	struct T t;
	struct post_req *p;
	json_t *c;
	size_t i;

	(void)state;
	if (!setup_fake(&t, NULL))
		skip();
	start(&t);
	inject(&t, "{\"text\":\"<@U0BOT0001> one\"}");
	/* reset: messages sent while the bot is away arrive after it is back */
	json_decref(fake_ctlf(&t.fake, "drop", "{\"mode\":\"reset\"}"));
	json_decref(fake_ctlf(&t.fake, "inject_message", "{\"text\":\"<@U0BOT0001> two\"}"));
	p = post(&t, "C0GENERAL", NULL, "posted while reconnecting", NULL, 0);
	wait_events(&t, 2);
	wait_post(&t, p);
	assert_true(p->ok);
	free(p);
	/* refresh: the new connection is up before the old one closes */
	json_decref(fake_ctlf(&t.fake, "disconnect", "{\"reason\":\"refresh_requested\","
	    "\"close_after_ms\":null}"));
	json_decref(fake_ctlf(&t.fake, "wait_connections", "{\"count\":3,"
	    "\"timeout_ms\":15000}"));
	inject(&t, "{\"text\":\"<@U0BOT0001> three\"}");
	json_decref(fake_ctlf(&t.fake, "disconnect", "{\"reason\":\"warning\","
	    "\"close_after_ms\":3000}"));
	inject(&t, "{\"text\":\"<@U0BOT0001> four\"}");
	json_decref(fake_ctlf(&t.fake, "wait_connections", "{\"count\":4,"
	    "\"timeout_ms\":15000}"));
	inject(&t, "{\"text\":\"<@U0BOT0001> five\"}");
	wait_events(&t, 5);
	usleep(300000);
	assert_int_equal(t.nev, 5);
	assert_string_equal(t.ev[1].text, "two");
	assert_string_equal(t.ev[4].text, "five");
	c = fake_ctl(&t.fake, "connections", NULL, NULL);
	for (i = 1; i < 3 && i < json_array_size(c); i++) {
		json_t *old = json_array_get(c, i), *new = json_array_get(c, i + 1);

		/* closed by us, after the next one said hello */
		assert_string_equal(json_string_value(json_object_get(old, "closed_by")), "client");
		assert_true(json_number_value(json_object_get(new, "hello_at")) <=
		    json_number_value(json_object_get(old, "closed_at")));
	}
	json_decref(c);
	assert_no_errors(&t);
	finish(&t);
}

static void
test_rate_limit_and_retry(void **state)
{
	struct T t;
	struct post_req *p[4];
	json_t *j, *calls;
	int i;
	double first_429 = 0, first_ok = 0;

	(void)state;
	if (!setup_fake(&t, NULL))
		skip();
	start(&t);
	json_decref(fake_ctlf(&t.fake, "rate_limit", "{\"method\":\"chat.postMessage\","
	    "\"count\":1,\"retry_after\":1}"));
	p[0] = post(&t, "C0GENERAL", NULL, "first", NULL, 0);
	p[1] = post(&t, "C0GENERAL", NULL, "second", NULL, 0);
	p[2] = post(&t, "C0GENERAL", NULL, "third", NULL, 0);
	for (i = 0; i < 3; i++) {
		wait_post(&t, p[i]);
		assert_true(p[i]->ok);
		free(p[i]);
	}
	j = wait_posts(&t, 3, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "text")),
	    "first");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "text")),
	    "second");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 2), "text")),
	    "third");
	json_decref(j);
	calls = fake_ctl(&t.fake, "calls?method=chat.postMessage", NULL, NULL);
	for (i = 0; i < (int)json_array_size(calls); i++) {
		json_t *c = json_array_get(calls, (size_t)i);

		if (json_integer_value(json_object_get(c, "status")) == 429 && first_429 == 0)
			first_429 = json_number_value(json_object_get(c, "at"));
		else if (first_ok == 0 && first_429 != 0)
			first_ok = json_number_value(json_object_get(c, "at"));
	}
	json_decref(calls);
	assert_true(first_429 > 0);
	/* "at" is in ms */
	if (first_ok - first_429 < 950)
		fail_msg("resent %.0f ms after the 429, before Retry-After", first_ok - first_429);

	/* 503 twice, then it goes through */
	json_decref(fake_ctlf(&t.fake, "fail", "{\"method\":\"chat.postMessage\","
	    "\"count\":2,\"status\":503}"));
	p[3] = post(&t, "C0GENERAL", NULL, "after two 503s", NULL, 0);
	wait_post(&t, p[3]);
	assert_true(p[3]->ok);
	free(p[3]);
	/* a permanent error is reported */
	p[0] = post(&t, "C0NOTMEMB", NULL, "not a member", NULL, 0);
	wait_post(&t, p[0]);
	assert_false(p[0]->ok);
	assert_non_null(strstr(p[0]->error, "not_in_channel"));
	free(p[0]);
	finish(&t);
}

static void
test_long_output(void **state)
{
	struct T t;
	struct post_req *p;
	struct buf text, joined;
	char root[32];
	json_t *j;
	size_t i;
	int n;

	(void)state;
	if (!setup_fake(&t, NULL))
		skip();
	t.cfg.slack.max_message_chars = 100;
	start(&t);
	cp(root, sizeof root, inject(&t, "{\"text\":\"<@U0BOT0001> long\"}"));
	buf_init(&text, 0);
	for (n = 0; n < 12; n++)
		buf_printf(&text, "line %02d: %s\n", n, "xxxxxxxxxxxxxxxxxxxxxxxxx");
	p = post(&t, "C0GENERAL", root, text.data, NULL, 0);
	wait_post(&t, p);
	assert_true(p->ok);
	free(p);
	j = fake_ctl(&t.fake, "posts", NULL, NULL);
	assert_true(json_array_size(j) >= 4);
	buf_init(&joined, 0);
	for (i = 0; i < json_array_size(j); i++) {
		const char *s = json_string_value(json_object_get(json_array_get(j, i), "text"));

		assert_true(strlen(s) <= 100);
		assert_string_equal(json_string_value(json_object_get(json_array_get(j, i),
		    "thread_ts")), root);
		buf_puts(&joined, s);
		buf_putc(&joined, '\n');
	}
	assert_string_equal(joined.data, text.data);
	buf_free(&joined);
	buf_free(&text);
	json_decref(j);
	assert_no_errors(&t);
	finish(&t);
}

static void
test_buttons(void **state)
{
	struct chat_button b[2] = {
		{ "Approve", "confirm:7KQ2MX", true, false },
		{ "Cancel", "cancel:7KQ2MX", false, true },
	};
	struct T t;
	struct post_req *p, *u;
	char ts[32];
	json_t *j;

	(void)state;
	if (!setup_fake(&t, NULL))
		skip();
	start(&t);
	p = post(&t, "C0GENERAL", NULL, "Deploy api to production?", b, 2);
	wait_post(&t, p);
	assert_true(p->ok);
	cp(ts, sizeof ts, p->id);
	free(p);
	j = fake_ctlf(&t.fake, "inject_click", "{\"value\":\"confirm:7KQ2MX\","
	    "\"user\":\"U0HUMAN02\"}");
	assert_non_null(j);
	json_decref(j);
	wait_events(&t, 1);
	assert_int_equal(t.ev[0].kind, CHAT_ACTION);
	assert_string_equal(t.ev[0].value, "confirm:7KQ2MX");
	assert_string_equal(t.ev[0].user, "U0HUMAN02");
	assert_string_equal(t.ev[0].channel, "C0GENERAL");
	assert_string_equal(t.ev[0].msg, ts);
	assert_string_equal(t.ev[0].amsg, ts);

	u = xcalloc(1, sizeof *u);
	u->t = &t;
	u->update = true;
	u->channel = "C0GENERAL";
	u->ts = ts;
	u->text = "Approved by bob";
	lt_call(&t.lt, do_post, u);
	assert_int_equal(u->rc, 0);
	wait_post(&t, u);
	assert_true(u->ok);
	free(u);
	j = fake_ctl(&t.fake, "updates", NULL, NULL);
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "text")),
	    "Approved by bob");
	json_decref(j);
	j = fake_ctl(&t.fake, "messages?channel=C0GENERAL", NULL, NULL);
	assert_int_equal(json_array_size(json_object_get(json_array_get(j, 0), "blocks")), 0);
	json_decref(j);
	assert_no_errors(&t);
	finish(&t);
}

static void
test_malformed(void **state)
{
	static const char *const kinds[] = { "non_json", "empty", "truncated", "binary",
	    "json_array", "unknown_type", "no_envelope_id" };
	struct T t;
	size_t i;

	(void)state;
	if (!setup_fake(&t, NULL))
		skip();
	start(&t);
	for (i = 0; i < ACK_ARRAY_LEN(kinds); i++)
		json_decref(fake_ctlf(&t.fake, "malformed", "{\"kind\":\"%s\"}", kinds[i]));
	json_decref(fake_ctlf(&t.fake, "inject_envelope", "{\"envelope\":{\"type\":"
	    "\"events_api\",\"payload\":{\"event\":{\"type\":\"message\",\"text\":\"no channel\"}}}}"));
	inject(&t, "{\"text\":\"<@U0BOT0001> still here\"}");
	wait_events(&t, 1);
	assert_string_equal(t.ev[0].text, "still here");
	assert_int_equal(fake_count(&t.fake, "connections"), 1);
	assert_no_errors(&t);
	finish(&t);
}

static void
test_fatal(void **state)
{
	struct T t;

	(void)state;
	/* a wrong bot token: auth.test says invalid_auth */
	if (!setup_fake(&t, NULL))
		skip();
	snprintf(t.bot_token, sizeof t.bot_token, "xoxb-wrong");
	start_expecting_end(&t);
	assert_int_equal(t.end_code, SLACK_EXIT_AUTH);
	assert_non_null(strstr(t.end_why, "slack.bot_token"));
	assert_non_null(strstr(t.end_why, "invalid_auth"));
	assert_null(strstr(t.end_why, "xoxb-"));
	finish(&t);

	/* a wrong app token: apps.connections.open refuses it */
	assert_true(setup_fake(&t, NULL));
	snprintf(t.app_token, sizeof t.app_token, "xapp-wrong");
	start_expecting_end(&t);
	assert_int_equal(t.end_code, SLACK_EXIT_AUTH);
	assert_non_null(strstr(t.end_why, "slack.app_token"));
	finish(&t);

	/* Socket Mode switched off */
	assert_true(setup_fake(&t, NULL));
	start(&t);
	json_decref(fake_ctlf(&t.fake, "disconnect", "{\"reason\":\"link_disabled\"}"));
	assert_true(lt_wait(&t.lt, has_ended, &t, 10000));
	assert_int_equal(t.end_code, SLACK_EXIT_AUTH);
	assert_non_null(strstr(t.end_why, "link_disabled"));
	finish(&t);
}

static void
test_tls(void **state)
{
	struct T t;
	char dir[] = "/tmp/ackbot-slack-tls-XXXXXX", cert[256], key[256], ca[256], cmd[512];
	const char *args[] = { "--tls-cert", cert, "--tls-key", key, NULL };

	(void)state;
	if (!fake_available())
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(make_test_certs(dir), 0);
	snprintf(cert, sizeof cert, "%s/server.pem", dir);
	snprintf(key, sizeof key, "%s/server.key", dir);
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);

	assert_true(setup_fake(&t, args));
	assert_int_equal(strncmp(t.api, "https://", 8), 0);
	t.cfg.slack.ca_file = ca;
	start(&t);
	inject(&t, "{\"text\":\"<@U0BOT0001> over TLS\"}");
	wait_events(&t, 1);
	assert_string_equal(t.ev[0].text, "over TLS");
	finish(&t);

	/* the system store does not know the test CA: refused, clearly */
	assert_true(setup_fake(&t, args));
	start_expecting_end(&t);
	assert_int_equal(t.end_code, SLACK_EXIT_START);
	assert_non_null(strstr(t.end_why, "certificate"));
	assert_non_null(strstr(t.end_why, "ca_file"));
	finish(&t);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_retry_after_missed_ack),
		cmocka_unit_test(test_drop_and_refresh),
		cmocka_unit_test(test_rate_limit_and_retry),
		cmocka_unit_test(test_long_output),
		cmocka_unit_test(test_buttons),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_fatal),
		cmocka_unit_test(test_tls),
	};

	signal(SIGPIPE, SIG_IGN);
	log_setup(getenv("ACKBOT_TEST_DEBUG") ? LOG_DEBUG : LOG_ERROR + 1, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
