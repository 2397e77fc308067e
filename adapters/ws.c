/*
 * ws.c - the shared websocket client (see ws.h): one libwebsockets context
 * on the bot's libuv loop, links that keep a connection up, connections
 * with bounded input and output.
 *
 * Lifetimes. lws holds a pointer to a struct ws_conn (its userdata) from
 * lws_client_connect_via_info() until LWS_CALLBACK_WSI_DESTROY, so the conn
 * is freed there and nowhere else once lws has it. A conn "ends" earlier
 * (CONNECTION_ERROR or CLIENT_CLOSED): it is then taken off its link, which
 * may reconnect, but the memory waits for WSI_DESTROY. A link that stops
 * does not wait for lws forever: after a short grace it leaves the remaining
 * conns to lws (conn->link = NULL; they are killed and freed by lws, at the
 * latest by the context destroy).
 *
 * Timers are uv timers, never lws_sul: a sul scheduled from outside an lws
 * callback is not armed until lws runs again (c-style §6.5). Where this
 * file makes lws schedule something from outside its callbacks
 * (lws_set_timeout, a new connection), it pokes lws with
 * lws_cancel_service() afterwards.
 */
#include <uv.h>
#include <libwebsockets.h>

#include <openssl/x509.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <unistd.h>

#include "adapters/backoff.h"
#include "adapters/ws.h"
#include "bot/log.h"
#include "bot/util.h"

#define WS_PROTO_NAME "ackbot-ws"
#define WS_RX_CHUNK 16384               /* lws receive buffer per callback */
#define WS_STOP_GRACE_MS 2000
#define WS_CONN_MAGIC 0x77736331u       /* "wsc1" */
#define WS_MAX_VHOSTS 8
/* lws 4.1 writes Close frames with write protocol 4 (LWS_WRITE_CLOSE in its
 * private headers; the public enum leaves the slot out, ABI-stable). */
#define WS_WRITE_CLOSE ((enum lws_write_protocol)4)

enum conn_state {
	CS_RESOLVING,           /* uv_getaddrinfo in flight */
	CS_CONNECTING,          /* lws has it: TCP, TLS, upgrade */
	CS_OPEN,                /* upgraded, not yet ready */
	CS_READY,               /* the application said it is ready */
	CS_CLOSING,             /* we asked for a close */
	CS_GONE,                /* ended; memory waits for lws */
};

static const char *const state_names[] = {
	"resolving", "connecting", "open", "ready", "closing", "gone",
};

struct ws_msg {
	TAILQ_ENTRY(ws_msg) entry;
	size_t len;
	unsigned char data[];           /* LWS_PRE + len */
};
TAILQ_HEAD(ws_msgq, ws_msg);

struct ws_conn {
	uint32_t magic;
	TAILQ_ENTRY(ws_conn) entry;
	struct ws_link *link;           /* NULL once left to lws */
	char *name;                     /* the link's name, for logs */
	unsigned id;
	enum conn_state state;
	bool close_requested;
	bool ended;                     /* on_closed done */
	bool in_connect;                /* inside lws_client_connect_via_info */
	bool wsi_gone;                  /* WSI_DESTROY seen while in_connect */
	bool lws_owned;                 /* lws has our pointer */
	struct lws *wsi;

	uv_getaddrinfo_t gai;
	bool gai_active;

	struct ws_url url;
	char url_log[512];
	char host_hdr[300];
	char addr[64];
	struct ws_header *headers;      /* copies, wiped when freed */
	size_t nheaders;

	lws_retry_bo_t retry;           /* lws keeps a pointer to it */
	uint32_t retry_table[1];

	struct buf rx;
	bool rx_active;
	bool rx_binary;
	bool rx_overflow;               /* over the limit: closing with 1009 */
	bool closing_sent;              /* the close handshake has started */
	size_t max_message;

	struct ws_msgq outq;
	size_t out_bytes;
	size_t max_queue;

	unsigned ready_timeout_s;
	uint64_t opened_at;
	uint64_t ready_at;
	int close_code;                 /* from the peer's Close, or 0 */
	char verify_err[128];           /* OpenSSL's verdict on the certificate */
	char why[512];
};
TAILQ_HEAD(ws_connq, ws_conn);

struct ws_link {
	uv_loop_t *loop;
	char *name;
	char *ca_file;
	struct lws_vhost *vh;
	struct ws_link_opts o;          /* numbers only; strings above */
	struct ws_link_cbs cbs;
	void *arg;

	struct ws_connq conns;          /* live (not ended) conns */
	size_t nconns;
	unsigned next_id;

	uv_timer_t timer;
	bool timer_armed;
	bool url_pending;
	bool refresh_wanted;
	bool stopping;
	bool finishing;
	uint64_t penalty_until;
	struct backoff bo;

	void (*stopped)(void *);
	void *stopped_arg;
};

/* The process-wide lws context. */
static struct {
	struct lws_context *cx;         /* NULLed by lws (pcontext) when freed */
	uv_loop_t *loop;
	unsigned users;
	bool destroyed_once;            /* first destroy done, final one pending */
	struct {
		char *ca_file;          /* NULL = system store */
		struct lws_vhost *vh;
	} vhosts[WS_MAX_VHOSTS];
	size_t nvhosts;
	int in_lws;                     /* depth of our protocol callback */
} W;

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);

static const struct lws_protocols ws_protocols[] = {
	{ WS_PROTO_NAME, ws_callback, 0, WS_RX_CHUNK, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void link_conn_ended(struct ws_link *l, struct ws_conn *c, enum conn_state prev,
    bool was_ready);
static void link_schedule(struct ws_link *l, bool immediate);
static void link_finish(struct ws_link *l);

/* ---- small helpers ------------------------------------------------------ */

static void
kick(void)
{
	/* lws_sul caveat: after scheduling something in lws from outside its
	 * callbacks, make it recompute its timer. */
	if (W.in_lws == 0 && W.cx != NULL)
		lws_cancel_service(W.cx);
}

static char *
xstrdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int
ws_url_parse(const char *url, struct ws_url *u, char *err, size_t errlen)
{
	const char *p, *h, *he, *q;
	size_t n;
	long port = -1;

	memset(u, 0, sizeof *u);
	if (url == NULL)
		return ack_err(err, errlen, "no URL");
	if (strncasecmp(url, "wss://", 6) == 0) {
		u->tls = true;
		p = url + 6;
	} else if (strncasecmp(url, "ws://", 5) == 0) {
		p = url + 5;
	} else {
		return ack_err(err, errlen, "not a ws:// or wss:// URL");
	}
	if (*p == '[') {
		h = p + 1;
		he = strchr(h, ']');
		if (he == NULL)
			return ack_err(err, errlen, "unterminated [IPv6] host");
		q = he + 1;
	} else {
		h = p;
		he = h + strcspn(h, ":/?#");
		q = he;
	}
	n = (size_t)(he - h);
	if (n == 0)
		return ack_err(err, errlen, "no host in the URL");
	if (n >= sizeof u->host)
		return ack_err(err, errlen, "host name too long");
	if (memchr(h, '@', n) != NULL)
		return ack_err(err, errlen, "user info in a websocket URL is not supported");
	memcpy(u->host, h, n);
	u->host[n] = '\0';
	if (*q == ':') {
		char *end;

		q++;
		if (!isdigit((unsigned char)*q))
			return ack_err(err, errlen, "bad port in the URL");
		errno = 0;
		port = strtol(q, &end, 10);
		if (errno != 0 || port < 1 || port > 65535)
			return ack_err(err, errlen, "bad port in the URL");
		q = end;
	}
	if (*q != '\0' && *q != '/' && *q != '?' && *q != '#')
		return ack_err(err, errlen, "bad character after the host in the URL");
	u->port = port > 0 ? (int)port : (u->tls ? 443 : 80);
	n = strcspn(q, "#");
	if (n + 2 >= sizeof u->path)
		return ack_err(err, errlen, "URL path too long");
	if (*q != '/') {
		u->path[0] = '/';
		memcpy(u->path + 1, q, n);
		u->path[n + 1] = '\0';
	} else {
		memcpy(u->path, q, n);
		u->path[n] = '\0';
	}
	for (p = u->path; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return ack_err(err, errlen, "space or control character in the URL");
	return 0;
}

void
ws_url_for_log(const char *url, char *out, size_t outlen)
{
	size_t n;

	if (outlen == 0)
		return;
	n = url != NULL ? strcspn(url, "?#") : 0;
	if (n >= outlen)
		n = outlen - 1;
	if (n > 0)
		memcpy(out, url, n);
	out[n] = '\0';
}

/* lws's own log lines go to ours: errors as warnings (we log the error that
 * matters ourselves, with context), nothing else. A ticket in a URL never
 * reaches the log. */
static void
ws_lws_log(int level, const char *line)
{
	char tmp[512];
	size_t n = strlen(line);
	char *t;

	if (n >= sizeof tmp)
		n = sizeof tmp - 1;
	memcpy(tmp, line, n);
	tmp[n] = '\0';
	while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == '\r'))
		tmp[--n] = '\0';
	if ((t = strstr(tmp, "ticket=")) != NULL)
		snprintf(t, sizeof tmp - (size_t)(t - tmp), "ticket=...");
	/* Debian's lws also looks for CAs in its build-time directory after
	 * loading the system store: that miss is harmless. */
	if (strstr(tmp, "LWS_OPENSSL_CLIENT_CERTS") != NULL ||
	    strstr(tmp, "SSL error:") != NULL) {    /* we log the reason ourselves */
		log_debug("libwebsockets: %s", tmp);
		return;
	}
	if (level & LLL_ERR)
		log_warn("libwebsockets: %s", tmp);
	else
		log_debug("libwebsockets: %s", tmp);
}

/* ---- the context -------------------------------------------------------- */

static struct lws_vhost *
context_vhost(const char *ca_file, char *err, size_t errlen)
{
	struct lws_context_creation_info vi;
	struct lws_vhost *vh;
	char name[32];
	size_t i;

	for (i = 0; i < W.nvhosts; i++) {
		const char *f = W.vhosts[i].ca_file;

		if ((f == NULL && ca_file == NULL) ||
		    (f != NULL && ca_file != NULL && strcmp(f, ca_file) == 0))
			return W.vhosts[i].vh;
	}
	if (W.nvhosts == WS_MAX_VHOSTS) {
		ack_err(err, errlen, "websocket: too many different CA files");
		return NULL;
	}
	if (ca_file != NULL && access(ca_file, R_OK) != 0) {
		ack_err(err, errlen, "websocket: cannot read the CA file %s: %s", ca_file,
		    strerror(errno));
		return NULL;
	}
	snprintf(name, sizeof name, "ackbot-ws-%zu", W.nvhosts);
	memset(&vi, 0, sizeof vi);
	vi.port = CONTEXT_PORT_NO_LISTEN;
	vi.protocols = ws_protocols;
	vi.vhost_name = name;
	/* A CA file replaces the system store (as for the HTTP client). */
	vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
	    (ca_file != NULL ? LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS : 0);
	vi.client_ssl_ca_filepath = ca_file;
	vh = lws_create_vhost(W.cx, &vi);
	if (vh == NULL) {
		ack_err(err, errlen, "websocket: cannot set up TLS%s%s", ca_file ?
		    " with the CA file " : "", ca_file ? ca_file : "");
		return NULL;
	}
	W.vhosts[W.nvhosts].ca_file = xstrdup_or_null(ca_file);
	W.vhosts[W.nvhosts].vh = vh;
	W.nvhosts++;
	return vh;
}

static struct lws_vhost *
context_acquire(uv_loop_t *loop, const char *ca_file, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct lws_vhost *vh;
	void *foreign[1];

	if (W.cx == NULL) {
		if (W.destroyed_once) {
			ack_err(err, errlen, "websocket: the client is shutting down");
			return NULL;
		}
		lws_set_log_level(LLL_ERR | LLL_WARN, ws_lws_log);
		memset(&info, 0, sizeof info);
		foreign[0] = loop;
		info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		    LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
		info.foreign_loops = foreign;
		info.pcontext = &W.cx;
		info.port = CONTEXT_PORT_NO_LISTEN;
		info.protocols = ws_protocols;
		info.timeout_secs = 15;
		W.cx = lws_create_context(&info);
		if (W.cx == NULL) {
			ack_err(err, errlen, "websocket: cannot create the libwebsockets context "
			    "(is the libwebsockets-evlib-uv package installed?)");
			return NULL;
		}
		W.loop = loop;
	} else if (W.loop != loop) {
		ack_err(err, errlen, "websocket: one loop per process");
		return NULL;
	}
	vh = context_vhost(ca_file, err, errlen);
	if (vh == NULL) {
		if (W.users == 0) {
			/* Nobody uses it: undo (outside lws here); the final
			 * destroy frees it. */
			lws_context_destroy(W.cx);
			W.destroyed_once = true;
		}
		return NULL;
	}
	W.users++;
	return vh;
}

/* Called outside lws callbacks (from a uv close callback). */
static void
context_release(void)
{
	size_t i;

	if (W.users == 0 || --W.users > 0)
		return;
	for (i = 0; i < W.nvhosts; i++)
		free(W.vhosts[i].ca_file);
	W.nvhosts = 0;
	if (W.cx != NULL) {
		log_debug("websocket: destroying the lws context");
		lws_context_destroy(W.cx);      /* first call: closes its handles */
		W.destroyed_once = true;
	}
}

void
ws_context_final_destroy(void)
{
	size_t i;

	if (W.cx != NULL) {
		lws_context_destroy(W.cx);      /* second call: frees it */
		W.cx = NULL;
	}
	for (i = 0; i < W.nvhosts; i++)
		free(W.vhosts[i].ca_file);
	memset(&W, 0, sizeof W);
}

/* ---- connections -------------------------------------------------------- */

static void
conn_free(struct ws_conn *c)
{
	struct ws_msg *m;
	size_t i;

	while ((m = TAILQ_FIRST(&c->outq)) != NULL) {
		TAILQ_REMOVE(&c->outq, m, entry);
		explicit_bzero(m->data, LWS_PRE + m->len);
		free(m);
	}
	for (i = 0; i < c->nheaders; i++) {
		free((char *)c->headers[i].name);
		wipe_free((char *)c->headers[i].value);
	}
	free(c->headers);
	buf_free(&c->rx);
	explicit_bzero(c->url.path, sizeof c->url.path);
	free(c->name);
	c->magic = 0;
	free(c);
}

static void
conn_drop_queue(struct ws_conn *c)
{
	struct ws_msg *m;

	while ((m = TAILQ_FIRST(&c->outq)) != NULL) {
		TAILQ_REMOVE(&c->outq, m, entry);
		free(m);
	}
	c->out_bytes = 0;
	buf_free(&c->rx);
	buf_init(&c->rx, c->max_message);
}

/* The connection is over for the link (its memory may live on in lws). */
static void
conn_end(struct ws_conn *c, const char *why)
{
	struct ws_link *l = c->link;
	enum conn_state prev = c->state;
	bool was_ready = c->state == CS_READY ||
	    (c->state == CS_CLOSING && c->ready_at != 0);

	if (c->ended)
		return;
	c->ended = true;
	if (why != NULL && c->why[0] == '\0')
		snprintf(c->why, sizeof c->why, "%s", why);
	c->state = CS_GONE;
	conn_drop_queue(c);
	if (l != NULL) {
		TAILQ_REMOVE(&l->conns, c, entry);
		l->nconns--;
		link_conn_ended(l, c, prev, was_ready);
	}
}

static void
conn_start_lws(struct ws_conn *c)
{
	struct ws_link *l = c->link;
	struct lws_client_connect_info i;
	struct lws *wsi;

	memset(&i, 0, sizeof i);
	i.context = W.cx;
	i.vhost = l->vh;
	i.address = c->addr;
	i.port = c->url.port;
	i.path = c->url.path;
	i.host = c->host_hdr;           /* Host header; SNI and the name the
	                                 * certificate must carry */
	i.origin = NULL;
	i.protocol = NULL;
	i.local_protocol_name = WS_PROTO_NAME;
	i.ssl_connection = c->url.tls ? LCCSCF_USE_SSL : 0;
	i.userdata = c;
	i.pwsi = &c->wsi;
	i.retry_and_idle_policy = &c->retry;

	c->state = CS_CONNECTING;
	c->in_connect = true;
	c->lws_owned = true;
	wsi = lws_client_connect_via_info(&i);
	c->in_connect = false;
	kick();
	if (wsi == NULL || c->wsi_gone) {
		/* lws has already let go (or never took it). */
		c->lws_owned = false;
		c->wsi = NULL;
		conn_end(c, "the connection could not be started");
		conn_free(c);
	}
}

static void
on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct ws_conn *c = req->data;
	struct addrinfo *ai, *pick = NULL;
	char why[300];

	c->gai_active = false;
	if (c->link == NULL || c->close_requested) {
		if (res != NULL)
			uv_freeaddrinfo(res);
		conn_end(c, "closed while resolving");
		conn_free(c);
		return;
	}
	if (status != 0) {
		snprintf(why, sizeof why, "cannot resolve %.200s: %s", c->url.host,
		    uv_strerror(status));
		log_warn("%s: websocket #%u to %s: %s", c->name, c->id, c->url_log, why);
		conn_end(c, why);
		conn_free(c);
		return;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	if (pick == NULL)
		for (ai = res; ai != NULL; ai = ai->ai_next)
			if (ai->ai_family == AF_INET6) {
				pick = ai;
				break;
			}
	if (pick == NULL ||
	    (pick->ai_family == AF_INET && uv_ip4_name((struct sockaddr_in *)pick->ai_addr,
	    c->addr, sizeof c->addr) != 0) ||
	    (pick->ai_family == AF_INET6 && uv_ip6_name((struct sockaddr_in6 *)pick->ai_addr,
	    c->addr, sizeof c->addr) != 0)) {
		uv_freeaddrinfo(res);
		snprintf(why, sizeof why, "no usable address for %.200s", c->url.host);
		log_warn("%s: websocket #%u to %s: %s", c->name, c->id, c->url_log, why);
		conn_end(c, why);
		conn_free(c);
		return;
	}
	uv_freeaddrinfo(res);
	log_debug("%s: websocket #%u: connecting to %s (%s port %d)", c->name, c->id,
	    c->url_log, c->addr, c->url.port);
	conn_start_lws(c);
}

int
ws_conn_send(struct ws_conn *c, const char *data, size_t len)
{
	struct ws_msg *m;

	if (c == NULL || c->ended || c->close_requested || c->state == CS_CLOSING ||
	    c->rx_overflow)
		return -1;
	if (c->out_bytes + len > c->max_queue) {
		log_warn("%s: websocket #%u: send queue full (%zu bytes): message dropped",
		    c->name, c->id, c->out_bytes);
		return -1;
	}
	m = xmalloc(sizeof *m + LWS_PRE + len + 1);
	m->len = len;
	memcpy(m->data + LWS_PRE, data, len);
	TAILQ_INSERT_TAIL(&c->outq, m, entry);
	c->out_bytes += len;
	if ((c->state == CS_OPEN || c->state == CS_READY) && c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
	return 0;
}

void
ws_conn_close(struct ws_conn *c, const char *why)
{
	if (c == NULL || c->ended || c->close_requested)
		return;
	c->close_requested = true;
	if (why != NULL)
		snprintf(c->why, sizeof c->why, "%s", why);
	switch (c->state) {
	case CS_RESOLVING:
		uv_cancel((uv_req_t *)&c->gai);    /* its callback finishes */
		break;
	case CS_CONNECTING:
		if (c->wsi != NULL) {
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			kick();
		}
		break;
	case CS_OPEN:
	case CS_READY:
		c->state = CS_CLOSING;
		if (c->wsi != NULL)
			lws_callback_on_writable(c->wsi);
		break;
	default:
		break;
	}
}

unsigned
ws_conn_id(const struct ws_conn *c)
{
	return c != NULL ? c->id : 0;
}

bool
ws_conn_is_ready(const struct ws_conn *c)
{
	return c != NULL && c->state == CS_READY;
}

/* ---- the lws protocol callback ------------------------------------------ */

/*
 * Sends our Close frame (from WRITEABLE only) and gives the peer 3 s to
 * answer with its own, after which lws drops the connection. lws 4.1 has no
 * public call for a polite close from the client side: returning -1 from
 * WRITEABLE is taken for a failed write, and a timeout kill is treated as
 * a violent death; both drop TCP without a Close frame. So the frame is
 * written here, and the peer's answering Close ends the connection (see
 * LWS_CALLBACK_WS_PEER_INITIATED_CLOSE).
 */
static int
conn_close_handshake(struct ws_conn *c, struct lws *wsi, enum lws_close_status status,
    const char *reason)
{
	unsigned char buf[LWS_PRE + 64];
	size_t rl = strlen(reason), n;

	if (rl > 32)
		rl = 32;
	buf[LWS_PRE] = (unsigned char)((int)status >> 8);
	buf[LWS_PRE + 1] = (unsigned char)((int)status & 0xff);
	memcpy(buf + LWS_PRE + 2, reason, rl);
	n = rl + 2;
	c->closing_sent = true;
	if (lws_write(wsi, buf + LWS_PRE, n, WS_WRITE_CLOSE) < (int)n)
		return -1;
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 3);
	return 0;
}

static int
cb_append_headers(struct ws_conn *c, struct lws *wsi, void *in, size_t len)
{
	unsigned char **p = (unsigned char **)in, *end = (*p) + len;
	char name[128];
	size_t i;

	for (i = 0; i < c->nheaders; i++) {
		const char *v = c->headers[i].value;

		snprintf(name, sizeof name, "%s:", c->headers[i].name);
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
		    (const unsigned char *)v, (int)strlen(v), p, end) != 0) {
			snprintf(c->why, sizeof c->why, "handshake headers do not fit");
			return -1;
		}
	}
	return 0;
}

static int
cb_receive(struct ws_conn *c, struct lws *wsi, const char *in, size_t len)
{
	size_t remaining;

	if (c->rx_overflow)
		return 0;               /* the rest of a message we refused */
	if (!c->rx_active) {
		c->rx_active = true;
		c->rx_binary = lws_frame_is_binary(wsi) != 0;
		buf_reset(&c->rx);
	}
	remaining = lws_remaining_packet_payload(wsi);
	if (c->rx.len + len + remaining > c->max_message ||
	    buf_append(&c->rx, in, len) != 0) {
		/* Close from WRITEABLE (returning -1 here, in the middle of a
		 * frame, crashes lws 4.1.6); drop what still comes. */
		snprintf(c->why, sizeof c->why, "a message over the %zu-byte limit "
		    "(%zu bytes so far, %zu more in this frame)", c->max_message,
		    c->rx.len + len, remaining);
		log_warn("%s: websocket #%u: %s: closing, will reconnect", c->name, c->id,
		    c->why);
		c->rx_overflow = true;
		c->rx_active = false;
		buf_reset(&c->rx);
		if (c->state == CS_OPEN || c->state == CS_READY)
			c->state = CS_CLOSING;
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (!lws_is_final_fragment(wsi))
		return 0;
	c->rx_active = false;
	if (c->link != NULL && !c->link->stopping && !c->ended)
		c->link->cbs.on_message(c->link->arg, c, c->rx.data ? c->rx.data : "",
		    c->rx.len, c->rx_binary);
	if (!c->ended)
		buf_reset(&c->rx);
	return 0;
}

static int
cb_writeable(struct ws_conn *c, struct lws *wsi)
{
	struct ws_msg *m = TAILQ_FIRST(&c->outq);
	int n;

	if (c->rx_overflow) {
		if (!c->closing_sent)
			return conn_close_handshake(c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
			    "message too big");
		return 0;
	}
	if (c->closing_sent)
		return 0;
	if (m != NULL && c->link != NULL) {
		/*
		 * Write what is queued while the socket takes it, not one frame
		 * per loop pass: one read can bring many envelopes, and their
		 * acks must not fall behind Slack's 3 s deadline when the bot is
		 * busy. lws_send_pipe_choked() says when a write would be
		 * buffered; the cap keeps one connection from holding the loop.
		 */
		int budget = 64;

		do {
			n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
			if (n < (int)m->len) {
				snprintf(c->why, sizeof c->why, "write failed");
				return -1;
			}
			TAILQ_REMOVE(&c->outq, m, entry);
			c->out_bytes -= m->len;
			free(m);
			m = TAILQ_FIRST(&c->outq);
		} while (m != NULL && --budget > 0 && !lws_send_pipe_choked(wsi));
		if (!TAILQ_EMPTY(&c->outq) || c->close_requested)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if ((c->close_requested || c->link == NULL) && !c->closing_sent)
		/* Queue flushed: Close 1000, then wait for the peer's Close. */
		return conn_close_handshake(c, wsi, LWS_CLOSE_STATUS_NORMAL, "bye");
	return 0;
}

static void
cb_connection_error(struct ws_conn *c, struct lws *wsi, const char *in)
{
	int status = lws_http_client_http_response(wsi);
	const char *what = in != NULL ? in : "connection error";

	if (c->verify_err[0] != '\0')
		snprintf(c->why, sizeof c->why, "TLS certificate of %.200s not accepted: %.120s%s",
		    c->url.host, c->verify_err, strstr(c->verify_err, "mismatch") != NULL ?
		    " (the certificate is not for this host)" :
		    " (for a private CA set the ca_file option)");
	else if (strstr(what, "SSL") != NULL || strstr(what, "ssl") != NULL ||
	    strstr(what, "tls") != NULL)
		snprintf(c->why, sizeof c->why, "%.200s (TLS failed: is the certificate valid "
		    "for %.200s? For a private CA set the ca_file option)", what, c->url.host);
	else if (status > 0 && status != 101)
		snprintf(c->why, sizeof c->why, "%s (HTTP %d)", what, status);
	else
		snprintf(c->why, sizeof c->why, "%s", what);
	log_warn("%s: websocket #%u to %s port %d failed: %s", c->name, c->id, c->url_log,
	    c->url.port, c->why);
}

static int
ws_callback_inner(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct ws_conn *c = user;

	if (reason == LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION) {
		/* user is the X509_STORE_CTX here, in the SSL, len preverify_ok.
		 * Verification stays OpenSSL's; we only keep its reason. */
		c = lws_wsi_user(wsi);
		if (c != NULL && c->magic == WS_CONN_MAGIC && len == 0 && user != NULL) {
			int e = X509_STORE_CTX_get_error((X509_STORE_CTX *)user);

			snprintf(c->verify_err, sizeof c->verify_err, "%s",
			    X509_verify_cert_error_string(e));
		}
		return 0;
	}
	if (c != NULL && c->magic != WS_CONN_MAGIC)
		c = NULL;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (c == NULL)
			return 0;
		return cb_append_headers(c, wsi, in, len);

	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (c == NULL)
			return -1;
		if (c->close_requested || c->link == NULL) {
			c->close_requested = true;
			lws_callback_on_writable(wsi);  /* Close from WRITEABLE */
			return 0;
		}
		c->state = CS_OPEN;
		c->opened_at = ack_now_ms();
		if (c->ready_timeout_s > 0)
			lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, (int)c->ready_timeout_s);
		log_debug("%s: websocket #%u open", c->name, c->id);
		if (c->link->cbs.on_open != NULL)
			c->link->cbs.on_open(c->link->arg, c);
		if (!TAILQ_EMPTY(&c->outq) || c->close_requested)
			lws_callback_on_writable(wsi);
		return 0;

	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c == NULL || c->ended)
			return -1;
		return cb_receive(c, wsi, in, len);

	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		return 0;

	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c == NULL || c->ended)
			return -1;
		return cb_writeable(c, wsi);

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (c != NULL) {
			const unsigned char *b = in;
			int code = len >= 2 ? (b[0] << 8) | b[1] : 0;
			size_t rl = len > 2 ? len - 2 : 0;
			char rs[128];

			c->close_code = code;
			log_escape(rs, sizeof rs, len > 2 ? (const char *)b + 2 : "", rl);
			if (c->closing_sent)
				return -1;      /* the answer to our Close: done */
			if (!c->close_requested)
				snprintf(c->why, sizeof c->why, "the server closed the connection "
				    "(code %d%s%s)", code, rl ? ": " : "", rs);
		}
		return 0;

	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c == NULL)
			return 0;
		if (!c->ended) {
			if (c->close_requested)
				snprintf(c->why, sizeof c->why, "closed while connecting");
			else
				cb_connection_error(c, wsi, in);
		}
		conn_end(c, NULL);
		return 0;

	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c == NULL)
			return 0;
		if (!c->ended && c->why[0] == '\0') {
			if (c->state == CS_OPEN && c->ready_timeout_s > 0 &&
			    ack_now_ms() - c->opened_at >= (uint64_t)c->ready_timeout_s * 1000 - 500)
				snprintf(c->why, sizeof c->why, "not ready within %u s",
				    c->ready_timeout_s);
			else
				snprintf(c->why, sizeof c->why, "connection lost (no answer to "
				    "pings, reset, or closed without a Close frame)");
		}
		conn_end(c, NULL);
		return 0;

	case LWS_CALLBACK_WSI_DESTROY:
		if (c == NULL)
			return 0;
		c->wsi = NULL;
		if (c->in_connect) {
			c->wsi_gone = true;     /* conn_start_lws frees it */
			return 0;
		}
		if (!c->ended)
			conn_end(c, "connection destroyed");
		c->lws_owned = false;
		conn_free(c);
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
    size_t len)
{
	int rc;

	W.in_lws++;
	rc = ws_callback_inner(wsi, reason, user, in, len);
	W.in_lws--;
	return rc;
}

/* ---- links -------------------------------------------------------------- */

static void
on_link_timer(uv_timer_t *t)
{
	struct ws_link *l = t->data;

	l->timer_armed = false;
	if (l->stopping) {
		/* The stop grace is over: leave what is left to lws. */
		link_finish(l);
		return;
	}
	l->url_pending = true;
	l->cbs.want_url(l->arg, l);
}

static bool
link_has_newcomer(const struct ws_link *l)
{
	const struct ws_conn *c;

	TAILQ_FOREACH(c, &l->conns, entry)
		if (!c->close_requested && (c->state == CS_RESOLVING ||
		    c->state == CS_CONNECTING || c->state == CS_OPEN))
			return true;
	return false;
}

static bool
link_has_ready(const struct ws_link *l)
{
	const struct ws_conn *c;

	TAILQ_FOREACH(c, &l->conns, entry)
		if (c->state == CS_READY)
			return true;
	return false;
}

static void
link_schedule(struct ws_link *l, bool immediate)
{
	uint64_t delay = 0, now = ack_now_ms();

	if (l->stopping || l->url_pending || l->timer_armed || link_has_newcomer(l))
		return;
	if (link_has_ready(l) && !l->refresh_wanted)
		return;
	if (!immediate)
		delay = backoff_next(&l->bo, backoff_random());
	if (l->penalty_until > now && l->penalty_until - now > delay)
		delay = l->penalty_until - now;
	if (delay > 0)
		log_info("%s: reconnecting in %llu.%03llu s", l->name,
		    (unsigned long long)(delay / 1000), (unsigned long long)(delay % 1000));
	l->timer_armed = true;
	uv_timer_start(&l->timer, on_link_timer, delay, 0);
}

static void
link_conn_ended(struct ws_link *l, struct ws_conn *c, enum conn_state prev, bool was_ready)
{
	/* Failures before the upgrade were logged where they happened. */
	if (c->close_requested || l->stopping)
		log_info("%s: websocket #%u closed: %s", l->name, c->id,
		    c->why[0] ? c->why : "closed");
	else if (prev == CS_OPEN || prev == CS_READY || prev == CS_CLOSING)
		log_warn("%s: websocket #%u closed: %s", l->name, c->id,
		    c->why[0] ? c->why : "closed");
	if (l->cbs.on_closed != NULL && !l->stopping)
		l->cbs.on_closed(l->arg, c, was_ready, c->why[0] ? c->why : "closed");
	if (l->stopping) {
		if (l->nconns == 0 && !l->finishing) {
			uv_timer_stop(&l->timer);
			l->timer_armed = false;
			link_finish(l);
		}
		return;
	}
	if (was_ready && c->ready_at != 0 && ack_now_ms() - c->ready_at >= l->o.healthy_ms)
		backoff_reset(&l->bo);
	link_schedule(l, false);
}

struct ws_link *
ws_link_new(uv_loop_t *loop, const struct ws_link_opts *opts, const struct ws_link_cbs *cbs,
    void *arg, char *err, size_t errlen)
{
	struct ws_link *l;
	struct lws_vhost *vh;

	if (cbs == NULL || cbs->want_url == NULL || cbs->on_message == NULL) {
		ack_err(err, errlen, "websocket: want_url and on_message are required");
		return NULL;
	}
	vh = context_acquire(loop, opts->ca_file, err, errlen);
	if (vh == NULL)
		return NULL;
	l = xcalloc(1, sizeof *l);
	l->loop = loop;
	l->vh = vh;
	l->name = xstrdup(opts->name ? opts->name : "ws");
	l->ca_file = xstrdup_or_null(opts->ca_file);
	l->o = *opts;
	l->o.name = NULL;
	l->o.ca_file = NULL;
	if (l->o.max_message == 0)
		l->o.max_message = WS_DEFAULT_MAX_MESSAGE;
	if (l->o.max_queue == 0)
		l->o.max_queue = WS_DEFAULT_MAX_QUEUE;
	if (l->o.ping_after_s == 0)
		l->o.ping_after_s = 5;
	if (l->o.hangup_after_s == 0)
		l->o.hangup_after_s = 20;
	if (l->o.hangup_after_s <= l->o.ping_after_s)
		l->o.hangup_after_s = l->o.ping_after_s + 1;
	if (l->o.ready_timeout_s == 0)
		l->o.ready_timeout_s = 15;
	if (l->o.connect_timeout_s == 0)
		l->o.connect_timeout_s = 15;
	if (l->o.backoff_base_ms == 0)
		l->o.backoff_base_ms = 1000;
	if (l->o.backoff_max_ms == 0)
		l->o.backoff_max_ms = 60000;
	if (l->o.healthy_ms == 0)
		l->o.healthy_ms = 30000;
	backoff_init(&l->bo, l->o.backoff_base_ms, l->o.backoff_max_ms, 50);
	l->cbs = *cbs;
	l->arg = arg;
	TAILQ_INIT(&l->conns);
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	return l;
}

void
ws_link_start(struct ws_link *l)
{
	link_schedule(l, true);
}

int
ws_link_connect(struct ws_link *l, const char *url, const struct ws_header *headers,
    size_t nheaders)
{
	struct ws_conn *c;
	struct addrinfo hints;
	char err[ACK_ERR_LEN], ulog[512];
	size_t i;
	int rc;

	l->url_pending = false;
	if (l->stopping)
		return -1;
	ws_url_for_log(url, ulog, sizeof ulog);
	if (l->nconns >= WS_MAX_CONNS) {
		log_warn("%s: already %zu websocket connections: not opening another", l->name,
		    l->nconns);
		link_schedule(l, false);
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	c->magic = WS_CONN_MAGIC;
	if (ws_url_parse(url, &c->url, err, sizeof err) != 0) {
		log_error("%s: unusable websocket URL %s: %s", l->name, ulog, err);
		free(c);
		link_schedule(l, false);
		return -1;
	}
	c->link = l;
	c->name = xstrdup(l->name);
	c->id = ++l->next_id;
	c->state = CS_RESOLVING;
	snprintf(c->url_log, sizeof c->url_log, "%s", ulog);
	if (c->url.port == (c->url.tls ? 443 : 80))
		snprintf(c->host_hdr, sizeof c->host_hdr, "%s", c->url.host);
	else
		snprintf(c->host_hdr, sizeof c->host_hdr, "%s:%d", c->url.host, c->url.port);
	if (nheaders > 0) {
		c->headers = xcalloc(nheaders, sizeof *c->headers);
		for (i = 0; i < nheaders; i++) {
			c->headers[i].name = xstrdup(headers[i].name);
			c->headers[i].value = xstrdup(headers[i].value ? headers[i].value : "");
		}
		c->nheaders = nheaders;
	}
	c->retry_table[0] = 1000;
	c->retry.retry_ms_table = c->retry_table;
	c->retry.retry_ms_table_count = 1;
	c->retry.secs_since_valid_ping = (uint16_t)l->o.ping_after_s;
	c->retry.secs_since_valid_hangup = (uint16_t)l->o.hangup_after_s;
	c->max_message = l->o.max_message;
	c->max_queue = l->o.max_queue;
	c->ready_timeout_s = l->o.ready_timeout_s;
	buf_init(&c->rx, c->max_message);
	TAILQ_INIT(&c->outq);
	TAILQ_INSERT_TAIL(&l->conns, c, entry);
	l->nconns++;

	log_info("%s: websocket #%u: connecting to %s", l->name, c->id, ulog);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	c->gai.data = c;
	c->gai_active = true;
	rc = uv_getaddrinfo(l->loop, &c->gai, on_resolved, c->url.host, NULL, &hints);
	if (rc != 0) {
		c->gai_active = false;
		snprintf(c->why, sizeof c->why, "cannot resolve %.200s: %s", c->url.host,
		    uv_strerror(rc));
		conn_end(c, NULL);
		conn_free(c);
		return -1;
	}
	return 0;
}

void
ws_link_url_failed(struct ws_link *l, uint64_t min_delay_ms, const char *why)
{
	uint64_t now = ack_now_ms();

	l->url_pending = false;
	if (l->stopping)
		return;
	log_warn("%s: no websocket URL: %s", l->name, why ? why : "failed");
	if (min_delay_ms > 0 && now + min_delay_ms > l->penalty_until)
		l->penalty_until = now + min_delay_ms;
	link_schedule(l, false);
}

void
ws_link_ready(struct ws_link *l, struct ws_conn *c)
{
	struct ws_conn *o, *next;

	if (c == NULL || c->link != l || c->ended || c->close_requested)
		return;
	c->state = CS_READY;
	c->ready_at = ack_now_ms();
	l->penalty_until = 0;
	l->refresh_wanted = false;
	if (c->wsi != NULL) {
		lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
		kick();
	}
	for (o = TAILQ_FIRST(&l->conns); o != NULL; o = next) {
		next = TAILQ_NEXT(o, entry);
		if (o != c && o->state == CS_READY) {
			char why[64];

			snprintf(why, sizeof why, "replaced by websocket #%u", c->id);
			log_info("%s: websocket #%u ready; closing #%u", l->name, c->id, o->id);
			ws_conn_close(o, why);
		}
	}
}

void
ws_link_refresh(struct ws_link *l, struct ws_conn *c, const char *why)
{
	if (l->stopping)
		return;
	log_info("%s: websocket #%u: %s: opening a new connection before closing it",
	    l->name, ws_conn_id(c), why ? why : "refresh");
	l->refresh_wanted = true;
	link_schedule(l, true);
}

void
ws_link_penalize(struct ws_link *l, uint64_t min_delay_ms)
{
	uint64_t now = ack_now_ms();

	if (now + min_delay_ms > l->penalty_until)
		l->penalty_until = now + min_delay_ms;
}

int
ws_link_send(struct ws_link *l, const char *data, size_t len)
{
	struct ws_conn *c, *best = NULL;

	TAILQ_FOREACH(c, &l->conns, entry)
		if (c->state == CS_READY)
			best = c;       /* the newest ready one */
	return best != NULL ? ws_conn_send(best, data, len) : -1;
}

bool
ws_link_is_ready(const struct ws_link *l)
{
	return link_has_ready(l);
}

static void
on_link_closed(uv_handle_t *h)
{
	struct ws_link *l = h->data;
	void (*stopped)(void *) = l->stopped;
	void *arg = l->stopped_arg;

	free(l->name);
	free(l->ca_file);
	free(l);
	context_release();
	if (stopped != NULL)
		stopped(arg);
}

static void
link_finish(struct ws_link *l)
{
	struct ws_conn *c;

	if (l->finishing)
		return;
	l->finishing = true;
	while ((c = TAILQ_FIRST(&l->conns)) != NULL) {
		TAILQ_REMOVE(&l->conns, c, entry);
		l->nconns--;
		c->link = NULL;
		log_debug("%s: websocket #%u (%s) left to libwebsockets", l->name, c->id,
		    state_names[c->state]);
		if (c->state == CS_RESOLVING) {
			c->close_requested = true;
			uv_cancel((uv_req_t *)&c->gai);
		} else if (c->wsi != NULL) {
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			kick();
		}
	}
	uv_close((uv_handle_t *)&l->timer, on_link_closed);
}

void
ws_link_stop(struct ws_link *l, void (*stopped)(void *), void *arg)
{
	struct ws_conn *c, *next;

	if (l->stopping)
		return;
	l->stopping = true;
	l->stopped = stopped;
	l->stopped_arg = arg;
	uv_timer_stop(&l->timer);
	l->timer_armed = false;
	for (c = TAILQ_FIRST(&l->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		ws_conn_close(c, "shutting down");
	}
	if (l->nconns == 0) {
		link_finish(l);
		return;
	}
	l->timer_armed = true;
	uv_timer_start(&l->timer, on_link_timer, WS_STOP_GRACE_MS, 0);
}
