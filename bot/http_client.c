/*
 * http_client.c - the libcurl multi interface on the libuv loop.
 *
 * This is curl's multi-uv pattern (design/c-style.md §6.6): curl tells us
 * which sockets to watch through CURLMOPT_SOCKETFUNCTION (one uv_poll_t per
 * socket, attached to the socket with curl_multi_assign and freed in its uv
 * close callback) and when to wake through CURLMOPT_TIMERFUNCTION (one
 * uv_timer_t). Readiness goes back with curl_multi_socket_action, and after
 * every call the completed transfers are drained with curl_multi_info_read.
 * User callbacks run only from that drain, never from inside a curl callback,
 * so they may send, cancel, or close the client.
 */
#include "http_client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include "util.h"

#ifndef ACKBOT_VERSION
#define ACKBOT_VERSION "dev"
#endif

/* One watched socket. */
struct http_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	bool closing;
	struct http_client *c;
	LIST_ENTRY(http_sock) link;
};

struct http_request {
	TAILQ_ENTRY(http_request) link;
	struct http_client *c;
	CURL *easy;
	struct curl_slist *slist;
	char *method;
	char *url;
	char **hnames, **hvalues;
	size_t nh, caph;
	char *body;
	size_t body_len;
	bool has_body;
	uint64_t timeout_ms;
	size_t max_response;
	bool truncate;
	char *ca_file;
	http_done_cb cb;
	void *arg;

	/* The response as it arrives. */
	struct buf resp;
	size_t dropped;
	bool too_big;
	bool headers_too_big;
	struct http_header *rh;
	size_t nrh, caprh;
	size_t header_bytes;
	char *reason;
	char errbuf[CURL_ERROR_SIZE];
	uint64_t start_ms;
};

TAILQ_HEAD(http_request_list, http_request);
LIST_HEAD(http_sock_list, http_sock);

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct http_request_list reqs;
	struct http_sock_list socks;
	size_t nreqs;
	size_t open_handles;    /* the timer plus every poll handle */
	bool closing;
	bool in_cleanup;
	bool in_timer;          /* inside on_timer: a 0 ms wish becomes 1 ms */
	void (*closed)(void *);
	void *closed_arg;
};

static void check_multi_info(struct http_client *c);

const char *
http_result_name(enum http_result r)
{
	switch (r) {
	case HTTP_OK:
		return "ok";
	case HTTP_ERR_CANCELED:
		return "canceled";
	case HTTP_ERR_TIMEOUT:
		return "timeout";
	case HTTP_ERR_CONNECT:
		return "connect";
	case HTTP_ERR_TLS:
		return "tls";
	case HTTP_ERR_TOO_LARGE:
		return "too large";
	case HTTP_ERR_OTHER:
		break;
	}
	return "error";
}

const char *
http_response_header(const struct http_response *r, const char *name)
{
	size_t i;

	for (i = r->nheaders; i > 0; i--)
		if (strcasecmp(r->headers[i - 1].name, name) == 0)
			return r->headers[i - 1].value;
	return NULL;
}

/* --- the uv side: one close path for every handle ------------------------- */

static void
handle_gone(struct http_client *c)
{
	void (*closed)(void *);
	void *arg;

	if (--c->open_handles > 0 || !c->closing)
		return;
	closed = c->closed;
	arg = c->closed_arg;
	free(c);
	if (closed)
		closed(arg);
}

static void
sock_closed(uv_handle_t *h)
{
	struct http_sock *s = h->data;
	struct http_client *c = s->c;

	LIST_REMOVE(s, link);
	free(s);
	handle_gone(c);
}

static void
timer_closed(uv_handle_t *h)
{
	handle_gone(h->data);
}

static void
sock_close(struct http_sock *s)
{
	if (s->closing)
		return;
	s->closing = true;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_closed);
}

/* --- curl -> uv ----------------------------------------------------------- */

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct http_sock *s = h->data;
	struct http_client *c = s->c;
	int flags = 0, running;

	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	} else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	/* s may be closed (not freed) by the socket callback in here. */
	curl_multi_socket_action(c->multi, s->fd, flags, &running);
	check_multi_info(c);
}

static void
on_timer(uv_timer_t *t)
{
	struct http_client *c = t->data;
	int running;

	c->in_timer = true;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	c->in_timer = false;
	check_multi_info(c);
}

/* CURLMOPT_SOCKETFUNCTION */
static int
socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *c = userp;
	struct http_sock *s = socketp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			sock_close(s);
			if (!c->in_cleanup)
				curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->c = c;
		s->fd = fd;
		if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		c->open_handles++;
		LIST_INSERT_HEAD(&c->socks, s, link);
		curl_multi_assign(c->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	if (uv_poll_start(&s->poll, events, on_poll) != 0)
		return -1;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: only (re)arms the timer; calling socket_action from
 * here would recurse into curl. */
static int
timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;

	(void)multi;
	if (c->in_cleanup)
		return 0;
	/*
	 * 0 means "now": a 0 ms uv timer runs on the next pass of the loop,
	 * never from inside this callback (which libcurl forbids). Rounding it
	 * up to 1 ms, as curl's example does, delayed every request (a post
	 * after a command) by up to a millisecond. Only when libcurl asks for 0
	 * from within on_timer is it made 1 ms, since libuv would run a 0 ms
	 * timer started in the timer phase again in the same phase.
	 */
	if (timeout_ms < 0)
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, on_timer,
		    timeout_ms > 0 ? (uint64_t)timeout_ms : c->in_timer ? 1 : 0, 0);
	return 0;
}

/* --- client --------------------------------------------------------------- */

struct http_client *
http_client_new(uv_loop_t *loop)
{
	struct http_client *c = xcalloc(1, sizeof *c);

	c->loop = loop;
	TAILQ_INIT(&c->reqs);
	LIST_INIT(&c->socks);
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		fprintf(stderr, "ackbot: curl_multi_init failed\n");
		abort();
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	c->open_handles = 1;
	return c;
}

size_t
http_client_pending(const struct http_client *c)
{
	return c->nreqs;
}

/* --- requests ------------------------------------------------------------- */

void
http_request_free(struct http_request *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->slist);
	free(r->method);
	free(r->url);
	for (i = 0; i < r->nh; i++) {
		free(r->hnames[i]);
		free(r->hvalues[i]);
	}
	free(r->hnames);
	free(r->hvalues);
	free(r->body);
	free(r->ca_file);
	buf_free(&r->resp);
	for (i = 0; i < r->nrh; i++) {
		free(r->rh[i].name);
		free(r->rh[i].value);
	}
	free(r->rh);
	free(r->reason);
	free(r);
}

static bool
is_tchar(int ch)
{
	return isalnum(ch) || (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

struct http_request *
http_request_new(const char *method, const char *url, char *err, size_t errlen)
{
	struct http_request *r;
	size_t i, n;

	n = method ? strlen(method) : 0;
	if (n == 0 || n > 16) {
		ack_err(err, errlen, "bad HTTP method \"%s\"", method ? method : "");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (!isalpha((unsigned char)method[i])) {
			ack_err(err, errlen, "bad HTTP method \"%s\": letters only", method);
			return NULL;
		}
	}
	if (url == NULL || (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)) {
		ack_err(err, errlen, "URL must start with http:// or https://");
		return NULL;
	}
	for (i = 0; url[i]; i++) {
		unsigned char ch = (unsigned char)url[i];

		if (ch <= 0x20 || ch == 0x7F) {
			ack_err(err, errlen, "URL contains a space or control character");
			return NULL;
		}
	}
	r = xcalloc(1, sizeof *r);
	r->method = xstrdup(method);
	for (i = 0; i < n; i++)
		r->method[i] = (char)toupper((unsigned char)r->method[i]);
	r->url = xstrdup(url);
	r->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	r->max_response = HTTP_DEFAULT_MAX_RESPONSE;
	return r;
}

int
http_request_add_header(struct http_request *r, const char *name,
    const char *value, char *err, size_t errlen)
{
	size_t i;

	if (name == NULL || *name == '\0')
		return ack_err(err, errlen, "empty header name");
	for (i = 0; name[i]; i++)
		if (!is_tchar((unsigned char)name[i]))
			return ack_err(err, errlen,
			    "header name \"%.64s\" has a character not allowed in HTTP", name);
	if (value == NULL)
		value = "";
	if (strpbrk(value, "\r\n") != NULL)
		return ack_err(err, errlen, "value of header %s contains a line break", name);
	if (r->nh == r->caph) {
		size_t cap = r->caph;

		r->hnames = xgrow(r->hnames, &cap, r->nh + 1, sizeof *r->hnames);
		r->hvalues = xgrow(r->hvalues, &r->caph, r->nh + 1, sizeof *r->hvalues);
	}
	r->hnames[r->nh] = xstrdup(name);
	r->hvalues[r->nh] = xstrdup(value);
	r->nh++;
	return 0;
}

bool
http_request_has_header(const struct http_request *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nh; i++)
		if (strcasecmp(r->hnames[i], name) == 0)
			return true;
	return false;
}

void
http_request_set_body(struct http_request *r, const void *data, size_t len)
{
	free(r->body);
	r->body = xmalloc(len + 1);
	if (len)
		memcpy(r->body, data, len);
	r->body[len] = '\0';
	r->body_len = len;
	r->has_body = true;
}

void
http_request_set_timeout(struct http_request *r, uint64_t ms)
{
	r->timeout_ms = ms ? ms : HTTP_DEFAULT_TIMEOUT_MS;
}

void
http_request_set_max_response(struct http_request *r, size_t max)
{
	r->max_response = max ? max : HTTP_DEFAULT_MAX_RESPONSE;
}

void
http_request_set_truncate(struct http_request *r, bool truncate)
{
	r->truncate = truncate;
}

void
http_request_set_ca_file(struct http_request *r, const char *path)
{
	free(r->ca_file);
	r->ca_file = xstrdup(path);
}

/* CURLOPT_WRITEFUNCTION: keeps up to max_response bytes. Returning less than
 * given aborts the transfer (CURLE_WRITE_ERROR). */
static size_t
write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct http_request *r = ud;
	size_t len = size * nmemb, room = r->max_response - r->resp.len;

	if (len <= room) {
		buf_append(&r->resp, p, len);
		return len;
	}
	if (!r->truncate) {
		r->too_big = true;
		return 0;
	}
	buf_append(&r->resp, p, room);
	r->dropped += len - room;
	return len;
}

static char *
trimmed(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' ||
	    p[n - 1] == '\n'))
		n--;
	return xstrndup(p, n);
}

static void
clear_response_headers(struct http_request *r)
{
	size_t i;

	for (i = 0; i < r->nrh; i++) {
		free(r->rh[i].name);
		free(r->rh[i].value);
	}
	r->nrh = 0;
	free(r->reason);
	r->reason = NULL;
}

/* CURLOPT_HEADERFUNCTION: one complete header line per call, the status
 * line included. A new status line (after a 100 Continue, say) starts a new
 * set, so that only the final response's headers are reported. */
static size_t
header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	struct http_request *r = ud;
	size_t len = size * nmemb;
	const char *colon;

	r->header_bytes += len;
	if (r->header_bytes > HTTP_MAX_HEADER_BYTES) {
		r->headers_too_big = true;
		return 0;
	}
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', len), *sp2 = NULL;

		clear_response_headers(r);
		if (sp != NULL)
			sp2 = memchr(sp + 1, ' ', len - (size_t)(sp + 1 - p));
		r->reason = sp2 ? trimmed(sp2 + 1, len - (size_t)(sp2 + 1 - p)) : xstrdup("");
		return len;
	}
	colon = memchr(p, ':', len);
	if (colon == NULL || colon == p)
		return len;
	r->rh = xgrow(r->rh, &r->caprh, r->nrh + 1, sizeof *r->rh);
	r->rh[r->nrh].name = trimmed(p, (size_t)(colon - p));
	r->rh[r->nrh].value = trimmed(colon + 1, len - (size_t)(colon + 1 - p));
	r->nrh++;
	return len;
}

static void
request_unlink(struct http_request *r)
{
	struct http_client *c = r->c;

	curl_multi_remove_handle(c->multi, r->easy);
	TAILQ_REMOVE(&c->reqs, r, link);
	c->nreqs--;
}

static enum http_result
map_result(const struct http_request *r, CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_ERR_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return HTTP_ERR_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
		return HTTP_ERR_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_ERR_TOO_LARGE;
	case CURLE_WRITE_ERROR:
		if (r->too_big || r->headers_too_big)
			return HTTP_ERR_TOO_LARGE;
		return HTTP_ERR_OTHER;
	default:
		return HTTP_ERR_OTHER;
	}
}

/* Reports r to its owner and frees it. r must already be unlinked. */
static void
request_finish(struct http_request *r, enum http_result res, const char *error)
{
	struct http_response resp;
	long status = 0;

	memset(&resp, 0, sizeof resp);
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	resp.result = res;
	resp.status = status;
	resp.reason = r->reason ? r->reason : "";
	if (r->resp.data == NULL)
		buf_append(&r->resp, "", 0);
	resp.body = r->resp.data;
	resp.body_len = r->resp.len;
	resp.body_dropped = r->dropped;
	resp.headers = r->rh;
	resp.nheaders = r->nrh;
	resp.error = error;
	resp.elapsed_ms = ack_now_ms() - r->start_ms;
	if (r->cb)
		r->cb(&resp, r->arg);
	http_request_free(r);
}

static void
request_done(struct http_request *r, CURLcode rc)
{
	enum http_result res = map_result(r, rc);
	char msg[CURL_ERROR_SIZE + 64];
	const char *error = "";
	long oserr = 0;

	request_unlink(r);
	if (res == HTTP_ERR_TOO_LARGE && r->headers_too_big) {
		snprintf(msg, sizeof msg, "response headers larger than %u bytes",
		    (unsigned)HTTP_MAX_HEADER_BYTES);
		error = msg;
	} else if (res == HTTP_ERR_TOO_LARGE) {
		snprintf(msg, sizeof msg, "response body larger than the limit of %zu bytes",
		    r->max_response);
		error = msg;
	} else if (res != HTTP_OK) {
		error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
		/* curl 7.88 says "Couldn't connect to server"; name the cause. */
		curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
		if (res == HTTP_ERR_CONNECT && oserr > 0 &&
		    strstr(error, strerror((int)oserr)) == NULL) {
			snprintf(msg, sizeof msg, "%s (%s)", error, strerror((int)oserr));
			error = msg;
		}
	}
	request_finish(r, res, error);
}

/* Reports every finished transfer. Stops if a callback closed the client
 * (the multi handle is gone then). */
static void
check_multi_info(struct http_client *c)
{
	CURLMsg *msg;
	int left;

	while (!c->closing && (msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct http_request *r = NULL;
		CURLcode rc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		rc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		/* msg is not touched again: remove_handle invalidates it. */
		request_done(r, rc);
	}
}

static int
setup_easy(struct http_request *r, char *err, size_t errlen)
{
	CURL *e = curl_easy_init();
	size_t i;
	bool get = strcmp(r->method, "GET") == 0;

	if (e == NULL)
		return ack_err(err, errlen, "curl_easy_init failed");
	r->easy = e;
	buf_init(&r->resp, r->max_response);
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (r->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "ackbot/" ACKBOT_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	if (!r->truncate)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_response);

	for (i = 0; i < r->nh; i++) {
		/* "Name:" removes curl's header; "Name;" sends an empty one. */
		char *line = r->hvalues[i][0] ?
		    xasprintf("%s: %s", r->hnames[i], r->hvalues[i]) :
		    xasprintf("%s:", r->hnames[i]);

		r->slist = curl_slist_append(r->slist, line);
		free(line);
	}
	/* No "Expect: 100-continue" round trip for larger bodies. */
	if (!http_request_has_header(r, "Expect"))
		r->slist = curl_slist_append(r->slist, "Expect:");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->slist);

	if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (get && !r->has_body) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (r->has_body || strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}
	return 0;
}

int
http_request_send(struct http_client *c, struct http_request *r,
    http_done_cb cb, void *arg, char *err, size_t errlen)
{
	CURLMcode mc;

	if (c->closing) {
		http_request_free(r);
		return ack_err(err, errlen, "the HTTP client is shutting down");
	}
	if (setup_easy(r, err, errlen) != 0) {
		http_request_free(r);
		return -1;
	}
	r->c = c;
	r->cb = cb;
	r->arg = arg;
	r->start_ms = ack_now_ms();
	TAILQ_INSERT_TAIL(&c->reqs, r, link);
	c->nreqs++;
	/* Arms the timer through timer_cb; the transfer starts from the loop. */
	mc = curl_multi_add_handle(c->multi, r->easy);
	if (mc != CURLM_OK) {
		TAILQ_REMOVE(&c->reqs, r, link);
		c->nreqs--;
		ack_err(err, errlen, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
		http_request_free(r);
		return -1;
	}
	/*
	 * Start the transfer now rather than on the next loop pass: a reply
	 * posted just before the bot spawns a process (which blocks the loop
	 * for about a millisecond) is then already on the wire. Completions
	 * are never delivered from here: the 0 ms timer drains them on the
	 * next pass, which keeps "the callback is never called from inside
	 * send". Not from inside on_timer, where libcurl is on the stack.
	 */
	if (!c->in_timer) {
		int running;

		curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		uv_timer_start(&c->timer, on_timer, 0, 0);
	}
	return 0;
}

void
http_request_cancel(struct http_request *r)
{
	if (r == NULL)
		return;
	request_unlink(r);
	http_request_free(r);
}

void
http_client_close(struct http_client *c, void (*closed)(void *), void *arg)
{
	struct http_request *r;
	struct http_sock *s;

	c->closing = true;
	c->closed = closed;
	c->closed_arg = arg;
	/* Callbacks may cancel other requests: always take the first. */
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		request_unlink(r);
		request_finish(r, HTTP_ERR_CANCELED, "client closed");
	}
	/* Cleanup reports CURL_POLL_REMOVE for the cached connections. */
	c->in_cleanup = true;
	curl_multi_cleanup(c->multi);
	c->multi = NULL;
	/* Anything curl did not remove is closed here. */
	LIST_FOREACH(s, &c->socks, link)
		sock_close(s);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, timer_closed);
}

char *
http_url_for_log(const char *url)
{
	const char *auth, *end, *at, *p;
	struct buf b;

	if (url == NULL)
		return xstrdup("");
	buf_init(&b, 0);
	auth = strstr(url, "://");
	auth = auth ? auth + 3 : url;
	buf_append(&b, url, (size_t)(auth - url));
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL)
		auth = at + 1;
	buf_append(&b, auth, (size_t)(end - auth));
	buf_append(&b, end, strcspn(end, "?#"));
	return buf_steal(&b);
}
