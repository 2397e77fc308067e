/*
 * slack_users.c - user names for Slack events.
 *
 * Slack sends user ids: the speaker ("user": "U0HUMAN01") and mentions in
 * the text (<@U0HUMAN02>). Names come from users.info (display name, else
 * real name, else the handle), cached in a fixed table: an hour for a name,
 * a few minutes for a failure (users:read missing, user not found). An
 * event whose names are not known yet is held while the lookups run, for
 * at most SLACK_HOLD_MS; then it goes out with the ids in place of the
 * names. Held events leave in arrival order, so a quick event never
 * overtakes a slow one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/slack_int.h"
#include "bot/log.h"
#include "bot/util.h"

#define SLACK_USERS_CACHE 512
#define SLACK_NAME_TTL_MS (60u * 60 * 1000)
#define SLACK_FAIL_TTL_MS (5u * 60 * 1000)
#define SLACK_RETRY_TTL_MS (30u * 1000)
#define SLACK_HOLD_MS 2000
#define SLACK_MAX_LOOKUPS 16
#define SLACK_MAX_HELD 1000

struct user_entry {
	bool used;
	char id[SLACK_ID_MAX + 1];
	char *name;                     /* NULL if unknown */
	uint64_t fetched_at;            /* 0: never */
	uint64_t ttl;
	struct slack_call *call;        /* lookup in flight */
};

enum held_kind { HELD_MESSAGE, HELD_ACTION };

struct held {
	TAILQ_ENTRY(held) entry;
	enum held_kind kind;
	uint64_t deadline;
	bool app_mention;
	bool is_direct;
	char *channel, *user, *user_name, *text, *ts, *thread_ts, *value;
};
TAILQ_HEAD(heldq, held);

struct slack_users {
	struct slack *s;
	struct user_entry cache[SLACK_USERS_CACHE];
	struct heldq held;
	size_t nheld;
	uv_timer_t timer;
	unsigned lookups;
	bool warned;
	bool stopping;
	void (*done)(void *);
	void *done_arg;
};

static void users_flush(struct slack_users *u);

static uint64_t
now_ms(struct slack_users *u)
{
	return uv_now(u->s->base.host.loop);
}

static struct user_entry *
find(struct slack_users *u, const char *id)
{
	size_t i;

	for (i = 0; i < SLACK_USERS_CACHE; i++)
		if (u->cache[i].used && strcmp(u->cache[i].id, id) == 0)
			return &u->cache[i];
	return NULL;
}

static struct user_entry *
alloc_entry(struct slack_users *u, const char *id)
{
	struct user_entry *e = NULL;
	size_t i;

	for (i = 0; i < SLACK_USERS_CACHE; i++) {
		struct user_entry *x = &u->cache[i];

		if (!x->used) {
			e = x;
			break;
		}
		if (x->call == NULL && (e == NULL || x->fetched_at < e->fetched_at))
			e = x;  /* the oldest idle one */
	}
	if (e == NULL)
		return NULL;
	free(e->name);
	memset(e, 0, sizeof *e);
	e->used = true;
	snprintf(e->id, sizeof e->id, "%s", id);
	return e;
}

static const char *
pick_name(const json_t *user)
{
	const json_t *prof = json_object_get(user, "profile");
	const char *keys[] = { "display_name", "real_name" };
	const char *v;
	size_t i;

	for (i = 0; i < ACK_ARRAY_LEN(keys); i++) {
		v = json_string_value(json_object_get(prof, keys[i]));
		if (v != NULL && v[0] != '\0')
			return v;
	}
	v = json_string_value(json_object_get(user, "real_name"));
	if (v != NULL && v[0] != '\0')
		return v;
	return json_string_value(json_object_get(user, "name"));
}

static void
on_lookup(struct slack *s, const struct slack_api_result *r, void *arg)
{
	struct slack_users *u = s->users;
	struct user_entry *e = arg;

	e->call = NULL;
	if (u != NULL)
		u->lookups--;
	if (r->kind == SLACK_API_CANCELED || u == NULL)
		return;
	e->fetched_at = now_ms(u);
	if (r->kind == SLACK_API_OK) {
		char *name = slack_name_clean(pick_name(json_object_get(r->body, "user")));

		if (name != NULL) {
			free(e->name);
			e->name = name;
		}
		e->ttl = SLACK_NAME_TTL_MS;
	} else {
		e->ttl = r->kind == SLACK_API_ERROR ? SLACK_FAIL_TTL_MS : SLACK_RETRY_TTL_MS;
		if (!u->warned) {
			u->warned = true;
			log_warn("slack: users.info %s failed: %s; user ids are shown instead of "
			    "names%s", e->id, r->error, r->error != NULL &&
			    strcmp(r->error, "missing_scope") == 0 ?
			    " (the bot token needs the users:read scope)" : "");
		} else {
			log_debug("slack: users.info %s failed: %s", e->id, r->error);
		}
	}
	users_flush(u);
}

/* true if id's name is known or will not be (fresh entry, or no lookup
 * possible); otherwise starts a lookup if none is running. */
static bool
id_ready(struct slack_users *u, const char *id, uint64_t now)
{
	struct user_entry *e = find(u, id);
	char q[64];

	if (e != NULL && e->call != NULL)
		return false;
	if (e != NULL && e->fetched_at != 0 && now - e->fetched_at < e->ttl)
		return true;
	if (u->stopping || u->lookups >= SLACK_MAX_LOOKUPS)
		return true;
	if (e == NULL && (e = alloc_entry(u, id)) == NULL)
		return true;
	snprintf(q, sizeof q, "user=%s", id);
	e->call = slack_api(u->s, "users.info", SLACK_TOKEN_BOT, "GET", q, NULL, on_lookup, e);
	if (e->call == NULL) {
		e->fetched_at = now;
		e->ttl = SLACK_RETRY_TTL_MS;
		return true;
	}
	u->lookups++;
	return false;
}

struct ready_ctx {
	struct slack_users *u;
	uint64_t now;
	bool ready;
};

static void
mention_ready(void *arg, const char *id)
{
	struct ready_ctx *c = arg;

	if (!id_ready(c->u, id, c->now))
		c->ready = false;
}

static bool
held_ready(struct slack_users *u, struct held *h, uint64_t now)
{
	struct ready_ctx c = { u, now, true };

	if (h->kind != HELD_MESSAGE)
		return true;
	if (!id_ready(u, h->user, now))
		c.ready = false;
	slack_text_users(h->text, strlen(h->text), u->s->self_user, mention_ready, &c);
	return c.ready;
}

static const char *
name_of(void *arg, const char *id)
{
	struct user_entry *e = find(arg, id);

	return e != NULL ? e->name : NULL;
}

static void
held_free(struct held *h)
{
	free(h->channel);
	free(h->user);
	free(h->user_name);
	free(h->text);
	free(h->ts);
	free(h->thread_ts);
	free(h->value);
	free(h);
}

static void
deliver(struct slack_users *u, struct held *h)
{
	struct slack *s = u->s;
	struct chat_event ev;
	char *text = NULL;
	bool mentions = false;

	memset(&ev, 0, sizeof ev);
	ev.platform = "slack";
	ev.channel_id = h->channel;
	ev.thread_id = h->thread_ts;
	ev.user_id = h->user;
	ev.is_direct = h->is_direct;
	if (h->kind == HELD_MESSAGE) {
		struct slack_decode d = { s->self_user, name_of, u };
		const char *name = name_of(u, h->user);

		text = slack_text_decode(h->text, strlen(h->text), &d, &mentions);
		ev.kind = CHAT_MESSAGE;
		ev.message_id = h->ts;
		ev.user_name = name != NULL ? name : h->user;
		ev.mentions_bot = mentions || h->app_mention;
		ev.text = text;
		log_debug("slack: message %s/%s from %s%s%s", h->channel, h->ts, h->user,
		    ev.is_direct ? " (direct)" : "", ev.mentions_bot ? " (to the bot)" : "");
	} else {
		ev.kind = CHAT_ACTION;
		ev.message_id = h->ts;
		ev.action_message_id = h->ts;
		ev.user_name = h->user_name != NULL ? h->user_name : h->user;
		ev.action_value = h->value;
		ev.text = "";
		log_debug("slack: button click in %s/%s by %s", h->channel, h->ts, h->user);
	}
	slack_deliver(s, &ev);
	free(text);
}

static void
on_timer(uv_timer_t *t)
{
	users_flush(t->data);
}

static void
users_flush(struct slack_users *u)
{
	struct held *h;
	uint64_t now;

	if (u->stopping)
		return;
	uv_update_time(u->s->base.host.loop);
	now = now_ms(u);
	while ((h = TAILQ_FIRST(&u->held)) != NULL) {
		if (now < h->deadline && !held_ready(u, h, now))
			break;
		TAILQ_REMOVE(&u->held, h, entry);
		u->nheld--;
		deliver(u, h);
		held_free(h);
		if (u->stopping)
			return;         /* the core stopped us from on_event */
	}
	if (h != NULL)
		uv_timer_start(&u->timer, on_timer, h->deadline - now + 1, 0);
	else
		uv_timer_stop(&u->timer);
}

static void
hold(struct slack_users *u, struct held *h)
{
	if (u->stopping) {
		held_free(h);
		return;
	}
	if (u->nheld >= SLACK_MAX_HELD) {
		log_warn("slack: %zu events waiting for user names: dropping one", u->nheld);
		held_free(h);
		return;
	}
	uv_update_time(u->s->base.host.loop);
	h->deadline = now_ms(u) + SLACK_HOLD_MS;
	TAILQ_INSERT_TAIL(&u->held, h, entry);
	u->nheld++;
	users_flush(u);
}

void
slack_users_hold_message(struct slack_users *u, const struct slack_msg *m)
{
	struct held *h = xcalloc(1, sizeof *h);

	h->kind = HELD_MESSAGE;
	h->app_mention = strcmp(m->type, "app_mention") == 0;
	h->is_direct = m->is_direct;
	h->channel = xstrdup(m->channel);
	h->user = xstrdup(m->user);
	h->text = xstrdup(m->text);
	h->ts = xstrdup(m->ts);
	h->thread_ts = xstrdup(m->thread_ts);
	hold(u, h);
}

void
slack_users_hold_action(struct slack_users *u, const struct slack_action *a)
{
	struct held *h = xcalloc(1, sizeof *h);

	h->kind = HELD_ACTION;
	h->is_direct = a->channel[0] == 'D';
	h->channel = xstrdup(a->channel);
	h->user = xstrdup(a->user_id);
	h->user_name = slack_name_clean(a->user_name);
	h->ts = xstrdup(a->message_ts);
	h->thread_ts = xstrdup(a->thread_ts);
	h->value = xstrdup(a->value);
	hold(u, h);
}

struct slack_users *
slack_users_new(struct slack *s)
{
	struct slack_users *u = xcalloc(1, sizeof *u);

	u->s = s;
	TAILQ_INIT(&u->held);
	uv_timer_init(s->base.host.loop, &u->timer);
	u->timer.data = u;
	return u;
}

static void
on_closed(uv_handle_t *h)
{
	struct slack_users *u = h->data;
	void (*done)(void *) = u->done;
	void *arg = u->done_arg;
	size_t i;

	for (i = 0; i < SLACK_USERS_CACHE; i++)
		free(u->cache[i].name);
	free(u);
	if (done != NULL)
		done(arg);
}

void
slack_users_stop(struct slack_users *u, void (*done)(void *), void *arg)
{
	struct held *h;
	size_t i;

	u->stopping = true;
	u->done = done;
	u->done_arg = arg;
	if (u->nheld > 0)
		log_info("slack: %zu event%s dropped at shutdown (waiting for user names)",
		    u->nheld, u->nheld == 1 ? "" : "s");
	while ((h = TAILQ_FIRST(&u->held)) != NULL) {
		TAILQ_REMOVE(&u->held, h, entry);
		held_free(h);
	}
	u->nheld = 0;
	for (i = 0; i < SLACK_USERS_CACHE; i++)
		if (u->cache[i].call != NULL) {
			slack_api_cancel(u->cache[i].call);
			u->cache[i].call = NULL;
		}
	uv_close((uv_handle_t *)&u->timer, on_closed);
}
