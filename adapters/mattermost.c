/*
 * mattermost.c - the Mattermost adapter (see mattermost.h): the websocket
 * session (connect, resume, sequence, hello), events to the core, and the
 * outgoing queue of posts over REST.
 *
 * The pieces: mm_rest.c builds the REST requests and reads their answers,
 * mm_events.c reads frames and posted events (pure, unit-tested), ws.c
 * keeps the websocket up (pings, idle timeout, reconnects with backoff),
 * outq.c keeps posts in order per channel with 429/5xx handling.
 *
 * Every reconnection starts with GET /users/me (ws.c asks for a URL through
 * want_url): it proves the token still works before the upgrade, because a
 * bad token on the upgrade does not fail the handshake (the server only
 * closes an unauthenticated socket after some seconds, with no error).
 */
#include "adapters/mattermost.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/mm_events.h"
#include "adapters/mm_rest.h"
#include "adapters/outq.h"
#include "adapters/ws.h"
#include "bot/http_client.h"
#include "bot/log.h"
#include "bot/output.h"
#include "bot/util.h"
#include "config/config.h"

#define MM_DEFAULT_MAX_TEXT 16383       /* code points per post */
#define MM_MAX_EVENT_BYTES (4u * 1024 * 1024)   /* one websocket message */
#define MM_PING_AFTER_S 30              /* our pings (the server's come every 60 s) */
#define MM_HANGUP_AFTER_S 75            /* no pong by then: reconnect */
#define MM_ME_TIMEOUT_MS 15000
#define MM_STOP_FLUSH_MS 10000          /* posts still queued at stop */
#define MM_RESUME_GIVE_UP 3             /* resumes closed at once before a fresh start */
#define MM_LOG_FRAME 200                /* bytes of a bad frame shown in the log */

struct mm_job {
	struct mm *mm;
	bool patch;                     /* PUT /posts/{id}/patch, else POST /posts */
	char *channel_id;
	char *root_id;                  /* NULL: not in a thread */
	char *post_id;                  /* patch: the post to change */
	char *text;
	chat_post_cb cb;
	void *arg;
	struct outq_job *qjob;
	struct http_request *req;       /* in flight */
	char *result_id;
};

struct mm {
	struct adapter base;
	const struct cfg_mattermost *cfg;
	uv_loop_t *loop;
	struct mm_rest rest;
	char *ws_url;
	char url_log[256];
	struct mm_session sess;
	struct ws_link *link;
	struct outq *q;

	struct http_request *me_req;    /* GET /users/me in flight */
	bool signed_in;                 /* /users/me answered once */

	struct ws_conn *conn;           /* the connection events are read from */
	bool conn_resuming;             /* it asked to resume sess.conn_id */
	bool conn_alive;                /* a frame came on it */
	uint64_t conn_opened_ms;
	bool want_resume;               /* the next connection resumes */
	unsigned resume_failures;

	unsigned long events, delivered, bad_frames;
	bool ended;                     /* host.on_end called */
	bool started;
	bool stopping;
	int stop_pending;
	void (*stopped)(void *);
	void *stopped_arg;
};

static void mm_fatal(struct mm *mm, const char *fmt, ...) ACK_PRINTF(2, 3);

static void
mm_fatal(struct mm *mm, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	if (mm->ended || mm->stopping)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	mm->ended = true;
	mm->base.host.on_end(mm->base.host.arg, 1, why);
}

static void
log_frame(const char *what, const char *data, size_t len)
{
	char esc[MM_LOG_FRAME * 4 + 8];

	log_escape(esc, sizeof esc, data, len > MM_LOG_FRAME ? MM_LOG_FRAME : len);
	log_warn("mattermost: %s; skipped (%zu bytes: %s%s)", what, len, esc,
	    len > MM_LOG_FRAME ? "..." : "");
}

/* ---- connecting: /users/me, then the websocket -------------------------- */

static void
connect_ws(struct mm *mm, struct ws_link *l)
{
	struct ws_header h = { "Authorization", mm->rest.auth };
	char *url;

	if (mm->want_resume && mm->sess.conn_id[0] != '\0') {
		url = xasprintf("%s?connection_id=%s&sequence_number=%lld", mm->ws_url,
		    mm->sess.conn_id, (long long)mm->sess.next_seq);
		log_info("mattermost: resuming connection %s from event %lld", mm->sess.conn_id,
		    (long long)mm->sess.next_seq);
		mm->conn_resuming = true;
	} else {
		url = xstrdup(mm->ws_url);
		mm->conn_resuming = false;
	}
	(void)ws_link_connect(l, url, &h, 1);  /* on failure it retries by itself */
	free(url);
}

static void
on_me(const struct http_response *resp, void *arg)
{
	struct mm *mm = arg;
	struct ws_link *l = mm->link;
	char desc[512];
	json_t *j;
	const char *id, *name;

	mm->me_req = NULL;
	if (mm->stopping || mm->ended)
		return;
	mm_rest_describe(resp, desc, sizeof desc);
	switch (mm_rest_classify(resp, 200)) {
	case MM_REST_OK:
		break;
	case MM_REST_AUTH:
		mm_fatal(mm, "mattermost: the server refused the bot token (%s); check "
		    "[mattermost] token: the bot account must be enabled and the token valid",
		    desc);
		return;
	case MM_REST_TLS:
		if (!mm->signed_in) {
			mm_fatal(mm, "mattermost: cannot connect to %s securely: %s (is the "
			    "certificate valid for this host? For a private CA set "
			    "[mattermost] ca_file)", mm->url_log, desc);
			return;
		}
		ws_link_url_failed(l, 0, desc);
		return;
	case MM_REST_RATE_LIMITED:
		ws_link_url_failed(l, mm_rest_retry_after_ms(http_response_header(resp,
		    "Retry-After"), http_response_header(resp, "X-RateLimit-Reset")), desc);
		return;
	default:
		log_warn("mattermost: GET %s/users/me: %s", mm->url_log, desc);
		ws_link_url_failed(l, 0, desc);
		return;
	}
	j = json_loadb(resp->body, resp->body_len, 0, NULL);
	id = json_string_value(json_object_get(j, "id"));
	name = json_string_value(json_object_get(j, "username"));
	if (id == NULL || name == NULL) {
		log_warn("mattermost: GET %s/users/me: no id or username in the answer",
		    mm->url_log);
		json_decref(j);
		ws_link_url_failed(l, 0, "unusable /users/me answer");
		return;
	}
	if (!mm->signed_in) {
		if (mm_session_set_self(&mm->sess, id, name) != 0) {
			json_decref(j);
			mm_fatal(mm, "mattermost: /users/me gave an unusable id or username");
			return;
		}
		mm->base.bot_user_id = mm->sess.self_id;
		mm->signed_in = true;
		log_info("mattermost: signed in to %s as @%s (user id %s%s)", mm->url_log,
		    mm->sess.self_name, mm->sess.self_id,
		    json_is_true(json_object_get(j, "is_bot")) ? ", a bot account" : "");
	} else if (strcmp(id, mm->sess.self_id) != 0) {
		json_decref(j);
		mm_fatal(mm, "mattermost: the token now belongs to another user (%s, was %s)",
		    id, mm->sess.self_id);
		return;
	}
	json_decref(j);
	connect_ws(mm, l);
}

static void
want_url(void *arg, struct ws_link *l)
{
	struct mm *mm = arg;
	char err[ACK_ERR_LEN];

	if (mm->stopping || mm->ended)
		return;
	mm->me_req = mm_rest_send(&mm->rest, "GET", "/users/me", NULL, MM_ME_TIMEOUT_MS,
	    on_me, mm, err, sizeof err);
	if (mm->me_req == NULL)
		ws_link_url_failed(l, 0, err);
}

/* ---- events -------------------------------------------------------------- */

static void
on_open(void *arg, struct ws_conn *c)
{
	struct mm *mm = arg;

	mm->conn = c;
	mm->conn_alive = false;
	mm->conn_opened_ms = uv_now(mm->loop);
	/* A resumed connection gets no hello (only events, if any were
	 * missed); a fresh one is ready at its hello. */
	if (mm->conn_resuming)
		ws_link_ready(mm->link, c);
}

static void
on_hello(struct mm *mm, struct ws_conn *c, const struct mm_frame *f)
{
	char old[MM_MAX_ID + 1];
	bool other = false;

	switch (mm_session_hello(&mm->sess, f->data, f->broadcast, old, sizeof old, &other)) {
	case MM_HELLO_BAD:
		log_warn("mattermost: hello without a usable connection_id; starting over");
		mm->sess.conn_id[0] = '\0';
		mm->want_resume = false;
		ws_conn_close(c, "bad hello");
		if (mm->conn == c)
			mm->conn = NULL;
		return;
	case MM_HELLO_FIRST:
		log_info("mattermost: connected (connection %s, server %s)", mm->sess.conn_id,
		    json_string_value(json_object_get(f->data, "server_version")) ?
		    json_string_value(json_object_get(f->data, "server_version")) : "?");
		break;
	case MM_HELLO_SAME:
		log_info("mattermost: connection %s greeted again", mm->sess.conn_id);
		break;
	case MM_HELLO_NEW:
		log_warn("mattermost: the server started a new connection (%s, was %s): events "
		    "sent while the bot was disconnected may have been missed", mm->sess.conn_id,
		    old);
		break;
	}
	if (other)
		log_warn("mattermost: the websocket belongs to user %s, not to the bot (%s)",
		    json_string_value(json_object_get(f->broadcast, "user_id")),
		    mm->sess.self_id);
	mm->want_resume = true;
	mm->resume_failures = 0;
	ws_link_ready(mm->link, c);
}

static void
on_posted(struct mm *mm, const struct mm_frame *f)
{
	struct mm_post p;
	struct chat_event ev;
	enum mm_post_verdict v;

	v = mm_parse_posted(&mm->sess, f->data, &p);
	switch (v) {
	case MM_POST_RUN:
		mm->delivered++;
		mm_post_to_event(&p, mm->sess.reply_in_thread, &ev);
		log_debug("mattermost: post %s from %s in %s (%c)%s%s", p.id, p.user_id,
		    p.channel_id, p.channel_type, p.mentions_bot ? ", mentions the bot" : "",
		    p.root_id[0] ? ", in a thread" : "");
		mm->base.host.on_event(mm->base.host.arg, &ev);
		break;
	case MM_POST_BAD:
		mm->bad_frames++;
		log_warn("mattermost: posted event %lld skipped: %s", (long long)f->seq, p.why);
		break;
	case MM_POST_DUP:
		log_info("mattermost: post %s already handled (delivered again); ignored", p.id);
		break;
	default:
		log_debug("mattermost: post %s ignored: %s", p.id ? p.id : "?",
		    mm_post_verdict_name(v));
		break;
	}
	mm_post_clear(&p);
}

static void
on_message(void *arg, struct ws_conn *c, const char *data, size_t len, bool binary)
{
	struct mm *mm = arg;
	struct mm_frame f;
	bool gap = false;

	if (c != mm->conn) {
		log_debug("mattermost: frame on websocket #%u, which is being closed: ignored",
		    ws_conn_id(c));
		return;
	}
	mm->conn_alive = true;
	if (binary) {
		mm->bad_frames++;
		log_frame("binary frame", data, len);
		return;
	}
	if (mm_frame_parse(data, len, &f) == MM_FRAME_BAD) {
		char what[200];

		mm->bad_frames++;
		snprintf(what, sizeof what, "malformed frame (%s)", f.why);
		log_frame(what, data, len);
		mm_frame_clear(&f);
		return;
	}
	if (f.kind == MM_FRAME_REPLY) {
		log_debug("mattermost: reply to an action ignored");
		mm_frame_clear(&f);
		return;
	}
	mm->events++;
	if (strcmp(f.event, "hello") == 0) {
		on_hello(mm, c, &f);
		mm_frame_clear(&f);
		return;
	}
	if (!f.has_seq) {
		char what[200];

		mm->bad_frames++;
		snprintf(what, sizeof what, "event %.60s without a seq", f.event);
		log_frame(what, data, len);
		mm_frame_clear(&f);
		return;
	}
	switch (mm_session_seq(&mm->sess, f.seq)) {
	case MM_SEQ_OK:
		break;
	case MM_SEQ_OLD:
		log_debug("mattermost: event %lld (%s) seen before; ignored", (long long)f.seq,
		    f.event);
		mm_frame_clear(&f);
		return;
	case MM_SEQ_GAP:
		/* As the official client does: reconnect and resume from the
		 * first missing event; the server replays them if it still has
		 * them, else starts a new connection (logged at its hello).
		 * This event is handled now; its replay will be a duplicate. */
		log_warn("mattermost: events missing on connection %s: expected %lld, got %lld; "
		    "reconnecting to resume from %lld", mm->sess.conn_id,
		    (long long)mm->sess.next_seq, (long long)f.seq, (long long)mm->sess.next_seq);
		gap = true;
		break;
	}
	if (mm_event_wanted(f.event)) {
		if (f.data == NULL) {
			mm->bad_frames++;
			log_frame("posted event without data", data, len);
		} else {
			on_posted(mm, &f);
		}
	} else {
		log_debug("mattermost: event %lld %s ignored", (long long)f.seq, f.event);
	}
	mm_frame_clear(&f);
	if (gap && mm->conn == c && !mm->stopping) {
		mm->conn = NULL;
		ws_conn_close(c, "events missing (seq gap)");
	}
}

static void
on_closed(void *arg, struct ws_conn *c, bool was_ready, const char *why)
{
	struct mm *mm = arg;
	bool current = c == mm->conn;

	if (current)
		mm->conn = NULL;
	if (strstr(why, "-byte limit") != NULL && mm->want_resume && current) {
		/* The next event was too big to read: resuming from it would
		 * bring it back forever. Skip exactly that one. */
		log_error("mattermost: event %lld was larger than %u bytes and is skipped",
		    (long long)mm->sess.next_seq, MM_MAX_EVENT_BYTES);
		mm->sess.next_seq++;
	}
	if (current && mm->conn_resuming && !mm->conn_alive &&
	    uv_now(mm->loop) - mm->conn_opened_ms < 3000) {
		if (++mm->resume_failures >= MM_RESUME_GIVE_UP) {
			log_warn("mattermost: connection %s cannot be resumed; starting a new "
			    "one: events may have been missed", mm->sess.conn_id);
			mm->want_resume = false;
			mm->resume_failures = 0;
		}
	} else if (current && mm->conn_alive) {
		mm->resume_failures = 0;
	}
	if (mm->want_resume && mm->sess.conn_id[0] != '\0')
		log_info("mattermost: will resume connection %s from event %lld",
		    mm->sess.conn_id, (long long)mm->sess.next_seq);
	(void)was_ready;
}

/* ---- posting ------------------------------------------------------------- */

static void
job_free(struct mm_job *j)
{
	free(j->channel_id);
	free(j->root_id);
	free(j->post_id);
	free(j->text);
	free(j->result_id);
	free(j);
}

static void
on_post_done(const struct http_response *resp, void *arg)
{
	struct mm_job *j = arg;
	struct mm *mm = j->mm;
	char desc[512];
	json_t *body;
	const char *id;

	j->req = NULL;
	mm_rest_describe(resp, desc, sizeof desc);
	switch (mm_rest_classify(resp, j->patch ? 200 : 201)) {
	case MM_REST_OK:
		body = json_loadb(resp->body, resp->body_len, 0, NULL);
		id = json_string_value(json_object_get(body, "id"));
		j->result_id = id != NULL ? xstrdup(id) : NULL;
		if (body != NULL)
			json_decref(body);
		log_debug("mattermost: %s %s in %s (%llu ms)", j->patch ? "updated" : "posted",
		    j->result_id ? j->result_id : "?", j->channel_id,
		    (unsigned long long)resp->elapsed_ms);
		outq_complete(j->qjob, OUTQ_DONE, 0, NULL);
		return;
	case MM_REST_RATE_LIMITED:
		outq_complete(j->qjob, OUTQ_RATE_LIMITED, mm_rest_retry_after_ms(
		    http_response_header(resp, "Retry-After"),
		    http_response_header(resp, "X-RateLimit-Reset")), desc);
		return;
	case MM_REST_RETRY:
	case MM_REST_TLS:
		outq_complete(j->qjob, OUTQ_RETRY, 0, desc);
		return;
	case MM_REST_AUTH:
		log_error("mattermost: %s in %s refused: %s", j->patch ? "update" : "post",
		    j->channel_id, desc);
		outq_complete(j->qjob, OUTQ_FAILED, 0, desc);
		mm_fatal(mm, "mattermost: the server no longer accepts the bot token (%s)", desc);
		return;
	case MM_REST_FAILED:
		log_error("mattermost: %s in %s failed: %s", j->patch ? "update" : "post",
		    j->channel_id, desc);
		outq_complete(j->qjob, OUTQ_FAILED, 0, desc);
		return;
	}
}

static void
q_send(void *arg, struct outq_job *qjob, void *data)
{
	struct mm *mm = arg;
	struct mm_job *j = data;
	char err[ACK_ERR_LEN], *path;
	json_t *body;

	j->qjob = qjob;
	if (j->patch) {
		body = json_pack("{s:s}", "message", j->text);
		path = xasprintf("/posts/%s/patch", j->post_id);
	} else {
		body = json_pack("{s:s,s:s}", "channel_id", j->channel_id, "message", j->text);
		if (j->root_id != NULL)
			json_object_set_new(body, "root_id", json_string(j->root_id));
		path = xstrdup("/posts");
	}
	if (body == NULL) {
		free(path);
		outq_complete(qjob, OUTQ_FAILED, 0, "the text is not valid UTF-8");
		return;
	}
	j->req = mm_rest_send(&mm->rest, j->patch ? "PUT" : "POST", path, body, 0,
	    on_post_done, j, err, sizeof err);
	json_decref(body);
	free(path);
	if (j->req == NULL)
		outq_complete(qjob, OUTQ_FAILED, 0, err);
}

static void
q_cancel(void *arg, struct outq_job *qjob, void *data)
{
	struct mm_job *j = data;

	(void)arg;
	(void)qjob;
	if (j->req != NULL) {
		http_request_cancel(j->req);
		j->req = NULL;
	}
}

static void
q_done(void *arg, void *data, bool ok, const char *error)
{
	struct mm_job *j = data;

	(void)arg;
	if (j->cb != NULL)
		j->cb(j->arg, ok, ok ? j->result_id : NULL, ok ? NULL : error);
	job_free(j);
}

static bool
usable_id(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > MM_MAX_ID)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static int
push_job(struct mm *mm, bool patch, const char *channel, const char *root,
    const char *post_id, const char *text, size_t len, chat_post_cb cb, void *arg)
{
	struct mm_job *j = xcalloc(1, sizeof *j);

	j->mm = mm;
	j->patch = patch;
	j->channel_id = xstrdup(channel);
	j->root_id = root != NULL && root[0] != '\0' ? xstrdup(root) : NULL;
	j->post_id = post_id != NULL ? xstrdup(post_id) : NULL;
	j->text = xstrndup(text, len);
	j->cb = cb;
	j->arg = arg;
	if (outq_push(mm->q, channel, j) != 0) {
		job_free(j);
		return -1;
	}
	return 0;
}

/* The core splits to max_text already; this guards against a caller that
 * did not (a post over the limit gets a 400 from the server). Only the
 * first part reports to cb. */
static int
post_text(struct mm *mm, bool patch, const char *channel, const char *root,
    const char *post_id, const char *text, chat_post_cb cb, void *arg)
{
	struct output_opts oo;
	struct output_chunks ch;
	char err[ACK_ERR_LEN];
	size_t i, n = strlen(text);
	int rc = 0;

	if (utf8_count(text, n) <= mm->base.max_text)
		return push_job(mm, patch, channel, root, post_id, text, n, cb, arg);
	memset(&oo, 0, sizeof oo);
	oo.max = mm->base.max_text;
	oo.unit = OUTPUT_CODEPOINTS;
	if (output_split(text, n, &oo, &ch, err, sizeof err) != 0 || ch.n == 0) {
		log_error("mattermost: cannot split a long message: %s", err);
		output_chunks_free(&ch);
		return -1;
	}
	log_info("mattermost: a message of %zu characters is sent in %zu parts",
	    utf8_count(text, n), ch.n);
	for (i = 0; i < ch.n && rc == 0; i++) {
		/* an update replaces the post with the first part; the rest
		 * follow as new posts in the same channel and thread */
		rc = push_job(mm, patch && i == 0, channel, root, i == 0 ? post_id : NULL,
		    ch.v[i], ch.len[i], i == 0 ? cb : NULL, i == 0 ? arg : NULL);
	}
	output_chunks_free(&ch);
	return rc;
}

static int
mm_post(struct adapter *a, const struct chat_post *p, chat_post_cb cb, void *arg)
{
	struct mm *mm = (struct mm *)a;

	if (mm->stopping || p == NULL || !usable_id(p->channel_id))
		return -1;
	if (p->thread_id != NULL && p->thread_id[0] != '\0' && !usable_id(p->thread_id))
		return -1;
	if (p->text == NULL || p->text[0] == '\0')
		return -1;
	return post_text(mm, false, p->channel_id, p->thread_id, NULL, p->text, cb, arg);
}

static int
mm_update(struct adapter *a, const char *channel_id, const char *message_id,
    const struct chat_post *p, chat_post_cb cb, void *arg)
{
	struct mm *mm = (struct mm *)a;

	if (mm->stopping || p == NULL || !usable_id(channel_id) || !usable_id(message_id))
		return -1;
	if (p->text == NULL || p->text[0] == '\0')
		return -1;
	return post_text(mm, true, channel_id, p->thread_id, message_id, p->text, cb, arg);
}

/* ---- start and stop ------------------------------------------------------ */

static int
mm_start(struct adapter *a, char *err, size_t errlen)
{
	struct mm *mm = (struct mm *)a;
	struct ws_link_opts wo;
	struct ws_link_cbs wc;

	if (mm->started)
		return ack_err(err, errlen, "mattermost: already started");
	mm->started = true;
	memset(&wo, 0, sizeof wo);
	wo.name = "mattermost";
	wo.ca_file = mm->cfg->ca_file;
	wo.max_message = MM_MAX_EVENT_BYTES;
	wo.ping_after_s = MM_PING_AFTER_S;
	wo.hangup_after_s = MM_HANGUP_AFTER_S;
	memset(&wc, 0, sizeof wc);
	wc.want_url = want_url;
	wc.on_open = on_open;
	wc.on_message = on_message;
	wc.on_closed = on_closed;
	mm->link = ws_link_new(mm->loop, &wo, &wc, mm, err, errlen);
	if (mm->link == NULL)
		return -1;
	log_info("mattermost: connecting to %s", mm->url_log);
	ws_link_start(mm->link);
	return 0;
}

static void
mm_free(struct mm *mm)
{
	mm_session_free(&mm->sess);
	mm_rest_free(&mm->rest);
	free(mm->ws_url);
	free(mm);
}

static void
part_stopped(void *arg)
{
	struct mm *mm = arg;
	void (*stopped)(void *) = mm->stopped;
	void *sarg = mm->stopped_arg;

	if (--mm->stop_pending > 0)
		return;
	log_info("mattermost: stopped (%lu events, %lu posts handled, %lu bad frames)",
	    mm->events, mm->delivered, mm->bad_frames);
	mm_free(mm);
	if (stopped != NULL)
		stopped(sarg);
}

static void
mm_stop(struct adapter *a, void (*stopped)(void *), void *arg)
{
	struct mm *mm = (struct mm *)a;

	if (mm->stopping)
		return;
	mm->stopping = true;
	mm->stopped = stopped;
	mm->stopped_arg = arg;
	if (mm->me_req != NULL) {
		http_request_cancel(mm->me_req);
		mm->me_req = NULL;
	}
	mm->conn = NULL;
	mm->stop_pending = mm->link != NULL ? 2 : 1;
	if (outq_pending(mm->q) > 0)
		log_info("mattermost: sending %zu queued post%s before stopping",
		    outq_pending(mm->q), outq_pending(mm->q) == 1 ? "" : "s");
	if (mm->link != NULL)
		ws_link_stop(mm->link, part_stopped, mm);
	outq_close(mm->q, MM_STOP_FLUSH_MS, part_stopped, mm);
}

static const struct adapter_ops mm_ops = {
	.name = "mattermost",
	.start = mm_start,
	.post = mm_post,
	.update = mm_update,
	.stop = mm_stop,
};

struct adapter *
mattermost_adapter_new(const struct adapter_host *host, char *err, size_t errlen)
{
	const struct cfg_mattermost *mc;
	struct outq_opts qo;
	struct outq_ops qops;
	struct mm *mm;
	char *u;

	if (host == NULL || host->cfg == NULL || !host->cfg->mattermost.present) {
		ack_err(err, errlen, "mattermost: the [mattermost] table is missing");
		return NULL;
	}
	mc = &host->cfg->mattermost;
	if (host->http == NULL) {
		ack_err(err, errlen, "mattermost: no HTTP client given to the adapter");
		return NULL;
	}
	mm = xcalloc(1, sizeof *mm);
	if (mm_rest_init(&mm->rest, host->http, mc->url, mc->token.value, mc->ca_file, err,
	    errlen) != 0) {
		free(mm);
		return NULL;
	}
	mm->ws_url = mm_ws_url(mc->url);
	u = http_url_for_log(mc->url);
	snprintf(mm->url_log, sizeof mm->url_log, "%s", u ? u : "?");
	free(u);
	mm->base.ops = &mm_ops;
	mm->base.host = *host;
	mm->base.max_text = mc->max_message_chars > 0 &&
	    mc->max_message_chars <= MM_DEFAULT_MAX_TEXT ? mc->max_message_chars :
	    MM_DEFAULT_MAX_TEXT;
	mm->base.supports_buttons = false;
	mm->base.supports_threads = true;
	mm->base.bot_user_id = NULL;
	mm->cfg = mc;
	mm->loop = host->loop;
	mm_session_init(&mm->sess, mc->ignore_bots, mc->reply_in_thread);

	memset(&qo, 0, sizeof qo);
	qo.name = "mattermost";
	qo.default_retry_after_ms = 1000;       /* a 429 without headers */
	qo.rate_limit_all = true;               /* the server limits per client */
	qo.burst = 100;                         /* the server's default bucket */
	qo.per_sec = 10;
	memset(&qops, 0, sizeof qops);
	qops.send = q_send;
	qops.cancel = q_cancel;
	qops.done = q_done;
	mm->q = outq_new(host->loop, &qo, &qops, mm);
	return &mm->base;
}
