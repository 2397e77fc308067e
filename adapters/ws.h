/*
 * ws.h - the shared websocket client: libwebsockets 4.1 on the bot's libuv
 * loop (design/c-style.md §6), used by the Slack and Mattermost adapters.
 *
 * A struct ws_link is a nailed-up connection to one service. It asks its
 * owner for a URL whenever it needs a connection (want_url: the owner may
 * fetch a fresh single-use URL, asynchronously, and answers with
 * ws_link_connect() or ws_link_url_failed()), connects, reports messages,
 * and reconnects after failures with jittered exponential backoff that
 * resets once a connection has stayed healthy for a while. A link may hold
 * two connections for a moment: ws_link_refresh() opens a new one and the
 * old one is closed only when the new one is ready (make-before-break).
 *
 * Safety and limits, not configurable: wss:// verifies the certificate chain
 * and the host name (a CA file may replace the system store; there is no way
 * to turn verification off); every message has a hard maximum size (a
 * bigger one closes the connection, which is then re-established); the
 * outgoing queue of a connection has a hard maximum and is written only
 * from LWS_CALLBACK_CLIENT_WRITEABLE; websocket pings are sent after a
 * quiet period and a connection that shows no sign of life is hung up.
 * Host names are resolved with uv_getaddrinfo (lws 4.1 on Debian resolves
 * with a blocking call), so nothing here blocks the loop.
 *
 * One lws context serves the whole process. It is created by the first
 * ws_link_new(); when the last link has stopped it is destroyed the first
 * time (from a uv callback, outside lws); after uv_run() has returned the
 * program must call ws_context_final_destroy() (libwebsockets 4.1 on a
 * foreign loop frees the context only on that second call), before
 * uv_loop_close().
 *
 * Ownership: a link is created by ws_link_new() and freed by ws_link_stop()
 * (its stopped callback runs once it is gone). Connections belong to the
 * link; a struct ws_conn pointer handed to a callback stays valid until the
 * on_closed callback for that connection has returned.
 */
#ifndef ACKBOT_WS_H
#define ACKBOT_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct ws_link;
struct ws_conn;

#define WS_DEFAULT_MAX_MESSAGE (1024u * 1024u)  /* bytes per message */
#define WS_DEFAULT_MAX_QUEUE (1024u * 1024u)    /* bytes queued per connection */
#define WS_MAX_CONNS 3                          /* per link, handover included */

struct ws_link_opts {
	const char *name;               /* for logs: "slack" */
	const char *ca_file;            /* PEM file of CAs trusted instead of the
	                                 * system store; NULL = system store */
	size_t max_message;             /* 0 = WS_DEFAULT_MAX_MESSAGE */
	size_t max_queue;               /* 0 = WS_DEFAULT_MAX_QUEUE */
	unsigned ping_after_s;          /* ping after this long without a pong; 0 = 5 */
	unsigned hangup_after_s;        /* hang up after this long; 0 = 20 */
	unsigned ready_timeout_s;       /* open but not ws_link_ready() by then:
	                                 * close; 0 = 15 */
	unsigned connect_timeout_s;     /* TCP + TLS + upgrade; 0 = 15 */
	uint64_t backoff_base_ms;       /* first reconnect delay; 0 = 1000 */
	uint64_t backoff_max_ms;        /* 0 = 60000 */
	uint64_t healthy_ms;            /* ready this long: backoff resets; 0 = 30000 */
};

struct ws_header {
	const char *name;               /* "Authorization" */
	const char *value;
};

struct ws_link_cbs {
	/* The link needs a connection: obtain a URL, then call
	 * ws_link_connect() or ws_link_url_failed(), now or later. */
	void (*want_url)(void *arg, struct ws_link *l);
	/* The websocket handshake completed (may be NULL). */
	void (*on_open)(void *arg, struct ws_conn *c);
	/* One complete message (text unless binary); data is NUL-terminated
	 * and valid only during the call. */
	void (*on_message)(void *arg, struct ws_conn *c, const char *data, size_t len,
	    bool binary);
	/* The connection is gone (may be NULL). why is a short description. */
	void (*on_closed)(void *arg, struct ws_conn *c, bool was_ready, const char *why);
};

/*
 * Creates a link (nothing connects before ws_link_start()). opts and cbs are
 * copied (strings too). Returns NULL with err filled if the websocket
 * context cannot be made (for example the libwebsockets-evlib-uv package is
 * missing) or the CA file is unusable.
 */
struct ws_link *ws_link_new(uv_loop_t *loop, const struct ws_link_opts *opts,
    const struct ws_link_cbs *cbs, void *arg, char *err, size_t errlen);
/* Asks for the first URL (want_url runs from the loop, not from here). */
void ws_link_start(struct ws_link *l);
/*
 * The answer to want_url: connect to url (ws:// or wss://; copied, never
 * logged with its query string) with extra handshake headers (copied, wiped
 * when freed; may be NULL/0). Returns 0, or -1 if the URL is unusable (the
 * link then retries after a backoff, asking for a new URL).
 */
int ws_link_connect(struct ws_link *l, const char *url, const struct ws_header *headers,
    size_t nheaders);
/* The answer to want_url when no URL could be had: retry after the backoff,
 * and not before min_delay_ms (a Retry-After, say). */
void ws_link_url_failed(struct ws_link *l, uint64_t min_delay_ms, const char *why);
/*
 * The application saw what it waits for on c (Slack's hello): c becomes the
 * connection ws_link_send() uses, older connections are closed gracefully,
 * and the healthy period starts.
 */
void ws_link_ready(struct ws_link *l, struct ws_conn *c);
/* The server wants c replaced (c may be NULL): open a new connection now and
 * close c once the new one is ready. */
void ws_link_refresh(struct ws_link *l, struct ws_conn *c, const char *why);
/* Do not connect again before min_delay_ms from now (too many connections). */
void ws_link_penalize(struct ws_link *l, uint64_t min_delay_ms);
/* Sends a text message on the ready connection; -1 if there is none or its
 * queue is full. */
int ws_link_send(struct ws_link *l, const char *data, size_t len);
/* true if a connection is ready. */
bool ws_link_is_ready(const struct ws_link *l);
/*
 * Closes every connection (gracefully, with a Close frame, for up to about
 * two seconds), cancels timers, then frees the link and calls stopped(arg)
 * from a uv callback. If this was the last link, the lws context has been
 * destroyed (first call) by then. Callbacks stop at once.
 */
void ws_link_stop(struct ws_link *l, void (*stopped)(void *arg), void *arg);

/* Queues a text message on c; -1 if c is closing or its queue is full. */
int ws_conn_send(struct ws_conn *c, const char *data, size_t len);
/* Closes c gracefully (Close 1000); on_closed follows. */
void ws_conn_close(struct ws_conn *c, const char *why);
/* A small number naming c in logs (1, 2, ...). */
unsigned ws_conn_id(const struct ws_conn *c);
bool ws_conn_is_ready(const struct ws_conn *c);

/*
 * The second lws_context_destroy(): call once after uv_run() has returned
 * and before uv_loop_close(). Safe if no link was ever made.
 */
void ws_context_final_destroy(void);

/* ---- pure helpers, exposed for tests ---- */

struct ws_url {
	bool tls;                       /* wss */
	char host[256];                 /* without brackets for IPv6 */
	int port;
	char path[2048];                /* with the query; "/" at least */
};

/* Parses a ws:// or wss:// URL. Returns 0, or -1 with err filled. */
int ws_url_parse(const char *url, struct ws_url *u, char *err, size_t errlen);
/* Copies url without its query string and fragment (for logs). */
void ws_url_for_log(const char *url, char *out, size_t outlen);

#endif
