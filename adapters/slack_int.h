/*
 * slack_int.h - what the Slack adapter's files share (not for the core):
 *   slack.c         lifecycle, Web API calls, the websocket link, frames;
 *   slack_text.c    Slack markup to plain text, and escaping for posts;
 *   slack_events.c  envelope parsing, message filtering, dedupe;
 *   slack_users.c   users.info cache; events held until names are known;
 *   slack_out.c     post and update bodies, the outgoing queue.
 * The parsing and text functions are pure and unit-tested on their own.
 */
#ifndef ACKBOT_SLACK_INT_H
#define ACKBOT_SLACK_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <uv.h>

#include "adapters/adapter.h"
#include "adapters/backoff.h"
#include "bot/util.h"

struct cfg_slack;
struct ws_link;
struct ws_conn;
struct outq;
struct slack_users;
struct slack_dedupe;
struct http_request;

/* ---- slack_text.c --------------------------------------------------------- */

#define SLACK_ID_MAX 32         /* U…, C…, B… ids are short upper-case tokens */
#define SLACK_NAME_MAX 80       /* longest user name kept */

/* true if s is a plausible Slack id: 2..SLACK_ID_MAX of [A-Z0-9]. */
bool slack_id_valid(const char *s, size_t n);

struct slack_decode {
	const char *self_id;    /* the bot's user id: its mention is removed */
	/* A display name for a user id, or NULL to show the id. */
	const char *(*name)(void *arg, const char *user_id);
	void *arg;
};

/*
 * Slack markup to plain text: &amp; &lt; &gt; decoded; <@U…> → @name (the
 * bot's own mention removed, and *mentions_bot set); <#C…|name> → #name;
 * <!here> → @here; <url|label> → label when the label is the URL as typed,
 * else "label (url)"; <url> → url. Returns a malloc'd string.
 */
char *slack_text_decode(const char *text, size_t len, const struct slack_decode *d,
    bool *mentions_bot);
/* Calls fn(arg, id) for each user mention <@U…> without a label, the bot's
 * own excepted. */
void slack_text_users(const char *text, size_t len, const char *self_id,
    void (*fn)(void *arg, const char *id), void *arg);
/* Escapes & < > for Slack (nothing else). Returns a malloc'd string. */
char *slack_text_escape(const char *text);
/* A name made safe for text: control characters dropped, at most
 * SLACK_NAME_MAX bytes (on a UTF-8 boundary). Returns a malloc'd string,
 * or NULL if nothing is left. */
char *slack_name_clean(const char *name);

/* ---- slack_events.c ------------------------------------------------------- */

enum slack_frame_type {
	SLACK_FRAME_HELLO,
	SLACK_FRAME_DISCONNECT,
	SLACK_FRAME_EVENTS_API,
	SLACK_FRAME_INTERACTIVE,
	SLACK_FRAME_SLASH,
	SLACK_FRAME_OTHER,      /* an envelope of a type we do not use */
};

#define SLACK_ENVELOPE_ID_MAX 128

struct slack_frame {
	enum slack_frame_type type;
	json_t *root;                   /* owned; the strings below point into it */
	const char *type_name;
	const char *envelope_id;        /* NULL for hello and disconnect */
	json_t *payload;                /* envelopes: an object */
	int num_connections;            /* hello */
	long refresh_s;                 /* hello: approximate_connection_time */
	const char *reason;             /* disconnect */
	const char *event_id;           /* events_api; may be NULL */
	int retry_attempt;
	json_t *event;                  /* events_api: payload.event, an object */
};

/* Parses one text frame. Returns 0, or -1 with err saying what is wrong
 * (not JSON, not an object, no type, an envelope without an id, ...); even
 * then envelope_id may be set (the envelope must still be acked). Call
 * slack_frame_free() in every case. */
int slack_frame_parse(const char *data, size_t len, struct slack_frame *f, char *err,
    size_t errlen);
void slack_frame_free(struct slack_frame *f);

struct slack_self {
	const char *user_id;    /* from auth.test */
	const char *bot_id;
	bool ignore_bots;
};

enum slack_verdict {
	SLACK_HANDLE,
	SLACK_IGNORE,           /* fine, but not for us (subtype, own, bot) */
	SLACK_INVALID,          /* fields missing or of the wrong type */
};

struct slack_msg {
	const char *type;       /* "message" or "app_mention" */
	const char *channel;
	const char *channel_type;       /* may be NULL (app_mention) */
	const char *user;
	const char *text;
	const char *ts;
	const char *thread_ts;  /* NULL unless in a thread */
	bool is_direct;
};

/* Decides what to do with an events_api event; fills m (pointing into
 * event) for SLACK_HANDLE; *why says why otherwise. */
enum slack_verdict slack_msg_classify(const json_t *event, const struct slack_self *self,
    struct slack_msg *m, const char **why);

struct slack_action {
	const char *user_id;            /* payload.user.id: who clicked */
	const char *user_name;          /* may be NULL */
	const char *channel;
	const char *message_ts;         /* the message holding the buttons */
	const char *thread_ts;          /* may be NULL */
	const char *action_id;
	const char *value;
};

/* A block_actions payload (one button click). */
enum slack_verdict slack_action_parse(const json_t *payload, struct slack_action *a,
    const char **why);

/* Keys seen recently, in bounded memory: a ring of cap entries and a hash
 * index; the oldest key is forgotten when the ring is full. */
struct slack_dedupe *slack_dedupe_new(size_t cap);
/* true if key was seen (and still remembered); otherwise records it. Keys
 * longer than 127 bytes are compared by hash and prefix. */
bool slack_dedupe_check(struct slack_dedupe *d, const char *key);
size_t slack_dedupe_count(const struct slack_dedupe *d);
void slack_dedupe_free(struct slack_dedupe *d);

/* ---- slack_out.c: bodies --------------------------------------------------- */

#define SLACK_SECTION_MAX 3000  /* Block Kit section text, characters */
#define SLACK_TEXT_MAX 40000    /* chat.postMessage text */

/* JSON bodies (malloc'd); text is plain text, escaped here. */
char *slack_post_body(const char *channel, const char *thread_ts, const char *text,
    const struct chat_button *buttons, size_t nbuttons);
char *slack_update_body(const char *channel, const char *ts, const char *text,
    const struct chat_button *buttons, size_t nbuttons);

/* ---- slack.c: the adapter and its Web API calls ----------------------------- */

enum slack_token { SLACK_TOKEN_BOT, SLACK_TOKEN_APP };

enum slack_api_kind {
	SLACK_API_OK,                   /* HTTP 200, ok:true */
	SLACK_API_ERROR,                /* HTTP 200, ok:false (error holds the code) */
	SLACK_API_RATE_LIMITED,         /* HTTP 429 (or ok:false "ratelimited") */
	SLACK_API_RETRY,                /* 5xx, network, timeout, unreadable reply */
	SLACK_API_TLS,                  /* certificate not verified */
	SLACK_API_HTTP,                 /* another HTTP status (404, ...) */
	SLACK_API_CANCELED,
};

struct slack_api_result {
	enum slack_api_kind kind;
	long status;
	const char *error;              /* Slack's code, or a description */
	uint64_t retry_after_ms;        /* 429 */
	json_t *body;                   /* the reply object, or NULL; borrowed */
};

struct slack;
struct slack_call;
typedef void (*slack_api_cb)(struct slack *s, const struct slack_api_result *r, void *arg);

struct slack_call {
	TAILQ_ENTRY(slack_call) entry;
	struct slack *s;
	struct http_request *req;
	char method[48];
	slack_api_cb cb;
	void *arg;
};
TAILQ_HEAD(slack_callq, slack_call);

struct slack {
	struct adapter base;
	const struct cfg_slack *cfg;
	char *api_url;                  /* ends with '/' */
	char self_user[SLACK_ID_MAX + 1];
	char self_bot[SLACK_ID_MAX + 1];
	bool started;
	bool connected_once;
	bool stopping;
	bool ended;                     /* on_end called */

	struct ws_link *link;
	struct slack_dedupe *dedupe;
	struct slack_users *users;
	struct outq *outq;

	struct slack_callq calls;
	struct slack_call *auth_call;
	struct slack_call *open_call;
	uv_timer_t auth_timer;
	bool auth_timer_open;
	struct backoff auth_bo;

	unsigned stop_waits;            /* link, outq, users, timer */
	void (*stopped)(void *);
	void *stopped_arg;
	unsigned long frames, envelopes, duplicates;
};

/*
 * Calls a Web API method. body is a JSON body for POST (NULL: an empty
 * form); query is for GET ("user=U1"). The callback runs exactly once
 * (SLACK_API_CANCELED when the adapter stops), never from within this
 * call. Returns the call, or NULL if it could not start (cb not called).
 */
struct slack_call *slack_api(struct slack *s, const char *method, enum slack_token tok,
    const char *http_method, const char *query, const char *body, slack_api_cb cb,
    void *arg);
/* Stops a call; its callback is not called. */
void slack_api_cancel(struct slack_call *c);
/* true for error codes that mean the token is no good. */
bool slack_error_is_auth(const char *error);
/* Ends the adapter for good (once): logs, then host.on_end(code, why). */
void slack_fatal(struct slack *s, int code, const char *fmt, ...)
    ACK_PRINTF(3, 4);
/* Hands an event to the core (not while stopping). */
void slack_deliver(struct slack *s, const struct chat_event *ev);

/* ---- slack_users.c --------------------------------------------------------- */

struct slack_users *slack_users_new(struct slack *s);
/* Queues a message until its speaker's and mentioned users' names are
 * known (or a short timeout passes), keeping arrival order; copies m. */
void slack_users_hold_message(struct slack_users *u, const struct slack_msg *m);
void slack_users_hold_action(struct slack_users *u, const struct slack_action *a);
/* Drops held events, cancels lookups, closes the timer; done(arg) follows
 * from a uv callback, after which the cache is freed. */
void slack_users_stop(struct slack_users *u, void (*done)(void *), void *arg);

/* ---- slack_out.c: the queue ------------------------------------------------- */

struct outq *slack_out_new(struct slack *s);
int slack_out_post(struct slack *s, const struct chat_post *p, chat_post_cb cb, void *arg);
int slack_out_update(struct slack *s, const char *channel, const char *ts,
    const struct chat_post *p, chat_post_cb cb, void *arg);

#endif
