/*
 * slack.c - the Slack adapter's lifecycle: auth.test, apps.connections.open
 * for every websocket connection, Socket Mode frames (acked at once, then
 * handled), Web API calls, and the stop sequence. Text decoding, envelope
 * parsing, user names and posting live in the other slack_*.c files (see
 * slack_int.h).
 *
 * Tokens come from the configuration's resolved secrets; they go into an
 * Authorization header and nowhere else. Logs name them ("slack.bot_token"),
 * never show them, and never show a websocket URL's query (its ticket).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/outq.h"
#include "adapters/slack.h"
#include "adapters/slack_int.h"
#include "adapters/ws.h"
#include "bot/http_client.h"
#include "bot/log.h"
#include "bot/util.h"
#include "config/config.h"

#define SLACK_API_TIMEOUT_MS 20000
#define SLACK_API_MAX_REPLY (4u * 1024 * 1024)
#define SLACK_MAX_MESSAGE (1024u * 1024)        /* one websocket frame */
#define SLACK_DEDUPE 4096                       /* keys remembered */
#define SLACK_TOO_MANY_WAIT_MS 60000
#define SLACK_OUT_FLUSH_MS 5000                 /* at stop */

static const char *const auth_errors[] = {
	"invalid_auth", "not_authed", "account_inactive", "token_revoked",
	"token_expired", "user_removed_from_team", "team_disabled", "ekm_access_denied",
	"not_allowed_token_type", "no_permission",
};

bool
slack_error_is_auth(const char *error)
{
	size_t i;

	if (error == NULL)
		return false;
	for (i = 0; i < ACK_ARRAY_LEN(auth_errors); i++)
		if (strcmp(error, auth_errors[i]) == 0)
			return true;
	return false;
}

void
slack_fatal(struct slack *s, int code, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	if (s->ended || s->stopping)
		return;
	s->ended = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	log_error("slack: %s", why);
	s->base.host.on_end(s->base.host.arg, code, why);
}

void
slack_deliver(struct slack *s, const struct chat_event *ev)
{
	if (s->stopping || s->ended)
		return;
	s->base.host.on_event(s->base.host.arg, ev);
}

/* ---- Web API calls ------------------------------------------------------- */

static uint64_t
retry_after_ms(const struct http_response *r)
{
	const char *v = http_response_header(r, "Retry-After");
	char *end;
	unsigned long n;

	if (v == NULL)
		return 0;
	n = strtoul(v, &end, 10);
	if (end == v || n > 24 * 3600)
		return 0;
	return (uint64_t)n * 1000 + 1;
}

static void
on_api_done(const struct http_response *resp, void *arg)
{
	struct slack_call *c = arg;
	struct slack *s = c->s;
	struct slack_api_result res;
	char ebuf[512];
	json_t *body = NULL;

	TAILQ_REMOVE(&s->calls, c, entry);
	memset(&res, 0, sizeof res);
	res.status = resp->status;
	if (resp->result == HTTP_ERR_CANCELED) {
		res.kind = SLACK_API_CANCELED;
		res.error = "canceled";
	} else if (resp->result == HTTP_ERR_TLS) {
		res.kind = SLACK_API_TLS;
		snprintf(ebuf, sizeof ebuf, "%s", resp->error);
		res.error = ebuf;
	} else if (resp->result != HTTP_OK) {
		res.kind = SLACK_API_RETRY;
		snprintf(ebuf, sizeof ebuf, "%s: %s", http_result_name(resp->result), resp->error);
		res.error = ebuf;
	} else if (resp->status == 429) {
		res.kind = SLACK_API_RATE_LIMITED;
		res.retry_after_ms = retry_after_ms(resp);
		res.error = "ratelimited";
	} else if (resp->status >= 500) {
		res.kind = SLACK_API_RETRY;
		snprintf(ebuf, sizeof ebuf, "HTTP %ld", resp->status);
		res.error = ebuf;
	} else if (resp->status != 200) {
		res.kind = SLACK_API_HTTP;
		snprintf(ebuf, sizeof ebuf, "HTTP %ld", resp->status);
		res.error = ebuf;
	} else {
		body = json_loadb(resp->body, resp->body_len, 0, NULL);
		if (!json_is_object(body)) {
			res.kind = SLACK_API_RETRY;
			res.error = "an unreadable reply (not a JSON object)";
		} else if (json_is_true(json_object_get(body, "ok"))) {
			res.kind = SLACK_API_OK;
		} else {
			const char *e = json_string_value(json_object_get(body, "error"));

			res.error = e != NULL ? e : "unknown_error";
			res.kind = strcmp(res.error, "ratelimited") == 0 ||
			    strcmp(res.error, "rate_limited") == 0 ?
			    SLACK_API_RATE_LIMITED : SLACK_API_ERROR;
		}
		res.body = json_is_object(body) ? body : NULL;
	}
	c->cb(s, &res, c->arg);
	json_decref(body);
	free(c);
}

struct slack_call *
slack_api(struct slack *s, const char *method, enum slack_token tok, const char *http_method,
    const char *query, const char *body, slack_api_cb cb, void *arg)
{
	const struct cfg_secret *sec = tok == SLACK_TOKEN_APP ? &s->cfg->app_token :
	    &s->cfg->bot_token;
	struct http_request *r;
	struct slack_call *c;
	char err[ACK_ERR_LEN];
	char *url, *auth;
	int rc;

	url = query != NULL ? xasprintf("%s%s?%s", s->api_url, method, query) :
	    xasprintf("%s%s", s->api_url, method);
	r = http_request_new(http_method, url, err, sizeof err);
	free(url);
	if (r == NULL) {
		log_error("slack: %s: %s", method, err);
		return NULL;
	}
	auth = xasprintf("Bearer %s", sec->value ? sec->value : "");
	rc = http_request_add_header(r, "Authorization", auth, err, sizeof err);
	explicit_bzero(auth, strlen(auth));
	free(auth);
	if (rc != 0) {
		/* the message would quote the value: never log it */
		log_error("slack: %s: the token in %s cannot be sent in a header", method,
		    tok == SLACK_TOKEN_APP ? "slack.app_token" : "slack.bot_token");
		http_request_free(r);
		return NULL;
	}
	if (strcmp(http_method, "POST") == 0) {
		if (body != NULL) {
			http_request_add_header(r, "Content-Type",
			    "application/json; charset=utf-8", NULL, 0);
			http_request_set_body(r, body, strlen(body));
		} else {
			http_request_add_header(r, "Content-Type",
			    "application/x-www-form-urlencoded", NULL, 0);
			http_request_set_body(r, "", 0);
		}
	}
	http_request_set_timeout(r, SLACK_API_TIMEOUT_MS);
	http_request_set_max_response(r, SLACK_API_MAX_REPLY);
	if (s->cfg->ca_file != NULL)
		http_request_set_ca_file(r, s->cfg->ca_file);
	c = xcalloc(1, sizeof *c);
	c->s = s;
	c->req = r;
	c->cb = cb;
	c->arg = arg;
	snprintf(c->method, sizeof c->method, "%s", method);
	TAILQ_INSERT_TAIL(&s->calls, c, entry);
	if (http_request_send(s->base.host.http, r, on_api_done, c, err, sizeof err) != 0) {
		TAILQ_REMOVE(&s->calls, c, entry);
		free(c);
		log_error("slack: %s: %s", method, err);
		return NULL;
	}
	return c;
}

void
slack_api_cancel(struct slack_call *c)
{
	if (c == NULL)
		return;
	TAILQ_REMOVE(&c->s->calls, c, entry);
	http_request_cancel(c->req);
	free(c);
}

/* ---- auth.test ------------------------------------------------------------ */

static void start_auth(struct slack *s);

static void
on_auth_timer(uv_timer_t *t)
{
	start_auth(t->data);
}

static void
auth_retry(struct slack *s, uint64_t min_ms, const char *why)
{
	uint64_t d = backoff_next(&s->auth_bo, backoff_random());

	if (min_ms > d)
		d = min_ms;
	log_warn("slack: auth.test failed: %s; retrying in %llu s", why,
	    (unsigned long long)((d + 999) / 1000));
	uv_timer_start(&s->auth_timer, on_auth_timer, d, 0);
}

static void
on_auth_done(struct slack *s, const struct slack_api_result *r, void *arg)
{
	const char *uid, *bid, *user, *team;
	char ulog[256];

	(void)arg;
	s->auth_call = NULL;
	switch (r->kind) {
	case SLACK_API_CANCELED:
		return;
	case SLACK_API_OK:
		break;
	case SLACK_API_ERROR:
		if (slack_error_is_auth(r->error)) {
			slack_fatal(s, SLACK_EXIT_AUTH, "auth.test refused the bot token "
			    "(slack.bot_token): %s", r->error);
			return;
		}
		auth_retry(s, 0, r->error);
		return;
	case SLACK_API_TLS:
		ws_url_for_log(s->api_url, ulog, sizeof ulog);
		slack_fatal(s, SLACK_EXIT_START, "cannot verify the TLS certificate of %s: %s "
		    "(for a private CA, set [slack].ca_file)", ulog, r->error);
		return;
	case SLACK_API_HTTP:
		ws_url_for_log(s->api_url, ulog, sizeof ulog);
		slack_fatal(s, SLACK_EXIT_START, "auth.test at %sauth.test answered %s: is "
		    "[slack].api_url the Slack Web API?", ulog, r->error);
		return;
	case SLACK_API_RATE_LIMITED:
		auth_retry(s, r->retry_after_ms, "rate limited");
		return;
	case SLACK_API_RETRY:
		auth_retry(s, 0, r->error);
		return;
	}
	uid = json_string_value(json_object_get(r->body, "user_id"));
	bid = json_string_value(json_object_get(r->body, "bot_id"));
	user = json_string_value(json_object_get(r->body, "user"));
	team = json_string_value(json_object_get(r->body, "team"));
	if (uid == NULL || !slack_id_valid(uid, strlen(uid))) {
		slack_fatal(s, SLACK_EXIT_AUTH, "auth.test did not say who the bot is (no "
		    "user_id): is slack.bot_token a bot token (xoxb-)?");
		return;
	}
	snprintf(s->self_user, sizeof s->self_user, "%s", uid);
	if (bid != NULL && slack_id_valid(bid, strlen(bid)))
		snprintf(s->self_bot, sizeof s->self_bot, "%s", bid);
	s->base.bot_user_id = s->self_user;
	backoff_reset(&s->auth_bo);
	{
		char u[64], t[128];

		log_escape(u, sizeof u, user ? user : "?", user ? strlen(user) : 1);
		log_escape(t, sizeof t, team ? team : "?", team ? strlen(team) : 1);
		log_info("slack: authenticated as %s (user %s, bot %s) in %s", u, s->self_user,
		    s->self_bot[0] ? s->self_bot : "none", t);
	}
	ws_link_start(s->link);
}

static void
start_auth(struct slack *s)
{
	if (s->stopping || s->ended)
		return;
	s->auth_call = slack_api(s, "auth.test", SLACK_TOKEN_BOT, "POST", NULL, NULL,
	    on_auth_done, NULL);
	if (s->auth_call == NULL)
		auth_retry(s, 0, "the request could not be made");
}

/* ---- apps.connections.open ------------------------------------------------ */

static void
on_open_done(struct slack *s, const struct slack_api_result *r, void *arg)
{
	const char *url;

	(void)arg;
	s->open_call = NULL;
	if (r->kind == SLACK_API_CANCELED || s->stopping)
		return;
	switch (r->kind) {
	case SLACK_API_OK:
		url = json_string_value(json_object_get(r->body, "url"));
		if (url == NULL) {
			ws_link_url_failed(s->link, 0, "apps.connections.open: no url in the reply");
			return;
		}
		ws_link_connect(s->link, url, NULL, 0);
		return;
	case SLACK_API_ERROR:
		if (slack_error_is_auth(r->error) || strcmp(r->error, "missing_scope") == 0) {
			slack_fatal(s, SLACK_EXIT_AUTH, "apps.connections.open refused the "
			    "app-level token (slack.app_token): %s%s", r->error,
			    strcmp(r->error, "missing_scope") == 0 ?
			    " (it needs the connections:write scope)" : "");
			return;
		}
		break;
	case SLACK_API_RATE_LIMITED:
		ws_link_url_failed(s->link, r->retry_after_ms ? r->retry_after_ms : 30000,
		    "apps.connections.open: rate limited");
		return;
	default:
		break;
	}
	{
		char why[600];

		snprintf(why, sizeof why, "apps.connections.open: %s", r->error);
		ws_link_url_failed(s->link, 0, why);
	}
}

static void
want_url(void *arg, struct ws_link *l)
{
	struct slack *s = arg;

	(void)l;
	if (s->stopping || s->ended)
		return;         /* the link waits: the adapter is ending */
	s->open_call = slack_api(s, "apps.connections.open", SLACK_TOKEN_APP, "POST", NULL,
	    NULL, on_open_done, NULL);
	if (s->open_call == NULL)
		ws_link_url_failed(s->link, 0, "apps.connections.open: the request could "
		    "not be made");
}

/* ---- frames --------------------------------------------------------------- */

static void
send_ack(struct slack *s, struct ws_conn *c, const char *envelope_id)
{
	json_t *o = json_pack("{s:s}", "envelope_id", envelope_id);
	char *txt = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (txt == NULL || ws_conn_send(c, txt, strlen(txt)) != 0)
		log_warn("slack: websocket #%u: could not ack envelope %s (closing?); Slack "
		    "will deliver it again", ws_conn_id(c), envelope_id);
	free(txt);
	s->envelopes++;
}

static bool
seen(struct slack *s, char kind, const char *a, const char *b)
{
	char key[300];

	snprintf(key, sizeof key, "%c:%s%s%s", kind, a, b ? "/" : "", b ? b : "");
	if (!slack_dedupe_check(s->dedupe, key))
		return false;
	s->duplicates++;
	return true;
}

static void
handle_event(struct slack *s, const struct slack_frame *f)
{
	struct slack_self self = { s->self_user, s->self_bot[0] ? s->self_bot : NULL,
	    s->cfg->ignore_bots };
	struct slack_msg m;
	const char *why;

	if (f->event_id != NULL && seen(s, 'e', f->event_id, NULL)) {
		log_debug("slack: event %s again (retry %d): already handled", f->event_id,
		    f->retry_attempt);
		return;
	}
	switch (slack_msg_classify(f->event, &self, &m, &why)) {
	case SLACK_HANDLE:
		if (seen(s, 'm', m.channel, m.ts)) {
			log_debug("slack: message %s/%s again (as %s): already handled", m.channel,
			    m.ts, m.type);
			return;
		}
		slack_users_hold_message(s->users, &m);
		return;
	case SLACK_IGNORE:
		log_debug("slack: event %s ignored: %s", f->event_id ? f->event_id : "?", why);
		return;
	case SLACK_INVALID:
		log_warn("slack: event %s skipped: %s", f->event_id ? f->event_id : "?", why);
		return;
	}
}

static void
handle_interactive(struct slack *s, const struct slack_frame *f)
{
	struct slack_action a;
	const char *why;

	switch (slack_action_parse(f->payload, &a, &why)) {
	case SLACK_HANDLE:
		slack_users_hold_action(s->users, &a);
		return;
	case SLACK_IGNORE:
		log_debug("slack: interaction ignored: %s", why);
		return;
	case SLACK_INVALID:
		log_warn("slack: interaction skipped: %s", why);
		return;
	}
}

static void
handle_disconnect(struct slack *s, struct ws_conn *c, const struct slack_frame *f)
{
	const char *r = f->reason;

	if (strcmp(r, "link_disabled") == 0) {
		slack_fatal(s, SLACK_EXIT_AUTH, "Slack disabled the Socket Mode link "
		    "(disconnect: link_disabled): turn Socket Mode back on in the app's "
		    "settings");
		return;
	}
	if (strcmp(r, "too_many_websockets") == 0) {
		log_error("slack: Slack refused another Socket Mode connection "
		    "(too_many_websockets); is another copy of the bot running with this app "
		    "token? Waiting %d s before trying again", SLACK_TOO_MANY_WAIT_MS / 1000);
		ws_link_penalize(s->link, SLACK_TOO_MANY_WAIT_MS);
		ws_conn_close(c, "too_many_websockets");
		return;
	}
	{
		char why[128];

		log_escape(why, sizeof why, r, strlen(r));
		ws_link_refresh(s->link, c, why);
	}
}

static void
on_ws_message(void *arg, struct ws_conn *c, const char *data, size_t len, bool binary)
{
	struct slack *s = arg;
	struct slack_frame f;
	char err[256], shown[256];

	s->frames++;
	if (binary) {
		log_warn("slack: websocket #%u: a binary frame (%zu bytes) ignored",
		    ws_conn_id(c), len);
		return;
	}
	if (slack_frame_parse(data, len, &f, err, sizeof err) != 0) {
		if (f.envelope_id != NULL)
			send_ack(s, c, f.envelope_id);
		log_escape(shown, sizeof shown, data, len > 200 ? 200 : len);
		log_warn("slack: websocket #%u: malformed frame ignored: %s: %s%s",
		    ws_conn_id(c), err, shown, len > 200 ? "..." : "");
		slack_frame_free(&f);
		return;
	}
	/* Ack first, before any work (3-second deadline). */
	if (f.envelope_id != NULL) {
		send_ack(s, c, f.envelope_id);
		if (seen(s, 'v', f.envelope_id, NULL)) {
			log_debug("slack: envelope %s again: acked, not handled twice",
			    f.envelope_id);
			slack_frame_free(&f);
			return;
		}
	}
	switch (f.type) {
	case SLACK_FRAME_HELLO:
		ws_link_ready(s->link, c);
		log_info("slack: %s Socket Mode (websocket #%u, %d connection%s, refresh in "
		    "about %ld s)", s->connected_once ? "reconnected to" : "connected to",
		    ws_conn_id(c), f.num_connections, f.num_connections == 1 ? "" : "s",
		    f.refresh_s);
		s->connected_once = true;
		break;
	case SLACK_FRAME_DISCONNECT:
		handle_disconnect(s, c, &f);
		break;
	case SLACK_FRAME_EVENTS_API:
		handle_event(s, &f);
		break;
	case SLACK_FRAME_INTERACTIVE:
		handle_interactive(s, &f);
		break;
	case SLACK_FRAME_SLASH:
		log_info("slack: a slash command was acked and ignored (not supported; "
		    "mention the bot instead)");
		break;
	case SLACK_FRAME_OTHER:
		log_debug("slack: envelope of type %s acked and ignored", f.type_name);
		break;
	}
	slack_frame_free(&f);
}

/* ---- adapter ops ------------------------------------------------------------ */

static int
slack_start(struct adapter *a, char *err, size_t errlen)
{
	struct slack *s = (struct slack *)a;
	struct ws_link_opts o;
	struct ws_link_cbs cbs = { want_url, NULL, on_ws_message, NULL };
	char ulog[256];

	if (s->started)
		return 0;
	s->started = true;
	memset(&o, 0, sizeof o);
	o.name = "slack";
	o.ca_file = s->cfg->ca_file;
	o.max_message = SLACK_MAX_MESSAGE;
	o.ping_after_s = 5;
	o.hangup_after_s = 20;
	o.ready_timeout_s = 15;
	s->link = ws_link_new(s->base.host.loop, &o, &cbs, s, err, errlen);
	if (s->link == NULL)
		return -1;
	ws_url_for_log(s->api_url, ulog, sizeof ulog);
	log_info("slack: starting (Web API %s)", ulog);
	start_auth(s);
	return 0;
}

static int
slack_post(struct adapter *a, const struct chat_post *p, chat_post_cb cb, void *arg)
{
	struct slack *s = (struct slack *)a;

	return slack_out_post(s, p, cb, arg);
}

static int
slack_update(struct adapter *a, const char *channel_id, const char *message_id,
    const struct chat_post *p, chat_post_cb cb, void *arg)
{
	struct slack *s = (struct slack *)a;

	return slack_out_update(s, channel_id, message_id, p, cb, arg);
}

static void
slack_free(struct slack *s)
{
	struct slack_call *c;
	void (*stopped)(void *) = s->stopped;
	void *arg = s->stopped_arg;

	/* Every owner canceled its calls before this point; a leftover would
	 * be a bug, and its owner is gone: cancel it quietly. */
	while ((c = TAILQ_FIRST(&s->calls)) != NULL) {
		log_debug("slack: %s still in flight at the end: canceled", c->method);
		slack_api_cancel(c);
	}
	slack_dedupe_free(s->dedupe);
	log_info("slack: stopped (%lu frames, %lu envelopes, %lu duplicates dropped)",
	    s->frames, s->envelopes, s->duplicates);
	free(s->api_url);
	free(s);
	if (stopped != NULL)
		stopped(arg);
}

static void
stop_step(void *arg)
{
	struct slack *s = arg;

	if (--s->stop_waits == 0)
		slack_free(s);
}

static void
on_auth_timer_closed(uv_handle_t *h)
{
	stop_step(h->data);
}

static void
slack_stop(struct adapter *a, void (*stopped)(void *), void *arg)
{
	struct slack *s = (struct slack *)a;

	if (s->stopping)
		return;
	s->stopping = true;
	s->stopped = stopped;
	s->stopped_arg = arg;
	s->stop_waits = 1;      /* the auth timer: always there, always async */
	slack_api_cancel(s->auth_call);
	s->auth_call = NULL;
	slack_api_cancel(s->open_call);
	s->open_call = NULL;
	if (s->users != NULL) {
		s->stop_waits++;
		slack_users_stop(s->users, stop_step, s);
		s->users = NULL;
	}
	if (s->outq != NULL) {
		s->stop_waits++;
		outq_close(s->outq, SLACK_OUT_FLUSH_MS, stop_step, s);
		s->outq = NULL;
	}
	if (s->link != NULL) {
		s->stop_waits++;
		ws_link_stop(s->link, stop_step, s);
		s->link = NULL;
	}
	uv_close((uv_handle_t *)&s->auth_timer, on_auth_timer_closed);
}

static const struct adapter_ops slack_ops = {
	.name = "slack",
	.start = slack_start,
	.post = slack_post,
	.update = slack_update,
	.stop = slack_stop,
};

struct adapter *
slack_adapter_new(const struct adapter_host *host, char *err, size_t errlen)
{
	const struct cfg_slack *c = &host->cfg->slack;
	struct slack *s;
	size_t n;

	if (c->bot_token.value == NULL || c->bot_token.value[0] == '\0') {
		ack_err(err, errlen, "slack: the bot token (slack.bot_token) is not set");
		return NULL;
	}
	if (c->app_token.value == NULL || c->app_token.value[0] == '\0') {
		ack_err(err, errlen, "slack: the app-level token (slack.app_token) is not set");
		return NULL;
	}
	if (host->http == NULL) {
		ack_err(err, errlen, "slack: no HTTP client (host.http)");
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->base.ops = &slack_ops;
	s->base.host = *host;
	s->cfg = c;
	n = c->max_message_chars;
	if (n < 64)
		n = 4000;
	if (n > SLACK_TEXT_MAX)
		n = SLACK_TEXT_MAX;
	s->base.max_text = n;
	s->base.supports_buttons = c->buttons;
	s->base.supports_threads = true;
	n = strlen(c->api_url ? c->api_url : "");
	s->api_url = n > 0 && c->api_url[n - 1] == '/' ? xstrdup(c->api_url) :
	    xasprintf("%s/", c->api_url ? c->api_url : "https://slack.com/api");
	TAILQ_INIT(&s->calls);
	uv_timer_init(host->loop, &s->auth_timer);
	s->auth_timer.data = s;
	backoff_init(&s->auth_bo, 1000, 60000, 50);
	s->dedupe = slack_dedupe_new(SLACK_DEDUPE);
	s->users = slack_users_new(s);
	s->outq = slack_out_new(s);
	return &s->base;
}
